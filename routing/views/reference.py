"""Reference data other components read: units, districts, categories, place words, order states."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.orm import (
    Category,
    Unit,
    work_orders,
)


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
