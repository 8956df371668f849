"""Routing's published read models (cosmicpython's ``views.py``): what other components may read about work
orders without touching routing's tables. The desk, the REST API and analytics all count with these.

**One definition of a unit's score** (the annual assessment) and of the hotline's order KPIs:

- on-time response / resolution: read from the durable deadlines. A response or resolution deadline that
  *fired* was missed; one cancelled before it fell due was met. Deadlines count on the local day they fell
  due, once settled. An approved extension cancels the old resolution deadline and sets a new one, so it is
  never lateness. A joint case has one response deadline per unit: the hotline-wide rate counts deadlines.
- satisfaction: reached callbacks (not "unreachable") that no approved appeal excluded; satisfied or
  basically satisfied, and not "not solved". Counted on the callback's day, for the lead unit at the time.
- received: lead assignments given to the unit (each dispatch round counts).
- first-contact resolution (一次性办结): a case closed with no redo (回访不满意重办 or reopen) and at most one
  dispatch round (no approved return, no re-dispatch); answers on the spot count. On the closing day.
- callback coverage (回访率): orders resolved by a unit on the day that have at least one reached callback.
- supervision orders (督办件): counted on the day issued; resolved = the order was resolved while it was open.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kernel.sqltime import local_day
from routing.domain.enums import (
    OPEN_STATES,
    AssignmentRole,
    CallbackOutcome,
    DeadlineKind,
    RequestKind,
    RequestStatus,
    SupervisionState,
)
from routing.orm import (
    Category,
    Unit,
    order_alarms,
    order_assignments,
    order_callbacks,
    order_deadlines,
    order_requests,
    order_supervisions,
    work_orders,
)

Dimension = Literal["all", "district", "unit", "category", "channel", "agent"]
DIMENSIONS: tuple[Dimension, ...] = ("all", "district", "unit", "category", "channel", "agent")
OPEN_STATE_VALUES = [s.value for s in OPEN_STATES]

# The additive counts behind every order KPI; rates are computed after summing (never averaged).
ORDER_METRICS = (
    "orders_accepted",
    "orders_urgent",
    "answered_on_the_spot",
    "received",
    "responses_due",
    "responses_late",
    "resolutions_due",
    "resolutions_late",
    "resolved_by_unit",
    "resolved_with_callback",
    "closed",
    "closed_first_contact",
    "callbacks",
    "satisfied",
    "callback_attempts_unreachable",
    "returns",
    "returns_upheld",
    "appeals",
    "supervisions",
    "supervisions_resolved",
)


def _window(column: Any, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if since is not None:
        conds.append(column >= since)
    if until is not None:
        conds.append(column < until)
    return conds


def _dim_column(by: Dimension, unit_column: Any) -> Any:
    w = work_orders.c
    return {
        "all": literal(""),
        "district": func.coalesce(w.district, ""),
        "unit": func.coalesce(unit_column, ""),
        "category": w.category_path,
        "channel": w.channel,
        "agent": w.accepted_by,
    }[by]


def _lead_unit() -> Any:
    """The order's active lead unit (a correlated subquery, for counts by unit of order-level facts)."""
    a = order_assignments.c
    return (
        select(a.unit_code)
        .where(a.order_id == work_orders.c.id, a.active.is_(True), a.role == AssignmentRole.LEAD.value)
        .limit(1)
        .scalar_subquery()
    )


def _key(by: Dimension, value: Any) -> str:
    text = str(getattr(value, "value", value) or "")
    if by == "category":
        return text.split("/", 1)[0]  # the first level of the taxonomy
    return text


FactKey = tuple[int | None, str]
KEY_SEPARATOR = "\x1f"


