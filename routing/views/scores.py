"""Unit scores (the annual assessment), from the order counts of ``routing.views.facts``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.orm import (
    Unit,
)
from routing.views.facts import (
    _window,
    order_facts,
)


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
