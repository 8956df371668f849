"""The transactional outbox: events written in the transaction that makes the change, published after it.

``Outbox.stage(session, events)`` inserts one row per wire event in the caller's transaction; after the
commit, ``Outbox.publish(staged)`` hands the events to the bus (this process's handlers, and the other
processes through the broker) and marks the rows sent. A crash between commit and publish leaves rows
unsent: ``Outbox.sweep()`` (run at start-up and by the scheduler role) publishes rows older than a few
seconds that nobody marked, so an event is never lost — at worst delivered twice (handlers are
idempotent: they upsert, or ignore what they have seen). A rolled-back change writes no row, so no event
is ever sent for a change that did not happen.

Events that are not wire events (in-process only) skip the table and are published after the commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, select, update
from sqlalchemy.orm import Session, sessionmaker

from kernel import metrics
from kernel.bus import EventBus
from kernel.db import UTCDateTime, metadata
from kernel.events import WireError, decode, encode, wire_type

log = logging.getLogger(__name__)

event_outbox = Table(
    "event_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("type", String(96), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime(), nullable=True),
    Index("ix_event_outbox_unsent", "created_at", postgresql_where="published_at IS NULL"),
)

ORIGIN = "outbox"


@dataclass
class Staged:
    """Events of one committed unit of work: (outbox row id or None, event)."""

    items: list[tuple[int | None, Any]] = field(default_factory=list)

    def numbered(self, ids: Iterable[int]) -> None:
        """The ids of the inserted rows, in the order ``Outbox.rows`` returned them."""
        it = iter(ids)
        self.items = [(next(it) if row_id == -1 else None, ev) for row_id, ev in self.items]


class Outbox:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        bus: EventBus,
        now: Callable[[], datetime],
        *,
        sweep_after: timedelta = timedelta(seconds=5),
    ) -> None:
        self.session_factory = session_factory
        self.bus = bus
        self.now = now
        self.sweep_after = sweep_after
        self._to_mark: list[int] = []
        self._lock = threading.Lock()

    def stage(self, session: Session, events: Iterable[Any]) -> Staged:
        """In the caller's transaction: one row per wire event (one round trip for all of them)."""
        rows, staged = self.rows(events)
        if rows:
            ids = list(
                session.scalars(
                    event_outbox.insert().returning(event_outbox.c.id, sort_by_parameter_order=True), rows
                )
            )
            staged.numbered(ids)
        return staged

    def rows(self, events: Iterable[Any]) -> tuple[list[dict[str, Any]], Staged]:
        """The outbox rows for ``events`` (wire events only), for a caller that inserts them itself in its
        own statement; it then hands the new row ids, in row order, to ``Staged.numbered``."""
        staged = Staged()
        rows: list[dict[str, Any]] = []
        for event in events:
            entry = wire_type(event)
            if entry is None:
                staged.items.append((None, event))
                continue
            rows.append(
                {"type": entry.name, "payload": encode(event, ORIGIN).decode(), "created_at": self.now()}
            )
            staged.items.append((-1, event))
        return rows, staged

    def publish(self, staged: Staged) -> None:
        """After the commit: deliver, then remember the rows to mark (marked in batches by ``mark``)."""
        for row_id, event in staged.items:
            self.bus.publish(event)
            if row_id is not None:
                with self._lock:
                    self._to_mark.append(row_id)
        metrics.OUTBOX_UNSENT.set(len(self._to_mark))
        if len(self._to_mark) >= 200:
            self.mark()

    def mark(self) -> int:
        """Mark published rows as sent (one UPDATE for the lot); returns how many."""
        with self._lock:
            ids, self._to_mark = self._to_mark, []
        metrics.OUTBOX_UNSENT.set(0)
        if not ids:
            return 0
        try:
            with self.session_factory() as session, session.begin():
                session.execute(
                    update(event_outbox).where(event_outbox.c.id.in_(ids)).values(published_at=self.now())
                )
        except Exception:
            log.exception("could not mark %d outbox rows; the sweep will send them again", len(ids))
            return 0
        return len(ids)

    def sweep(self, limit: int = 500) -> int:
        """Publish rows that nobody marked (their process died after the commit). Several processes may
        sweep at once: each row is claimed with SKIP LOCKED on PostgreSQL."""
        self.mark()
        cutoff = self.now() - self.sweep_after
        sent = 0
        with self.session_factory() as session, session.begin():
            rows: Sequence[Any] = session.execute(
                select(event_outbox.c.id, event_outbox.c.payload)
                .where(event_outbox.c.published_at.is_(None), event_outbox.c.created_at < cutoff)
                .order_by(event_outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row_id, payload in rows:
                try:
                    event = decode(payload.encode()).event
                except WireError as exc:
                    log.error("outbox row %s cannot be read (%s); marked sent to stop retrying", row_id, exc)
                else:
                    self.bus.publish(event)
                    sent += 1
            if rows:
                session.execute(
                    update(event_outbox)
                    .where(event_outbox.c.id.in_([r[0] for r in rows]))
                    .values(published_at=self.now())
                )
        if sent:
            log.warning("outbox sweep: published %d event(s) a process left unsent", sent)
        return sent

    def purge(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Delete sent rows older than ``older_than`` (the scheduler role runs it now and then)."""
        cutoff = self.now() - older_than
        with self.session_factory() as session, session.begin():
            result = session.execute(
                event_outbox.delete().where(
                    event_outbox.c.published_at.is_not(None), event_outbox.c.published_at < cutoff
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)