def order_facts(
    session: Session,
    since: datetime | None,
    until: datetime | None,
    by: Dimension | tuple[Dimension, ...] = "all",
    *,
    per_day: bool = True,
) -> dict[FactKey, Counter[str]]:
    """The additive order counts of :data:`ORDER_METRICS` per (local day index, dimension value).

    ``by`` may name several dimensions (e.g. ``("district", "category", "channel")``): the key then joins
    their values with :data:`KEY_SEPARATOR`, so one pass serves a roll-up of each. With ``per_day=False``
    the day is ``None`` (one row per dimension value over the whole window).
    """
    dims = (by,) if isinstance(by, str) else tuple(by)
    for dim_name in dims:
        if dim_name not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dim_name!r}")
    dialect = session.get_bind().dialect.name
    out: dict[FactKey, Counter[str]] = defaultdict(Counter)
    w = work_orders.c

    def run(stmt_cols: list[Any], time_col: Any, unit_col: Any, select_from: Any, conds: list[Any]) -> None:
        day = local_day(time_col, dialect) if per_day else literal(None)
        dim_cols = [_dim_column(d, unit_col).label(f"dim{i}") for i, d in enumerate(dims)]
        stmt = (
            select(day.label("day"), *dim_cols, *stmt_cols)
            .select_from(select_from)
            .where(*conds)
            .group_by(day, *dim_cols)
        )
        for row in session.execute(stmt):
            m = row._mapping
            key_text = KEY_SEPARATOR.join(_key(d, m[f"dim{i}"]) for i, d in enumerate(dims))
            key = (int(m["day"]) if m["day"] is not None else None, key_text)
            counter = out[key]
            for name in stmt_cols:
                value = m[name.name]
                if value:
                    counter[name.name] += int(value)

    def count_if(cond: Any, name: str) -> Any:
        return func.sum(case((cond, 1), else_=0)).label(name)

    lead = _lead_unit()
    # Orders by the day they were accepted.
    run(
        [
            func.count().label("orders_accepted"),
            count_if(w.urgency == "urgent", "orders_urgent"),
            count_if(w.resolution_kind == "on_the_spot", "answered_on_the_spot"),
        ],
        w.accepted_at,
        lead,
        work_orders,
        _window(w.accepted_at, since, until),
    )
    # Closed orders and first-contact resolution, by the closing day.
    run(
        [
            func.count().label("closed"),
            count_if(and_(w.redo_count == 0, w.dispatch_round <= 1), "closed_first_contact"),
        ],
        w.closed_at,
        lead,
        work_orders,
        [w.closed_at.is_not(None), *_window(w.closed_at, since, until)],
    )
    # Orders a unit resolved, and how many of them the hotline reached at the callback.
    c = order_callbacks.c
    # A probe per resolved order (LIMIT 1 keeps PostgreSQL from hashing every callback ever made instead).
    reached = (
        select(literal(1))
        .where(c.order_id == w.id, c.outcome != CallbackOutcome.UNREACHABLE.value)
        .limit(1)
        .correlate(work_orders)
        .scalar_subquery()
        .is_not(None)
    )
    run(
        [func.count().label("resolved_by_unit"), count_if(reached, "resolved_with_callback")],
        w.resolved_at,
        lead,
        work_orders,
        [
            w.resolved_at.is_not(None),
            w.resolution_kind.in_(["resolved", "merged"]),
            *_window(w.resolved_at, since, until),
        ],
    )
    # Lead assignments received.
    a = order_assignments.c
    run(
        [func.count().label("received")],
        a.assigned_at,
        a.unit_code,
        order_assignments.join(work_orders, a.order_id == w.id),
        [a.role == AssignmentRole.LEAD.value, *_window(a.assigned_at, since, until)],
    )
    # Response and resolution deadlines, settled, by the day they fell due.
    d = order_deadlines.c
    settled = (d.fired_at.is_not(None)) | (d.cancelled_at.is_not(None))
    fired = d.fired_at.is_not(None)
    run(
        [
            count_if(d.kind == DeadlineKind.RESPONSE.value, "responses_due"),
            count_if(and_(d.kind == DeadlineKind.RESPONSE.value, fired), "responses_late"),
            count_if(d.kind == DeadlineKind.RESOLUTION.value, "resolutions_due"),
            count_if(and_(d.kind == DeadlineKind.RESOLUTION.value, fired), "resolutions_late"),
        ],
        d.due_at,
        d.unit_code,
        order_deadlines.join(work_orders, d.order_id == w.id),
        [
            d.kind.in_([DeadlineKind.RESPONSE.value, DeadlineKind.RESOLUTION.value]),
            d.unit_code.is_not(None),
            settled,
            *_window(d.due_at, since, until),
        ],
    )
    # Satisfaction callbacks, by the callback's day, for the unit evaluated.
    good = c.outcome.in_([CallbackOutcome.SATISFIED.value, CallbackOutcome.BASICALLY_SATISFIED.value])
    counted = and_(c.outcome != CallbackOutcome.UNREACHABLE.value, c.excluded_from_scores.is_(False))
    run(
        [
            count_if(counted, "callbacks"),
            count_if(and_(counted, good, c.solved.is_not(False)), "satisfied"),
            count_if(c.outcome == CallbackOutcome.UNREACHABLE.value, "callback_attempts_unreachable"),
        ],
        c.at,
        c.unit_code,
        order_callbacks.join(work_orders, c.order_id == w.id),
        _window(c.at, since, until),
    )
    # Returns (退单) and appeals (申诉), by the day asked.
    r = order_requests.c
    run(
        [
            count_if(r.kind == RequestKind.RETURN.value, "returns"),
            count_if(
                and_(r.kind == RequestKind.RETURN.value, r.status == RequestStatus.APPROVED.value),
                "returns_upheld",
            ),
            count_if(r.kind == RequestKind.APPEAL.value, "appeals"),
        ],
        r.requested_at,
        r.unit_code,
        order_requests.join(work_orders, r.order_id == w.id),
        [
            r.kind.in_([RequestKind.RETURN.value, RequestKind.APPEAL.value]),
            *_window(r.requested_at, since, until),
        ],
    )
    # Supervision orders (督办件), by the day issued.
    s = order_supervisions.c
    run(
        [
            func.count().label("supervisions"),
            count_if(s.state == SupervisionState.RESOLVED.value, "supervisions_resolved"),
        ],
        s.issued_at,
        s.unit_code,
        order_supervisions.join(work_orders, s.order_id == w.id),
        _window(s.issued_at, since, until),
    )
    return dict(out)


