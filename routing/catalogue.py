"""Dispatch catalogue editions (派单目录) in the database: loading an edition from the catalogue files, listing
the editions, and building the dispatcher of the edition in force at a given time.

An edition is the pair of files ``category_units.yaml`` (each category's unit) and ``dispatch_rules.yaml``
(keyword rules), resolved against the taxonomy and the unit directory when loaded, and kept with its
version and effective date. ``hotline seed`` loads the edition the shipped files declare in their
``catalogue:`` header; ``hotline catalogue load`` loads another one, usually ahead of its date. An edition
in force is never changed: a correction is a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.dispatch import CategoryInfo, Dispatcher, KeywordRule, UnitInfo, UrgentInfo
from routing.domain.catalogue import CatalogueEdition, edition_in_force
from routing.domain.errors import Conflict, InvalidInput
from routing.orm import (
    CatalogueEntry,
    CatalogueRule,
    Category,
    DispatchCatalogue,
    DispatchRule,
    Unit,
    UrgentClass,
)
from routing.reference import read_keyword_rules, resolve_categories


@dataclass(frozen=True)
class EditionHeader:
    version: str
    effective_from: datetime
    note: str = ""


def edition_header(categories_yaml: Path) -> EditionHeader | None:
    """The ``catalogue: {version, effective_from, note}`` header of a category → unit file, if it has one."""
    with categories_yaml.open(encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    head = doc.get("catalogue") if isinstance(doc, dict) else None
    if not isinstance(head, dict):
        return None
    return EditionHeader(
        _version(str(head.get("version") or "")),
        _effective(head.get("effective_from")),
        str(head.get("note") or ""),
    )


def _version(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 32:
        raise InvalidInput("目录版本号须为 1 至 32 个字符", "a catalogue version is 1 to 32 characters")
    return value


def _effective(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise InvalidInput(
                "生效时间格式无效（如 2027-01-01T00:00:00+08:00）",
                "effective_from must be an ISO date-time such as 2027-01-01T00:00:00+08:00",
            ) from exc
    if parsed.tzinfo is None:
        raise InvalidInput("生效时间须带时区（如 +08:00）", "effective_from needs a time zone (e.g. +08:00)")
    return parsed.astimezone(UTC)


def load_edition(
    session: Session,
    header: EditionHeader,
    taxonomy_csv: Path,
    categories_yaml: Path,
    rules_yaml: Path,
    *,
    now: datetime,
    loaded_by: str,
) -> tuple[DispatchCatalogue, bool]:
    """Load (or, before its date, replace) an edition; returns it and whether anything changed. Reloading an
    edition in force with the same content changes nothing; with other content it is refused."""
    unit_codes = set(session.scalars(select(Unit.code)))
    resolved = resolve_categories(taxonomy_csv, categories_yaml, unit_codes)
    rules = read_keyword_rules(rules_yaml, unit_codes)
    ids = dict(session.execute(select(Category.path, Category.id)).tuples().all())
    missing = [r.path for r in resolved if r.path not in ids]
    if missing:
        raise InvalidInput(
            f"目录引用了分类表中没有的分类（先运行 hotline seed）：{missing[0]} 等 {len(missing)} 个",
            f"{len(missing)} categories are not in the taxonomy table yet (run hotline seed): {missing[0]} …",
        )
    entries = sorted((ids[r.path], r.lead, tuple(r.assist), r.district_lead) for r in resolved)
    keyword_rules = [
        (r["name"], tuple(r["any_keywords"]), r.get("level1"), r["lead"], tuple(r.get("assist") or ()))
        for r in rules
    ]
    existing = session.scalars(
        select(DispatchCatalogue).where(DispatchCatalogue.version == header.version)
    ).first()
    if existing is not None:
        if _content(existing) == (entries, keyword_rules):
            return existing, False
        if existing.effective_from <= now:
            raise Conflict(
                f"目录版本 {header.version} 已生效，不能修改；请以新的版本号发布",
                f"catalogue edition {header.version} is in force and cannot change; publish a new version",
            )
        session.delete(existing)
        session.flush()
    edition = DispatchCatalogue(
        version=header.version,
        effective_from=header.effective_from,
        loaded_at=now,
        loaded_by=loaded_by,
        note=header.note,
    )
    edition.entries = [
        CatalogueEntry(category_id=cid, lead_unit=lead, assist_units=list(assist), district_lead=template)
        for cid, lead, assist, template in entries
    ]
    edition.rules = [
        CatalogueRule(
            name=name,
            keywords=list(words),
            level1=level1,
            lead_unit=lead,
            assist_units=list(assist),
            priority=i,
        )
        for i, (name, words, level1, lead, assist) in enumerate(keyword_rules)
    ]
    session.add(edition)
    session.flush()
    return edition, True


def _content(
    edition: DispatchCatalogue,
) -> tuple[list[tuple[int, str, tuple[str, ...], str | None]], list[tuple[Any, ...]]]:
    entries = sorted(
        (e.category_id, e.lead_unit, tuple(e.assist_units), e.district_lead) for e in edition.entries
    )
    rules = [(r.name, tuple(r.keywords), r.level1, r.lead_unit, tuple(r.assist_units)) for r in edition.rules]
    return entries, rules


def editions(session: Session) -> list[CatalogueEdition]:
    rows = session.execute(
        select(DispatchCatalogue.id, DispatchCatalogue.version, DispatchCatalogue.effective_from).order_by(
            DispatchCatalogue.effective_from
        )
    ).all()
    return [CatalogueEdition(i, v, e) for i, v, e in rows]


def load_dispatcher(session: Session, edition_id: int | None = None) -> Dispatcher:
    """The dispatcher of one edition; without one (a database seeded before editions existed), the units
    the categories table names and the plain keyword rules."""
    by_category: dict[int, CatalogueEntry] = {}
    if edition_id is not None:
        by_category = {
            e.category_id: e
            for e in session.scalars(select(CatalogueEntry).where(CatalogueEntry.catalogue_id == edition_id))
        }
    categories = []
    for c in session.scalars(select(Category)):
        entry = by_category.get(c.id)
        lead, assist, template = (
            (entry.lead_unit, entry.assist_units, entry.district_lead)
            if entry is not None
            else (c.lead_unit, c.assist_units, c.district_lead)
        )
        categories.append(
            CategoryInfo(c.id, c.path, c.level1, c.case_type, c.urgent, lead, tuple(assist), template)
        )
    if edition_id is not None:
        rules = [
            KeywordRule(r.name, tuple(r.keywords), r.level1, r.lead_unit, tuple(r.assist_units))
            for r in session.scalars(
                select(CatalogueRule)
                .where(CatalogueRule.catalogue_id == edition_id)
                .order_by(CatalogueRule.priority)
            )
        ]
    else:
        rules = [
            KeywordRule(r.name, tuple(r.keywords), r.level1, r.lead_unit, tuple(r.assist_units))
            for r in session.scalars(select(DispatchRule).order_by(DispatchRule.priority))
        ]
    urgent = [
        UrgentInfo(u.code, u.name, tuple(u.keywords), u.lead_unit, u.response_minutes)
        for u in session.scalars(select(UrgentClass))
    ]
    units = [
        UnitInfo(u.code, u.name, u.kind, u.district, u.parent_code, tuple(u.keywords))
        for u in session.scalars(select(Unit).where(Unit.active.is_(True)))
    ]
    return Dispatcher(categories, rules, urgent, units)


def dispatcher_in_force(session: Session, now: datetime) -> Dispatcher:
    edition = edition_in_force(editions(session), now)
    return load_dispatcher(session, edition.id if edition else None)
