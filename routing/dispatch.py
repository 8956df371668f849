"""Dispatch rules: category + district (+ address and description keywords) → the responsible unit(s).

Order of precedence, as a Haikou dispatcher would apply it:
1. an urgent class (停电, 燃气泄漏 …) sends the case to the unit with the prepared plan, shortest clock;
2. a keyword rule (机场, 新海港, 公交 …) names the operator that runs the thing complained about;
3. the category's unit, or its district-level counterpart when the district is known (属地管理; keyword
   rules that name a city bureau follow the same rule);
4. the street or town whose place names appear in the address joins as an assisting unit (it is on site).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.domain.enums import AssignmentRole
from routing.domain.model import Target


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    path: str
    level1: str
    case_type: str
    urgent: bool
    lead_unit: str
    assist_units: tuple[str, ...]
    district_lead: str | None


@dataclass(frozen=True)
class KeywordRule:
    name: str
    keywords: tuple[str, ...]
    level1: str | None
    lead_unit: str
    assist_units: tuple[str, ...]


@dataclass(frozen=True)
class UrgentInfo:
    code: str
    name: str
    keywords: tuple[str, ...]
    lead_unit: str
    response_minutes: int


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    kind: str
    district: str | None
    parent_code: str | None
    keywords: tuple[str, ...]


@dataclass
class Routing:
    targets: list[Target]
    reasons: list[str] = field(default_factory=list)
    urgent_class: str | None = None
    district: str | None = None

    @property
    def lead(self) -> str:
        return next(t.unit_code for t in self.targets if t.role is AssignmentRole.LEAD)


DISTRICT_SUFFIX = {"秀英区": "xiuying", "龙华区": "longhua", "琼山区": "qiongshan", "美兰区": "meilan"}


class Dispatcher:
    def __init__(
        self,
        categories: list[CategoryInfo],
        rules: list[KeywordRule],
        urgent: list[UrgentInfo],
        units: list[UnitInfo],
    ) -> None:
        self.categories = {c.id: c for c in categories}
        self.rules = rules
        self.urgent = urgent
        self.units = {u.code: u for u in units}
        self.places = [u for u in units if u.kind in ("street", "town") and u.keywords]

    def detect_urgent(self, text: str) -> UrgentInfo | None:
        for cls in self.urgent:
            if any(k in text for k in cls.keywords):
                return cls
        return None

    def locate(self, location_text: str) -> UnitInfo | None:
        """The street or town whose own name or place names occur in the address, longest match first."""
        best: tuple[int, UnitInfo] | None = None
        for unit in self.places:
            for word in (unit.name, *unit.keywords):
                if word and word in location_text and (best is None or len(word) > best[0]):
                    best = (len(word), unit)
        return best[1] if best else None

    def route(
        self, category_id: int | None, district: str | None, description: str, location_text: str = ""
    ) -> Routing:
        text = f"{description} {location_text}"
        reasons: list[str] = []
        place = self.locate(location_text) if location_text else None
        if district is None and place is not None:
            district = place.district
            reasons.append(f"地址含「{place.name}」辖区地名，判定为{district}")
        category = self.categories.get(category_id) if category_id is not None else None
        lead: str | None = None
        assists: list[str] = []
        urgent = self.detect_urgent(text)
        if urgent is not None:
            lead = urgent.lead_unit
            reasons.append(f"紧急类「{urgent.name}」，按预案派{self._name(lead)}")
        if lead is None:
            for rule in self.rules:
                if rule.level1 and category is not None and rule.level1 != category.level1:
                    continue
                hit = next((k for k in rule.keywords if k in text), None)
                if hit:
                    lead = self._territorial(rule.lead_unit, district)
                    assists.extend(rule.assist_units)
                    reasons.append(f"描述含「{hit}」，按规则「{rule.name}」派{self._name(lead)}")
                    break
        if category is not None:
            cat_lead = self._category_lead(category, district)
            if lead is None:
                lead = cat_lead
                reasons.append(f"分类「{category.path}」由{self._name(lead)}主办")
            elif cat_lead != lead:
                assists.append(cat_lead)
            assists.extend(category.assist_units)
        if lead is None:
            lead = "hotline.center"
            reasons.append("未能确定承办单位，转热线中心人工分派")
        if place is not None and place.code != lead:
            assists.append(place.code)
            reasons.append(f"属地{place.name}协办")
        targets = [Target(lead, AssignmentRole.LEAD)]
        for code in dict.fromkeys(assists):
            if code != lead and code in self.units:
                targets.append(Target(code, AssignmentRole.ASSIST))
        return Routing(targets, reasons, urgent.code if urgent else None, district)

    def matter_owner(self, category_id: int | None, district: str | None) -> str | None:
        """The unit the catalogue makes responsible for a category (its district counterpart where known):
        whose duty the matter is, whatever unit a dispatcher chose."""
        category = self.categories.get(category_id) if category_id is not None else None
        return self._category_lead(category, district) if category is not None else None

    def _category_lead(self, category: CategoryInfo, district: str | None) -> str:
        if district and category.district_lead and district in DISTRICT_SUFFIX:
            candidate = category.district_lead.format(district=DISTRICT_SUFFIX[district])
            if candidate in self.units:
                return candidate
        return category.lead_unit

    def _territorial(self, code: str, district: str | None) -> str:
        """属地管理: a city bureau's case inside a known district goes to that district's own bureau of the
        same line (city.enforcement → district_bureau.meilan.enforcement) when the district has one."""
        if not district or district not in DISTRICT_SUFFIX or not code.startswith("city."):
            return code
        local = f"district_bureau.{DISTRICT_SUFFIX[district]}.{code.removeprefix('city.')}"
        return local if local in self.units else code

    def territorial(self, code: str, district: str | None) -> tuple[str, str]:
        """The unit that handles ``code``'s matters inside ``district`` (itself when no local bureau), and its
        name: the agent assist re-routes a suggested unit once the citizen's district is known."""
        local = self._territorial(code, district)
        return local, self._name(local)

    def _name(self, code: str) -> str:
        unit = self.units.get(code)
        return unit.name if unit else code