@dataclass
class UnitScore:
    """A unit's figures for the annual assessment; the department page and ``/api/scores`` show these."""

    unit_code: str
    unit_name: str
    received: int = 0
    responses_due: int = 0
    responses_late: int = 0
    resolutions_due: int = 0
    resolutions_late: int = 0
    callbacks: int = 0
    satisfied: int = 0
    returns: int = 0
    returns_upheld: int = 0
    appeals: int = 0
    supervisions: int = 0
    supervisions_resolved: int = 0
    yellow_cards: int = 0  # warnings before a deadline (黄牌预警)
    red_cards: int = 0  # deadlines missed (红牌警示)
    extra: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def on_time_response_rate(self) -> float | None:
        return None if not self.responses_due else 1 - self.responses_late / self.responses_due

    @property
    def on_time_resolution_rate(self) -> float | None:
        return None if not self.resolutions_due else 1 - self.resolutions_late / self.resolutions_due

    @property
    def satisfaction_rate(self) -> float | None:
        return None if not self.callbacks else self.satisfied / self.callbacks

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        data.update(
            on_time_response_rate=self.on_time_response_rate,
            on_time_resolution_rate=self.on_time_resolution_rate,
            satisfaction_rate=self.satisfaction_rate,
        )
        return data


_SCORE_FIELDS = (
    "received",
    "responses_due",
    "responses_late",
    "resolutions_due",
    "resolutions_late",
    "callbacks",
    "satisfied",
    "returns",
    "returns_upheld",
    "appeals",
    "supervisions",
    "supervisions_resolved",
)


def unit_scores(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    unit_code: str | None = None,
) -> list[UnitScore]:
    """Every unit's score over the window (or one unit's), from :func:`order_facts` by unit."""
    names = dict(session.execute(select(Unit.code, Unit.name)).tuples().all())
    facts = order_facts(session, since, until, "unit", per_day=False)
    scores: list[UnitScore] = []
    for (_day, code), counts in sorted(facts.items(), key=lambda kv: kv[0][1]):
        if not code or (unit_code is not None and code != unit_code):
            continue
        score = UnitScore(code, names.get(code, code))
        for name in _SCORE_FIELDS:
            setattr(score, name, counts.get(name, 0))
        score.extra = dict(counts)
        scores.append(score)
    if unit_code is not None and not scores:
        scores.append(UnitScore(unit_code, names.get(unit_code, unit_code)))
    _add_cards(session, scores, since, until, unit_code, names)
    return scores


def _add_cards(
    session: Session,
    scores: list[UnitScore],
    since: datetime | None,
    until: datetime | None,
    unit_code: str | None,
    names: dict[str, str],
) -> None:
    """Yellow and red cards issued to each unit in the window (rules of routing.domain.escalation)."""
    from routing.domain.enums import CardColor
    from routing.orm import order_cards

    k = order_cards.c
    by_code = {s.unit_code: s for s in scores}
    query = select(k.unit_code, k.color, func.count()).where(*_window(k.issued_at, since, until))
    if unit_code is not None:
        query = query.where(k.unit_code == unit_code)
    for code, color, total in session.execute(query.group_by(k.unit_code, k.color)).all():
        if code not in by_code:
            by_code[code] = UnitScore(code, names.get(code, code))
            scores.append(by_code[code])
        setattr(by_code[code], f"{CardColor(color).value}_cards", int(total))
    scores.sort(key=lambda s: s.unit_code)


