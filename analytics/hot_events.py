"""Hot events (热点事件): many callers about one problem in one place within a short time, found as they
arrive so that a supervisor can merge them (并单, 国办函〔2025〕66号) under one master order.

Two orders are about the same problem when they are in the same compound (or, without one, the same
address) of one street or town (routing's place names), within the window (2 hours), and either their
descriptions are alike (character-bigram Jaccard ≥ 0.65: Chinese needs no word segmentation for this) or
they name the same urgent problem (停电, 积水 … routing's urgent-class keywords) within the hour. At Haikou's
volume a street sees the same everyday complaint from different buildings every hour, so the place is the
compound; a power cut across a street shows up as one event per compound. Linked orders form a cluster; five or more make a hot event. Detection is pure
(:func:`detect`), run live on each new order by :func:`watch`, and in bulk over history by :func:`scan`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.migratory import compound_of
from analytics.orm import HotEventRow
from analytics.wiring import AnalyticsParts
from kernel.events import wire
from routing.domain.events import WorkOrderAccepted
from routing.views import OrderBrief, PlaceWords, order_briefs, place_words

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=2)
MIN_SIZE = 5
SIMILARITY = 0.65
URGENT_WINDOW = timedelta(hours=1)  # an urgent problem (停电) links callers within the hour
_PUNCT = re.compile(r"[\s，。、！？；：,.!?;:（）()“”\"'…]+")


@wire("analytics.hot_event_detected")
@dataclass(frozen=True)
class HotEventDetected:
    """Published on the bus when a hot event appears or grows (the supervisor's screens alert live)."""

    event_id: int
    place: str
    summary: str
    size: int
    at: datetime


@dataclass
class Cluster:
    key: str  # the street or town (unit code), or the address when none is known
    members: list[OrderBrief] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        return [m.number for m in self.members]

    @property
    def signature(self) -> str:
        return f"{self.key}:{self.members[0].number}"

    def place(self) -> str:
        """The most frequent address of the cluster, without the city's name."""
        where = Counter(m.location_text.replace("海口市", "").strip() for m in self.members)
        return (where.most_common(1)[0][0] or self.members[0].district or "")[:60]

    def summary(self) -> str:
        chunks = _PUNCT.split(self.members[0].description.strip())
        return max(chunks, key=len)[:60] or self.members[0].title[:60]  # the longest clause says most


def bigrams(text: str) -> frozenset[str]:
    clean = _PUNCT.sub("", text)
    return frozenset(clean[i : i + 2] for i in range(len(clean) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def detect(
    orders: Iterable[OrderBrief],
    places: PlaceWords,
    window: timedelta = WINDOW,
    min_size: int = MIN_SIZE,
    similarity: float = SIMILARITY,
) -> list[Cluster]:
    """Clusters of at least ``min_size`` orders about one problem in one street within ``window``."""
    by_place: dict[str, list[OrderBrief]] = defaultdict(list)
    for order in orders:
        # A consultation answered on the spot is not a problem on the ground; merged orders are handled.
        if order.merged_into is None and order.resolution_kind != "on_the_spot":
            by_place[places.street_of(order.location_text) or order.location_text].append(order)
    clusters: list[Cluster] = []
    for key, group in by_place.items():
        if len(group) < min_size:
            continue
        group.sort(key=lambda o: o.accepted_at)
        grams = [bigrams(o.description) for o in group]
        # Alike texts link only within one compound (or one address): at Haikou's volume a street sees the
        # same everyday complaint from different buildings every hour; one problem is usually one place.
        spots = [compound_of(o.location_text, places) or o.location_text for o in group]
        urgent = [places.urgent_class(o.description) for o in group]
        parent = list(range(len(group)))
        find = _finder(parent)
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                if group[j].accepted_at - group[i].accepted_at > window:
                    break
                if spots[i] != spots[j]:
                    continue
                close = group[j].accepted_at - group[i].accepted_at <= URGENT_WINDOW
                one_problem = close and urgent[i] is not None and urgent[i] == urgent[j]
                same = one_problem or jaccard(grams[i], grams[j]) >= similarity
                if same:
                    parent[find(j)] = find(i)
        members: dict[int, list[OrderBrief]] = defaultdict(list)
        for i, order in enumerate(group):
            members[find(i)].append(order)
        clusters += [Cluster(key, m) for m in members.values() if len(m) >= min_size]
    return sorted(clusters, key=lambda c: c.members[0].accepted_at)


def _finder(parent: list[int]) -> Any:
    """Union-find's root lookup with path halving over ``parent``."""

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    return find


# ---- the stored events -------------------------------------------------------------------------------
@dataclass(frozen=True)
class HotEvent:
    id: int
    detected_at: datetime
    window_start: datetime
    window_end: datetime
    district: str | None
    place: str
    summary: str
    category: str
    order_numbers: list[str]
    size: int
    state: str
    master_number: str | None
    decided_by: str | None
    decided_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def _event(row: HotEventRow) -> HotEvent:
    return HotEvent(
        row.id,
        row.detected_at,
        row.window_start,
        row.window_end,
        row.district,
        row.place,
        row.summary,
        row.category,
        list(row.order_numbers),
        row.size,
        row.state,
        row.master_number,
        row.decided_by,
        row.decided_at,
    )


def list_events(session: Session, state: str = "open", limit: int = 50) -> list[HotEvent]:
    query = select(HotEventRow).order_by(HotEventRow.window_end.desc()).limit(limit)
    if state != "all":
        query = query.where(HotEventRow.state == state)
    return [_event(r) for r in session.scalars(query)]


def get_event(session: Session, event_id: int) -> HotEvent | None:
    row = session.get(HotEventRow, event_id)
    return _event(row) if row else None


def store(session: Session, clusters: list[Cluster], now: datetime) -> list[tuple[HotEvent, bool]]:
    """Insert new clusters and grow known ones (an event keeps the signature of its first order).
    Returns (event, changed) pairs."""
    out: list[tuple[HotEvent, bool]] = []
    for cluster in clusters:
        row = session.scalar(select(HotEventRow).where(HotEventRow.signature == cluster.signature))
        if row is None:
            row = HotEventRow(
                signature=cluster.signature,
                detected_at=now,
                window_start=cluster.members[0].accepted_at,
                window_end=cluster.members[-1].accepted_at,
                district=cluster.members[0].district,
                place=cluster.place()[:200],
                category=cluster.members[0].category_path[:200],
                summary=cluster.summary(),
                order_numbers=cluster.numbers,
                size=len(cluster.members),
                state="open",
            )
            session.add(row)
            session.flush()
            out.append((_event(row), True))
        elif row.state == "open" and set(cluster.numbers) - set(row.order_numbers):
            row.order_numbers = sorted(set(row.order_numbers) | set(cluster.numbers))
            row.size = len(row.order_numbers)
            row.window_end = max(row.window_end, cluster.members[-1].accepted_at)
            out.append((_event(row), True))
    return out


def decide(
    session: Session,
    event_id: int,
    state: str,
    by: str,
    now: datetime,
    master: str | None = None,
    note: str = "",
) -> None:
    """Record a supervisor's decision on an event: merged (under ``master``), dismissed, or open again."""
    row = session.get(HotEventRow, event_id)
    if row is None:
        return
    row.state = state
    row.master_number = master
    row.decided_by = by
    row.decided_at = now
    row.note = note[:500]


def scan(parts: AnalyticsParts, since: datetime, until: datetime, *, save: bool = True) -> list[Cluster]:
    """Detect over a stretch of history, a day at a time with a two-hour overlap."""
    found: dict[str, Cluster] = {}
    with parts.session_factory() as session:
        places = place_words(session)
        start = since
        while start < until:
            end = min(until, start + timedelta(days=1))
            for c in detect(order_briefs(session, start - WINDOW, end, limit=200_000), places):
                known = found.get(c.signature)
                if known is None or len(c.members) > len(known.members):
                    found[c.signature] = c
            start = end
    clusters = _dedupe(list(found.values()))
    if save:
        with parts.write_session_factory() as session, session.begin():
            store(session, clusters, parts.clock.now())
    return clusters


def _dedupe(clusters: list[Cluster]) -> list[Cluster]:
    """Overlapping windows find the same event twice; keep the larger of two that share orders."""
    kept: list[Cluster] = []
    seen: set[str] = set()
    for c in sorted(clusters, key=lambda c: -len(c.members)):
        if seen & set(c.numbers):
            continue
        seen |= set(c.numbers)
        kept.append(c)
    return sorted(kept, key=lambda c: c.members[0].accepted_at)


class HotEventWatcher:
    """Looks for hot events around new orders, off the intake's path.

    New orders are noted as their ``WorkOrderAccepted`` events arrive (from any process, through the
    broker); every ``debounce_s`` at most, one scan of the last two hours looks at the clusters that hold
    one of them, stores them and alerts supervisors (``HotEventDetected``). One process runs it (the
    scheduler role, under a lease), so a scan never competes with an intake for the database and two
    processes never report the same event."""

    def __init__(self, parts: AnalyticsParts, *, debounce_s: float = 2.0) -> None:
        self.parts = parts
        self.debounce_s = debounce_s
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def install(self) -> HotEventWatcher:
        self.parts.bus.subscribe(WorkOrderAccepted, self.on_accepted)
        return self

    def on_accepted(self, event: WorkOrderAccepted) -> None:
        with self._lock:
            self._pending.add(event.order_number)
        self._wake.set()

    def scan_pending(self) -> list[HotEvent]:
        """One scan for the orders noted since the last one; returns the events found new."""
        with self._lock:
            numbers, self._pending = self._pending, set()
        self._wake.clear()
        if not numbers:
            return []
        parts = self.parts
        now = parts.clock.now()
        with parts.session_factory() as session:
            places = place_words(session)
            clusters = [
                c
                for c in detect(order_briefs(session, now - WINDOW, now + timedelta(seconds=1)), places)
                if numbers & set(c.numbers)
            ]
        if not clusters:
            return []
        with parts.write_session_factory() as session, session.begin():
            changed = store(session, clusters, now)
        fresh = [hot for hot, is_new in changed if is_new]
        for hot in fresh:
            parts.bus.publish(HotEventDetected(hot.id, hot.place, hot.summary, hot.size, now))
        return fresh

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set: wait for new orders, let a burst settle, scan."""
        while not stop.is_set():
            if not self._wake.wait(timeout=0.5):
                continue
            if stop.wait(self.debounce_s):
                return
            try:
                self.scan_pending()
            except Exception:
                log.exception("hot-event detection failed; the next new order tries again")
