"""Reference data: the department directory, the category taxonomy and its unit map, urgent classes,
keyword dispatch rules and SLA policies, loaded from editable YAML/CSV files into the database."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from routing.domain.enums import CaseType
from routing.domain.errors import InvalidInput
from routing.domain.sla import EscalationTerms, ObjectionTerms, SlaPolicy, SlaTerms, SupervisionTerms
from routing.orm import Category, DispatchRule, Duty, Unit, UrgentClass

DISTRICTS = {"秀英区": "xiuying", "龙华区": "longhua", "琼山区": "qiongshan", "美兰区": "meilan"}
UNIT_KINDS = {
    "city_bureau",
    "district",
    "district_bureau",
    "street",
    "town",
    "utility",
    "public_company",
    "hotline",
}


def data_file(name: str) -> Path:
    return Path(str(resources.files("routing") / "data" / name))


def default_taxonomy_csv() -> Path:
    """The 517-leaf taxonomy, packaged with routing (a copy of shared/data/complaint_taxonomy.csv)."""
    return data_file("complaint_taxonomy.csv")


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass
class LoadReport:
    units: int = 0
    duties: int = 0
    categories: int = 0
    dispatch_rules: int = 0
    urgent_classes: int = 0
    catalogue_version: str | None = None


def load_units(session: Session, path: Path) -> tuple[int, int]:
    """Replace the directory with the file's content (validated first: nothing changes on an error)."""
    doc = _read_yaml(path)
    units = doc.get("units") if isinstance(doc, dict) else None
    if not isinstance(units, list) or not units:
        raise InvalidInput("部门文件缺少 units 列表", f"{path}: no 'units' list")
    codes = set()
    for i, u in enumerate(units):
        for key in ("code", "name", "kind"):
            if not u.get(key):
                raise InvalidInput(f"第 {i + 1} 个单位缺少 {key}", f"unit #{i + 1} has no {key}")
        if u["kind"] not in UNIT_KINDS:
            raise InvalidInput(
                f"单位 {u['code']} 的类型 {u['kind']} 无效", f"unit {u['code']}: unknown kind {u['kind']}"
            )
        if u["code"] in codes:
            raise InvalidInput(f"单位编码重复：{u['code']}", f"duplicate unit code {u['code']}")
        if u.get("district") and u["district"] not in DISTRICTS:
            raise InvalidInput(
                f"单位 {u['code']} 的区 {u['district']} 无效", f"unit {u['code']}: unknown district"
            )
        codes.add(u["code"])
    for u in units:
        if u.get("parent") and u["parent"] not in codes:
            raise InvalidInput(
                f"单位 {u['code']} 的上级 {u['parent']} 不存在", f"unit {u['code']}: unknown parent"
            )
    existing = {unit.code: unit for unit in session.scalars(select(Unit))}
    duties = 0
    # Insert parents before children so the self-referencing foreign key holds at every flush.
    for u in _parents_first(units):
        unit = existing.get(u["code"]) or Unit(code=u["code"])
        unit.name = u["name"]
        unit.name_en = u.get("name_en") or ""
        unit.kind = u["kind"]
        unit.parent_code = u.get("parent")
        unit.district = u.get("district")
        unit.head_title = u.get("head_title") or ""
        unit.duty_phone = str(u.get("duty_phone") or "")
        unit.keywords = list(u.get("keywords") or [])
        unit.active = True
        unit.duties = [Duty(text=str(t)) for t in u.get("duties") or []]
        duties += len(unit.duties)
        session.add(unit)
        session.flush()
    for code, unit in existing.items():
        if code not in codes:
            unit.active = False  # never delete: old work orders still name it
    return len(units), duties