# ---- small read models for the big screen and analytics -------------------------------------------------
@dataclass(frozen=True)
class OrderBrief:
    """What analytics may know of an order to find hot events: no name, no phone."""

    number: str
    accepted_at: datetime
    district: str | None
    location_text: str
    category_path: str
    title: str
    description: str
    state: str
    merged_into: str | None
    resolution_kind: str | None = None


def order_briefs(session: Session, since: datetime, until: datetime, limit: int = 20000) -> list[OrderBrief]:
    w = work_orders.c
    rows = session.execute(
        select(
            w.number,
            w.accepted_at,
            w.district,
            w.location_text,
            w.category_path,
            w.title,
            w.description,
            w.state,
            w.merged_into,
            w.resolution_kind,
        )
        .where(w.accepted_at >= since, w.accepted_at < until)
        .order_by(w.accepted_at)
        .limit(limit)
    ).all()
    return [
        OrderBrief(
            r.number,
            r.accepted_at,
            r.district,
            r.location_text,
            r.category_path,
            r.title,
            r.description,
            str(getattr(r.state, "value", r.state)),
            r.merged_into,
            r.resolution_kind,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class CallerOrder:
    """An order with its caller's number, for the migratory-bird analysis (number never leaves analytics)."""

    accepted_at: datetime
    phone: str
    location_text: str
    district: str | None
    description: str


def caller_orders(session: Session, since: datetime, until: datetime) -> Iterable[CallerOrder]:
    w = work_orders.c
    for r in session.execute(
        select(w.accepted_at, w.citizen_phone, w.location_text, w.district, w.description)
        .where(w.accepted_at >= since, w.accepted_at < until)
        .execution_options(yield_per=5000)
    ):
        yield CallerOrder(r.accepted_at, r.citizen_phone, r.location_text, r.district, r.description)


def count_by(
    session: Session, by: Dimension, since: datetime, until: datetime, limit: int = 10
) -> list[tuple[str, int]]:
    """Orders accepted in the window by a dimension, largest first (for top-N panels)."""
    facts = order_facts_accepted(session, since, until, by)
    return sorted(facts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def order_facts_accepted(session: Session, since: datetime, until: datetime, by: Dimension) -> dict[str, int]:
    """Only the accepted counts by a dimension (one query; the big screen refreshes it often)."""
    w = work_orders.c
    dim = _dim_column(by, _lead_unit())
    out: Counter[str] = Counter()
    for value, n in session.execute(
        select(dim, func.count()).where(w.accepted_at >= since, w.accepted_at < until).group_by(dim)
    ):
        out[_key(by, value)] += int(n)
    return dict(out)


def accepted_per_bucket(session: Session, since: datetime, until: datetime, seconds: int) -> dict[int, int]:
    from kernel.sqltime import bucket

    w = work_orders.c
    b = bucket(w.accepted_at, session.get_bind().dialect.name, seconds)
    return {
        int(k): int(n)
        for k, n in session.execute(
            select(b, func.count()).where(w.accepted_at >= since, w.accepted_at < until).group_by(b)
        )
    }


@dataclass(frozen=True)
class UnitBacklog:
    unit_code: str
    unit_name: str
    open_orders: int
    response_overdue: int
    resolution_overdue: int


def backlog_by_unit(session: Session, now: datetime) -> list[UnitBacklog]:
    """Open orders per lead unit with those past their response or resolution time, worst first.

    Driven from the open orders (a few thousand, found by the state index) with each one's lead unit looked up
    by its order id, rather than joining every active lead assignment ever made (one per order in history):
    on a month of Haikou history that is 5 k index lookups instead of scanning 130 k assignments."""
    w, a = work_orders.c, order_assignments.c
    names = dict(session.execute(select(Unit.code, Unit.name)).tuples().all())
    lead_unit = (
        select(a.unit_code)
        .where(a.order_id == w.id, a.active.is_(True), a.role == AssignmentRole.LEAD.value)
        .limit(1)
        .correlate(work_orders)
        .scalar_subquery()
    )
    open_orders = (
        select(
            lead_unit.label("unit_code"),
            case((and_(w.responded_at.is_(None), w.response_due_at < now), 1), else_=0).label(
                "response_late"
            ),
            case((w.resolution_due_at < now, 1), else_=0).label("resolution_late"),
        )
        .where(w.state.in_(OPEN_STATE_VALUES))
        .subquery()
    )
    o = open_orders.c
    rows = session.execute(
        select(o.unit_code, func.count(), func.sum(o.response_late), func.sum(o.resolution_late)).group_by(
            o.unit_code
        )
    ).all()
    out = [
        UnitBacklog(code, names.get(code, code), int(n), int(r or 0), int(s or 0))
        for code, n, r, s in rows
        if code is not None
    ]
    return sorted(
        out, key=lambda u: (-u.response_overdue, -u.resolution_overdue, -u.open_orders, u.unit_code)
    )


@dataclass(frozen=True)
class AlarmBrief:
    order_number: str
    kind: str
    level: int
    unit_code: str | None
    message_zh: str
    message_en: str
    raised_at: datetime


def recent_hotline_alarms(session: Session, since: datetime, limit: int = 20) -> list[AlarmBrief]:
    """Uncleared alarms addressed to the hotline or above (a response breach raises one to the unit too)."""
    al = order_alarms.c
    rows = session.execute(
        select(
            al.kind, al.level, al.unit_code, al.message_zh, al.message_en, al.raised_at, work_orders.c.number
        )
        .join(work_orders, al.order_id == work_orders.c.id)
        .where(
            al.raised_at >= since,
            al.cleared_at.is_(None),
            (al.addressed_to == "hotline") | (al.kind != "response_breach"),
        )
        .order_by(al.raised_at.desc(), al.id.desc())
        .limit(limit)
    ).all()
    return [
        AlarmBrief(r.number, str(r.kind), r.level, r.unit_code, r.message_zh, r.message_en, r.raised_at)
        for r in rows
    ]


def known_units(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Unit.code, Unit.name)).tuples().all())


def unit_districts(session: Session) -> dict[str, str | None]:
    return dict(session.execute(select(Unit.code, Unit.district)).tuples().all())


def category_level1(session: Session) -> list[str]:
    return sorted({c for (c,) in session.execute(select(Category.level1).distinct())})


def has_orders_other_than(session: Session, external_ref_prefix: str) -> bool:
    """True when some order was not written by the demo generator (its rows carry the prefix)."""
    w = work_orders.c
    found = session.execute(
        select(w.id)
        .where((w.external_ref.is_(None)) | (~w.external_ref.startswith(external_ref_prefix)))
        .limit(1)
    ).first()
    return found is not None


def first_order_at(session: Session) -> datetime | None:
    value: datetime | None = session.scalar(select(func.min(work_orders.c.accepted_at)))
    return value


def category_paths(session: Session) -> dict[str, list[str]]:
    """Taxonomy leaves by first level: {"城乡建设": ["城乡建设/…/…", …]}."""
    out: dict[str, list[str]] = defaultdict(list)
    for level1, path in session.execute(select(Category.level1, Category.path).order_by(Category.id)):
        out[level1].append(path)
    return dict(out)


def training_texts() -> list[tuple[str, str]]:
    """(first-level category, message) pairs of the packaged training messages (real citizens' words)."""
    from routing.suggest.dataset import read_messages

    return [(m.category, m.text) for m in read_messages()]


@dataclass(frozen=True)
class PlaceWords:
    """The place names of streets and towns and the keywords of the urgent classes, as the dispatcher uses
    them: enough for analytics to group orders by street and by urgent problem."""

    places: tuple[tuple[str, str], ...]  # (word, street or town unit code), longest word first
    urgent: tuple[tuple[str, str], ...]  # (keyword, urgent class code)

    def street_of(self, location_text: str) -> str | None:
        return next((code for word, code in self.places if word in location_text), None)

    def urgent_class(self, text: str) -> str | None:
        return next((code for word, code in self.urgent if word in text), None)


def place_words(session: Session) -> PlaceWords:
    from routing.orm import UrgentClass

    places: list[tuple[str, str]] = []
    for unit in session.scalars(select(Unit).where(Unit.kind.in_(["street", "town"]), Unit.active.is_(True))):
        places += [(word, unit.code) for word in (unit.name, *unit.keywords) if word]
    urgent = [(k, u.code) for u in session.scalars(select(UrgentClass)) for k in u.keywords if k]
    places.sort(key=lambda p: -len(p[0]))
    return PlaceWords(tuple(places), tuple(urgent))


def order_states(session: Session, numbers: list[str]) -> dict[str, tuple[str, str | None]]:
    """number → (state, merged_into) for the given orders."""
    w = work_orders.c
    rows = session.execute(select(w.number, w.state, w.merged_into).where(w.number.in_(numbers)))
    return {r.number: (str(getattr(r.state, "value", r.state)), r.merged_into) for r in rows}
