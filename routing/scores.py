"""Per-unit scores for the annual assessment: on-time response and resolution, satisfaction, returns,
disputes, supervision orders, and yellow and red cards.

Lateness is read from the durable deadlines themselves: a response or resolution deadline that fired was
missed. An approved extension cancels the old resolution deadline and sets a new one, so approved
extensions never count as late. Callbacks excluded by an approved appeal do not count in satisfaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from routing.domain.enums import CallbackOutcome, CardColor, DeadlineKind, RequestKind, RequestStatus
from routing.orm import (
    Unit,
    order_callbacks,
    order_cards,
    order_deadlines,
    order_requests,
    order_supervisions,
)


@dataclass
class UnitScore:
    unit_code: str
    unit_name: str
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
    yellow_cards: int = 0  # warnings before a deadline (黄牌预警)
    red_cards: int = 0  # deadlines missed (红牌警示)

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
        data.update(
            on_time_response_rate=self.on_time_response_rate,
            on_time_resolution_rate=self.on_time_resolution_rate,
            satisfaction_rate=self.satisfaction_rate,
        )
        return data


def _window(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    conds = []
    if since is not None:
        conds.append(column >= since)
    if until is not None:
        conds.append(column < until)
    return conds


def unit_scores(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> list[UnitScore]:
    names: dict[str, str] = {code: name for code, name in session.execute(select(Unit.code, Unit.name))}
    scores: dict[str, UnitScore] = {}

    def score(code: str) -> UnitScore:
        if code not in scores:
            scores[code] = UnitScore(code, names.get(code, code))
        return scores[code]

    d = order_deadlines
    settled = (d.c.fired_at.is_not(None)) | (d.c.cancelled_at.is_not(None))
    for kind, due_attr, late_attr in (
        (DeadlineKind.RESPONSE, "responses_due", "responses_late"),
        (DeadlineKind.RESOLUTION, "resolutions_due", "resolutions_late"),
    ):
        rows = session.execute(
            select(d.c.unit_code, func.count(), func.sum(case((d.c.fired_at.is_not(None), 1), else_=0)))
            .where(d.c.kind == kind, settled, *_window(d.c.due_at, since, until))
            .group_by(d.c.unit_code)
        ).all()
        for unit_code, due, late in rows:
            if unit_code:
                setattr(score(unit_code), due_attr, int(due))
                setattr(score(unit_code), late_attr, int(late or 0))
    c = order_callbacks
    good = c.c.outcome.in_([CallbackOutcome.SATISFIED, CallbackOutcome.BASICALLY_SATISFIED])
    for unit_code, total, satisfied in session.execute(
        select(
            c.c.unit_code, func.count(), func.sum(case((and_(good, c.c.solved.is_not(False)), 1), else_=0))
        )
        .where(
            c.c.outcome != CallbackOutcome.UNREACHABLE,
            c.c.excluded_from_scores.is_(False),
            *_window(c.c.at, since, until),
        )
        .group_by(c.c.unit_code)
    ).all():
        if unit_code:
            score(unit_code).callbacks = int(total)
            score(unit_code).satisfied = int(satisfied or 0)
    r = order_requests
    for unit_code, kind, total, upheld in session.execute(
        select(
            r.c.unit_code,
            r.c.kind,
            func.count(),
            func.sum(case((r.c.status == RequestStatus.APPROVED, 1), else_=0)),
        )
        .where(
            r.c.kind.in_([RequestKind.RETURN, RequestKind.APPEAL]), *_window(r.c.requested_at, since, until)
        )
        .group_by(r.c.unit_code, r.c.kind)
    ).all():
        s = score(unit_code)
        if kind == RequestKind.RETURN:
            s.returns, s.returns_upheld = int(total), int(upheld or 0)
        else:
            s.appeals = int(total)
    s_ = order_supervisions
    for unit_code, total in session.execute(
        select(s_.c.unit_code, func.count())
        .where(*_window(s_.c.issued_at, since, until))
        .group_by(s_.c.unit_code)
    ).all():
        score(unit_code).supervisions = int(total)
    k = order_cards
    for unit_code, color, total in session.execute(
        select(k.c.unit_code, k.c.color, func.count())
        .where(*_window(k.c.issued_at, since, until))
        .group_by(k.c.unit_code, k.c.color)
    ).all():
        setattr(score(unit_code), f"{CardColor(color).value}_cards", int(total))
    return sorted(scores.values(), key=lambda s: s.unit_code)
