"""The order fills itself (智能填单): from the citizen's final utterances to suggested values for the form.

``fill`` is a pure function: the citizen's finals so far, the caller's number from the screen pop, the
suggestion engine's answer for the same transcript, and the gazetteer. Every value it returns is a
suggestion (``FieldFill``) with where it came from and why; the desk shows it as such until the agent
accepts or edits it, and records per field what the agent kept or changed (``routing.assist.feedback``).
Nothing here files anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from routing.assist.extract import callback_number, case_type, locate, summarize
from routing.assist.gazetteer import Gazetteer

# The order form's fields that the assist fills, in the order the desk shows them.
FIELDS = ("citizen_phone", "district", "location_text", "case_type", "category", "unit", "description")
CASE_TYPE_NAMES = {
    "consultation": "咨询",
    "complaint": "投诉",
    "report": "举报",
    "help_request": "求助",
    "suggestion": "建议",
    "praise": "表扬",
}


@dataclass(frozen=True)
class FieldFill:
    """One suggested value. ``value`` "" means the assist leaves the field empty (``offers`` may hold the
    values the agent can pick from, e.g. both districts named, or a callback number read out)."""

    field: str
    value: str
    source: str  # screen_pop | speech | model
    why: str
    offers: tuple[str, ...] = ()
    label: str = ""  # what the desk shows when it differs from the value (a category's path, a unit's name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": self.value,
            "label": self.label or self.value,
            "source": self.source,
            "why": self.why,
            "offers": list(self.offers),
        }


@dataclass(frozen=True)
class Autofill:
    call_id: str
    fields: dict[str, FieldFill] = field(default_factory=dict)
    compute_ms: float = 0.0

    def value(self, name: str) -> str:
        f = self.fields.get(name)
        return f.value if f else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "fields": {name: f.to_dict() for name, f in self.fields.items()},
            "compute_ms": round(self.compute_ms, 3),
        }


def screen_pop(call_id: str, caller: str) -> Autofill:
    """What is known the moment the call is answered: the caller's number."""
    return Autofill(call_id, {"citizen_phone": FieldFill("citizen_phone", caller, "screen_pop", "来电号码")})


def fill(
    call_id: str,
    utterances: Sequence[str],
    caller: str,
    gazetteer: Gazetteer,
    suggestions: Any = None,
    *,
    valid_phone: Callable[[str], str] | None = None,
    unit_for: Callable[[str, str | None], tuple[str, str]] | None = None,
    default_case_type: Callable[[str], str | None] | None = None,
) -> Autofill:
    """Suggested values for the order form.

    ``suggestions``: routing.suggest.service.Suggestions for the same transcript (categories, leaves, units,
    articles with the words they matched). ``unit_for(code, district)`` re-routes the suggested unit once
    the district is known (territorial management, 属地管理, sends a district's cases to its own bureau); ``default_case_type(path)`` is the category's usual type.
    """
    started = time.perf_counter()
    text = " ".join(u for u in utterances if u.strip())
    fields: dict[str, FieldFill] = {}

    offers: tuple[str, ...] = ()
    callback = callback_number(text, caller, valid_phone)
    if callback is not None:
        offers = (callback.number,)
    fields["citizen_phone"] = FieldFill(
        "citizen_phone",
        caller,
        "screen_pop",
        "来电号码" + (f"；{callback.why}，可改用" if callback else ""),
        offers,
    )

    if not text:  # the call was just answered: only the screen pop is known
        return Autofill(call_id, fields, (time.perf_counter() - started) * 1000)
    place = locate(text, gazetteer)
    fields["district"] = FieldFill(
        "district", place.district or "", "speech", place.why, place.candidates if not place.district else ()
    )
    fields["location_text"] = FieldFill("location_text", place.address, "speech", place.why)

    path = ""
    if suggestions is not None and suggestions.leaves:
        top = suggestions.leaves[0]
        path = top.name
        fields["category"] = FieldFill(
            "category",
            path,
            "model",
            f"分类模型 {top.score:.2f}",
            tuple(c.name for c in suggestions.leaves[1:3]),
        )
    if suggestions is not None and suggestions.units:
        fields["unit"] = _unit(suggestions, place.district, unit_for)

    kind = case_type(text, default_case_type(path) if default_case_type and path else None)
    fields["case_type"] = FieldFill(
        "case_type", kind.case_type, "speech", kind.why, label=CASE_TYPE_NAMES.get(kind.case_type, "")
    )

    what: list[str] = []
    if suggestions is not None:
        for article in suggestions.articles[:2]:
            what.extend(str(w) for w in article.get("matched") or ())
        if path:
            what.extend(part for part in path.split("/")[1:] if part != "其他")
    summary = summarize(utterances, what, place.address)
    fields["description"] = FieldFill(
        "description", summary, "speech", "摘自市民原话：事项、地点、时间、诉求"
    )
    return Autofill(call_id, fields, (time.perf_counter() - started) * 1000)


def _unit(
    suggestions: Any, district: str | None, unit_for: Callable[[str, str | None], tuple[str, str]] | None
) -> FieldFill:
    top, others = suggestions.units[0], tuple(u.code for u in suggestions.units[1:3])
    if district and unit_for is not None:
        code, name = unit_for(top.code, district)
        if code != top.code:
            return FieldFill("unit", code, "model", f"{top.reason}；属地管理：{district}", others, name)
    return FieldFill("unit", top.code, "model", top.reason, others, top.name)