def _parents_first(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_code = {u["code"]: u for u in units}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(u: dict[str, Any], depth: int = 0) -> None:
        if u["code"] in seen or depth > 10:
            return
        parent = by_code.get(u.get("parent") or "")
        if parent is not None:
            visit(parent, depth + 1)
        seen.add(u["code"])
        ordered.append(u)

    for u in units:
        visit(u)
    return ordered


@dataclass(frozen=True)
class ResolvedCategory:
    """A taxonomy leaf with the unit(s) the catalogue file makes responsible for it."""

    level1: str
    level2: str
    level3: str
    lead: str
    assist: list[str]
    district_lead: str | None
    case_type: str
    urgent: bool

    @property
    def path(self) -> str:
        return f"{self.level1}/{self.level2}/{self.level3}"


def resolve_categories(taxonomy_csv: Path, rules_path: Path, unit_codes: set[str]) -> list[ResolvedCategory]:
    """Each leaf of the taxonomy resolved to its unit(s) by the most specific rule (validated: an unknown unit
    or a leaf without a rule is an error and nothing is loaded)."""
    rules = (_read_yaml(rules_path) or {}).get("rules") or []
    by_key: dict[tuple[str | None, str | None, str | None], dict[str, Any]] = {}
    for r in rules:
        by_key[(r.get("level1"), r.get("level2"), r.get("level3"))] = r
    out: list[ResolvedCategory] = []
    with taxonomy_csv.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            l1, l2, l3 = row["level1"].strip(), row["level2"].strip(), row["level3"].strip()
            rule = by_key.get((l1, l2, l3)) or by_key.get((l1, l2, None)) or by_key.get((l1, None, None))
            if rule is None:
                raise InvalidInput(
                    f"分类 {l1}/{l2}/{l3} 没有对应的承办单位规则", f"no unit rule for {l1}/{l2}/{l3}"
                )
            lead = rule["lead"]
            assist = list(rule.get("assist") or [])
            for code in [lead, *assist]:
                if code not in unit_codes:
                    raise InvalidInput(
                        f"规则引用了不存在的单位 {code}", f"rule for {l1}/{l2} names unknown unit {code}"
                    )
            template = rule.get("district_lead")
            if template:
                for suffix in DISTRICTS.values():
                    if template.format(district=suffix) not in unit_codes:
                        raise InvalidInput(
                            f"区级承办单位模板 {template} 在 {suffix} 不存在",
                            f"district template {template} does not resolve for {suffix}",
                        )
            case_type = rule.get("case_type") or "complaint"
            CaseType(case_type)
            out.append(
                ResolvedCategory(l1, l2, l3, lead, assist, template, case_type, bool(rule.get("urgent")))
            )
    return out


def load_categories(session: Session, taxonomy_csv: Path, rules_path: Path) -> int:
    """Load the three-level taxonomy and resolve each leaf to its unit(s) by the most specific rule."""
    unit_codes = set(session.scalars(select(Unit.code)))
    existing = {c.path: c for c in session.scalars(select(Category))}
    resolved = resolve_categories(taxonomy_csv, rules_path, unit_codes)
    for r in resolved:
        cat = existing.get(r.path) or Category(path=r.path, level1=r.level1, level2=r.level2, level3=r.level3)
        cat.case_type = r.case_type
        cat.urgent = r.urgent
        cat.lead_unit = r.lead
        cat.assist_units = r.assist
        cat.district_lead = r.district_lead
        session.add(cat)
    session.flush()
    return len(resolved)


def read_keyword_rules(path: Path, unit_codes: set[str]) -> list[dict[str, Any]]:
    """The keyword dispatch rules of a file, in priority order, validated."""
    rules: list[dict[str, Any]] = (_read_yaml(path) or {}).get("rules") or []
    for r in rules:
        for code in [r["lead"], *(r.get("assist") or [])]:
            if code not in unit_codes:
                raise InvalidInput(
                    f"派单规则 {r['name']} 引用了不存在的单位 {code}",
                    f"rule {r['name']}: unknown unit {code}",
                )
    return rules


def load_dispatch_rules(session: Session, path: Path) -> int:
    rules = read_keyword_rules(path, set(session.scalars(select(Unit.code))))
    session.execute(delete(DispatchRule))
    for i, r in enumerate(rules):
        session.add(
            DispatchRule(
                name=r["name"],
                keywords=list(r["any_keywords"]),
                level1=r.get("level1"),
                lead_unit=r["lead"],
                assist_units=list(r.get("assist") or []),
                priority=i,
            )
        )
    session.flush()
    return len(rules)


def load_urgent_classes(session: Session, path: Path) -> int:
    doc = _read_yaml(path) or {}
    classes = doc.get("classes") or doc.get("urgent_classes") or []
    session.execute(delete(UrgentClass))
    for c in classes:
        session.add(
            UrgentClass(
                code=c["code"],
                name=c["name"],
                name_en=c.get("name_en") or "",
                keywords=list(c["keywords"]),
                lead_unit=c["lead"],
                response_minutes=int(c.get("response_minutes") or 15),
            )
        )
    session.flush()
    return len(classes)


def load_sla_policy(path: Path, urgent_classes: list[tuple[str, int]] | None = None) -> SlaPolicy:
    doc = _read_yaml(path) or {}
    default = doc.get("default") or {}

    def terms(values: dict[str, Any], base: SlaTerms) -> SlaTerms:
        return SlaTerms(
            int(values.get("response_minutes", base.response_minutes)),
            int(values.get("resolution_working_days", base.resolution_working_days)),
            int(values.get("yellow_response_minutes", base.yellow_response_minutes)),
            int(values.get("yellow_resolution_working_days", base.yellow_resolution_working_days)),
        )

    base = terms(default, SlaTerms(30, 5))
    reopen = terms(
        {
            "response_minutes": default.get("reopen_response_minutes", 20),
            "resolution_working_days": default.get("reopen_resolution_working_days", 3),
            **(doc.get("reopen") or {}),
        },
        base,
    )
    by_type = tuple((CaseType(k), terms(v or {}, base)) for k, v in (doc.get("by_case_type") or {}).items())
    esc = doc.get("escalation") or {}
    sup = doc.get("supervision") or {}
    return SlaPolicy(
        default=base,
        reopen=reopen,
        urgent=terms(doc.get("urgent") or {}, replace(base, response_minutes=10, resolution_working_days=1)),
        by_case_type=by_type,
        urgent_classes=tuple(urgent_classes or ()),
        escalation=EscalationTerms(**{k: int(v) for k, v in esc.items()}),
        supervision=SupervisionTerms(**{k: int(v) for k, v in sup.items()}),
        objection=ObjectionTerms(**{k: int(v) for k, v in (doc.get("objection") or {}).items()}),
    )


def seed_all(
    session: Session,
    taxonomy_csv: Path | None = None,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> LoadReport:
    from routing.catalogue import edition_header, load_edition  # catalogue builds on this module

    note = progress or (lambda _s: None)
    report = LoadReport()
    note("departments")
    report.units, report.duties = load_units(session, data_file("departments.yaml"))
    note("categories")
    report.categories = load_categories(
        session, taxonomy_csv or default_taxonomy_csv(), data_file("category_units.yaml")
    )
    note("dispatch rules")
    report.dispatch_rules = load_dispatch_rules(session, data_file("dispatch_rules.yaml"))
    note("urgent classes")
    report.urgent_classes = load_urgent_classes(session, data_file("urgent_classes.yaml"))
    header = edition_header(data_file("category_units.yaml"))
    if header is not None:  # the shipped files are one edition of the dispatch catalogue (派单目录)
        note("dispatch catalogue")
        load_edition(
            session,
            header,
            taxonomy_csv or default_taxonomy_csv(),
            data_file("category_units.yaml"),
            data_file("dispatch_rules.yaml"),
            now=now or datetime.now(UTC),
            loaded_by="seed",
        )
        report.catalogue_version = header.version
    return report
