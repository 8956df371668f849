"""Responsible units for the suggested categories, by routing's own dispatch rules.

With a database the dispatcher is ``routing.catalogue.dispatcher_in_force(session, now)``; without one (the
``classify`` command on a fresh machine) the same ``Dispatcher`` is built from routing's YAML files, so both
paths apply the identical precedence: urgent class → keyword rule → the category's unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from routing.dispatch import CategoryInfo, Dispatcher, KeywordRule, UnitInfo, UrgentInfo
from routing.domain.enums import AssignmentRole
from routing.reference import data_file
from routing.suggest.leaves import Leaf
from routing.suggest.unit_model import UnitEvidence, combine


@dataclass(frozen=True)
class UnitSuggestion:
    code: str
    name: str
    score: float
    reason: str
    role: str  # lead | assist

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "score": round(self.score, 4),
            "reason": self.reason,
            "role": self.role,
        }


def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def dispatcher_from_files(leaves: list[Leaf], data: Path | None = None) -> Dispatcher:
    """A Dispatcher from departments/category_units/dispatch_rules/urgent_classes YAML (ids = leaf order)."""
    base = data or data_file("")
    units_doc = _yaml(base / "departments.yaml").get("units") or []
    units = [
        UnitInfo(
            u["code"],
            u["name"],
            u["kind"],
            u.get("district"),
            u.get("parent"),
            tuple(u.get("keywords") or ()),
        )
        for u in units_doc
    ]
    rules_by_key = {
        (r.get("level1"), r.get("level2"), r.get("level3")): r
        for r in _yaml(base / "category_units.yaml").get("rules") or []
    }
    categories = []
    for i, leaf in enumerate(leaves):
        rule = (
            rules_by_key.get((leaf.level1, leaf.level2, leaf.level3))
            or rules_by_key.get((leaf.level1, leaf.level2, None))
            or rules_by_key.get((leaf.level1, None, None))
        )
        if rule is None:
            continue
        categories.append(
            CategoryInfo(
                i,
                leaf.path,
                leaf.level1,
                rule.get("case_type") or "complaint",
                bool(rule.get("urgent")),
                rule["lead"],
                tuple(rule.get("assist") or ()),
                rule.get("district_lead"),
            )
        )
    keyword_rules = [
        KeywordRule(
            r["name"], tuple(r["any_keywords"]), r.get("level1"), r["lead"], tuple(r.get("assist") or ())
        )
        for r in _yaml(base / "dispatch_rules.yaml").get("rules") or []
    ]
    urgent_doc = _yaml(base / "urgent_classes.yaml")
    urgent = [
        UrgentInfo(
            c["code"], c["name"], tuple(c["keywords"]), c["lead"], int(c.get("response_minutes") or 15)
        )
        for c in urgent_doc.get("classes") or urgent_doc.get("urgent_classes") or []
    ]
    return Dispatcher(categories, keyword_rules, urgent, units)


def category_ids(dispatcher: Dispatcher) -> dict[str, int]:
    return {c.path: c.id for c in dispatcher.categories.values()}


def suggest_units(
    dispatcher: Dispatcher,
    leaf_scores: list[tuple[Leaf, float]],
    text: str,
    k: int = 3,
    ids: dict[str, int] | None = None,
    evidence: Sequence[UnitEvidence] = (),
) -> list[UnitSuggestion]:
    """Each suggested leaf votes for its routed units (lead: its score, assist: half); the units' own duty
    texts (``evidence``, from UnitModel) count as much as the votes; best first."""
    ids = ids if ids is not None else category_ids(dispatcher)
    totals: dict[str, float] = {}
    reasons: dict[str, str] = {}
    roles: dict[str, str] = {}
    for leaf, score in leaf_scores:
        category_id = ids.get(leaf.path)
        if category_id is None:
            continue
        routing = dispatcher.route(category_id, None, text)
        for target in routing.targets:
            lead = target.role is AssignmentRole.LEAD
            totals[target.unit_code] = totals.get(target.unit_code, 0.0) + (score if lead else score / 2)
            # A unit that assists on one suggested leaf but leads on another is suggested as the lead, with that
            # leaf's reason (产权交易 has 住建 assisting; 房地产开发管理 has it leading).
            if target.unit_code not in reasons or (lead and roles[target.unit_code] == "assist"):
                roles[target.unit_code] = "lead" if lead else "assist"
                reasons[target.unit_code] = (
                    routing.reasons[0] if lead and routing.reasons else f"分类「{leaf.path}」协办单位"
                )
    if evidence:
        for e in evidence:
            if e.code not in reasons or totals.get(e.code, 0.0) < max(totals.values(), default=0.0):
                reasons[e.code] = e.why
                roles[e.code] = "lead"
        totals = combine(totals, evidence)
    total = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:k]
    return [
        UnitSuggestion(code, _unit_name(dispatcher, code), value / total, reasons[code], roles[code])
        for code, value in ranked
    ]


def _unit_name(dispatcher: Dispatcher, code: str) -> str:
    unit = dispatcher.units.get(code)
    return unit.name if unit else code
