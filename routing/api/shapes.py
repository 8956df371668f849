"""The API's JSON shapes of a work order and its audit trail, and its request bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from kernel.text import Int32, SafeText, VisibleText
from routing.access import is_unit_role
from routing.commands import MAX_TEXT, TargetIn, mask_phone
from routing.domain.enums import AssignmentRole
from routing.domain.model import Target, WorkOrder

CONFIDENTIAL_ZH = "（来电人要求保密）"


def contact_hidden(order: WorkOrder, role: str) -> bool:
    """A confidential caller's name and number are never shown to a unit (GB/T 33358-2016), masked or not."""
    return order.confidential and is_unit_role(role)


# ---- response shapes ---------------------------------------------------------------------------------
def order_json(
    order: WorkOrder, *, show_phone: bool, full: bool = True, hide_contact: bool = False
) -> dict[str, Any]:
    phone = order.citizen_phone if show_phone else mask_phone(order.citizen_phone)
    data: dict[str, Any] = {
        "number": order.number,
        "state": order.state.value,
        "case_type": order.case_type.value,
        "channel": order.channel.value,
        "urgency": order.urgency.value,
        "urgent_class": order.urgent_class,
        "category_id": order.category_id,
        "category": order.category_path,
        "title": order.title,
        "description": order.description,
        "citizen_name": CONFIDENTIAL_ZH if hide_contact else order.citizen_name,
        "citizen_phone": CONFIDENTIAL_ZH if hide_contact else phone,
        "confidential": order.confidential,
        "location": order.location_text,
        "district": order.district,
        "accepted_at": order.accepted_at,
        "response_due_at": order.response_due_at,
        "resolution_due_at": order.resolution_due_at,
        "responded_at": order.responded_at,
        "resolved_at": order.resolved_at,
        "closed_at": order.closed_at,
        "reply": order.reply,
        "redo_count": order.redo_count,
        "escalation_level": order.escalation_level,
        "lead_unit": order.lead_unit,
        "call_ids": order.call_ids,
        "units": [
            {"unit_code": a.unit_code, "role": a.role.value, "acknowledged_at": a.acknowledged_at}
            for a in order.active_assignments
        ],
        "catalogue_version": order.catalogue_version,
        "cards": [
            {
                "color": c.color.value,
                "clock": c.clock.value,
                "unit_code": c.unit_code,
                "due_at": c.due_at,
                "issued_at": c.issued_at,
                "cleared_at": c.cleared_at,
            }
            for c in order.cards
        ],
    }
    if full:
        data["deadlines"] = [
            {
                "kind": d.kind.value,
                "unit_code": d.unit_code,
                "due_at": d.due_at,
                "fired_at": d.fired_at,
                "cancelled_at": d.cancelled_at,
                "level": d.level,
            }
            for d in order.deadlines
        ]
        data["alarms"] = [
            {
                "kind": a.kind.value,
                "level": a.level,
                "unit_code": a.unit_code,
                "to": a.addressed_to,
                "raised_at": a.raised_at,
                "message": a.message_zh,
                "cleared_at": a.cleared_at,
            }
            for a in order.alarms
        ]
        data["requests"] = [
            {
                "id": r.id,
                "kind": r.kind.value,
                "unit_code": r.unit_code,
                "reason": r.reason,
                "status": r.status.value,
                "extend_days": r.extend_days,
                "proposed_unit": r.proposed_unit,
                "requested_at": r.requested_at,
                "decided_at": r.decided_at,
            }
            for r in order.requests
        ]
        data["supervisions"] = [
            {
                "number": s.number,
                "unit_code": s.unit_code,
                "state": s.state.value,
                "issued_at": s.issued_at,
                "reason": s.reason,
            }
            for s in order.supervisions
        ]
        data["negotiations"] = [
            {
                "at": n.at,
                "by": n.by,
                "participants": n.participants,
                "lead_unit": n.lead_unit,
                "assist_units": n.assist_units,
                "note": n.note,
            }
            for n in order.negotiations
        ]
        data["callbacks"] = [
            {
                "at": c.at,
                "by": c.by,
                "outcome": c.outcome.value,
                "solved": c.solved,
                "rating": c.rating,
                "note": c.note,
            }
            for c in order.callbacks
        ]
    return data


def audit_json(order: WorkOrder, *, show_phone: bool, hide_contact: bool = False) -> list[dict[str, Any]]:
    out = []
    for e in order.history:
        before, after = dict(e.before), dict(e.after)
        for d in (before, after):
            for key in ("citizen_phone", "citizen_name"):
                if hide_contact and key in d:
                    d[key] = CONFIDENTIAL_ZH
                elif not show_phone and key == "citizen_phone" and isinstance(d.get(key), str):
                    d[key] = mask_phone(d[key])
        out.append(
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "role": e.actor_role,
                "action": e.action,
                "before": before,
                "after": after,
                "note": e.note,
            }
        )
    return out


# ---- request bodies ----------------------------------------------------------------------------------
UnitCode = Annotated[SafeText, Field(min_length=1, max_length=64)]
Note = Annotated[SafeText, Field(max_length=MAX_TEXT)]
Required = Annotated[VisibleText, Field(min_length=1, max_length=MAX_TEXT)]


class UnitAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_code: UnitCode | None = None
    note: Note = ""


class ResolveBody(UnitAction):
    reply: Required


class ReasonBody(UnitAction):
    reason: Required


class ReturnBody(ReasonBody):
    proposed_unit: UnitCode | None = None  # the unit the objecting unit thinks is responsible


class ObjectionRulingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_code: UnitCode
    approve: StrictBool
    note: Note = ""
    replacement: UnitCode | None = None


class NegotiationBody(BaseModel):
    """协商: the units consulted, and the lead and co-handlers they agreed on."""

    model_config = ConfigDict(extra="forbid")
    participants: list[UnitCode] = Field(min_length=2, max_length=20)
    lead_unit: UnitCode
    assist_units: list[UnitCode] = Field(default_factory=list, max_length=20)
    note: Required

    def targets(self) -> list[Target]:
        return [Target(self.lead_unit), *(Target(u, AssignmentRole.ASSIST) for u in self.assist_units)]


class ExtensionBody(ReasonBody):
    days: Annotated[Int32, Field(ge=1, le=30)]


class AppealBody(ReasonBody):
    target: str = Field(pattern="^(callback|response_breach)$")


class DispatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: list[TargetIn] | None = Field(default=None, max_length=20)


class RulingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: StrictBool
    note: Note = ""
    targets: list[TargetIn] | None = Field(default=None, max_length=20)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: StrictBool
    note: Note = ""


class RoutingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_id: Int32 | None = None
    district: Annotated[SafeText, Field(max_length=16)] | None = None
    description: Required
    location_text: Annotated[SafeText, Field(max_length=500)] = ""


def targets_of(items: list[TargetIn] | None) -> list[Target] | None:
    return None if items is None else [Target(t.unit_code, t.role) for t in items]
