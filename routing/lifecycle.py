"""One command per lifecycle action of a work order, and what each one does to the aggregate.

The REST API, the desk's forms, the callback campaign and the scheduler's neighbours all build one of these
and hand it to ``WorkOrderService.handle(command, actor)``, which runs it in one transaction (audited,
events through the outbox, retried when another transaction changed the order first). A command names
the order, the units it brings in (checked to exist before the transaction) and the one domain call it
makes; the domain decides whether it is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from routing.commands import CallbackCommand
from routing.domain.catalogue import DispatchCheck
from routing.domain.enums import AssignmentRole, RequestKind
from routing.domain.model import Actor, Target, WorkOrder
from routing.domain.sla import SlaPolicy, WorkCalendar


@dataclass(frozen=True)
class Apply:
    """What a command may use besides the order: the time, the SLA policy, the calendar, and the
    catalogue in force (the dispatch rules' choice for an order, and the check a dispatch must pass)."""

    now: datetime
    policy: SlaPolicy
    calendar: WorkCalendar
    route: Callable[[WorkOrder], tuple[list[Target], str]]
    check: Callable[[WorkOrder], DispatchCheck]


class Command(Protocol):
    @property
    def number(self) -> str: ...

    def units(self) -> list[Target]: ...

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None: ...


@dataclass(frozen=True)
class _NoUnits:
    def units(self) -> list[Target]:
        return []


# ---- dispatch and the unit's work ---------------------------------------------------------------------
@dataclass(frozen=True)
class Dispatch:
    """派单: to the units named, or (none named) to those the catalogue in force chooses."""

    number: str
    targets: list[Target] | None = None

    def units(self) -> list[Target]:
        return list(self.targets or [])

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        chosen, note = (self.targets, "座席指定承办单位") if self.targets is not None else ctx.route(order)
        order.dispatch(actor, ctx.now, chosen, ctx.policy, ctx.calendar, note, ctx.check(order))


@dataclass(frozen=True)
class Acknowledge(_NoUnits):
    """签收: the unit responds; its response clock stops."""

    number: str
    unit_code: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.acknowledge(actor, ctx.now, self.unit_code)


@dataclass(frozen=True)
class StartWork(_NoUnits):
    number: str
    unit_code: str
    note: str = ""

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.start_work(actor, ctx.now, self.unit_code, self.note)


@dataclass(frozen=True)
class AddProgressNote(_NoUnits):
    number: str
    unit_code: str
    note: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.add_progress_note(actor, ctx.now, self.unit_code, self.note)


@dataclass(frozen=True)
class Resolve(_NoUnits):
    """办结: the lead unit's reply to the citizen; a callback is now due."""

    number: str
    unit_code: str
    reply: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.resolve(actor, ctx.now, self.unit_code, self.reply)


@dataclass(frozen=True)
class AcknowledgeSupervision(_NoUnits):
    number: str
    supervision_number: str
    unit_code: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.acknowledge_supervision(actor, ctx.now, self.supervision_number, self.unit_code)


@dataclass(frozen=True)
class LinkCall(_NoUnits):
    number: str
    call_id: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.link_call(actor, ctx.now, self.call_id)


# ---- what a unit asks, and the hotline's rulings ------------------------------------------------------
@dataclass(frozen=True)
class RecordEmergencyTransfer(_NoUnits):
    """国办发〔2022〕12号: during call ``call_id`` the agent put the caller through to an emergency line, or
    opened a three-way call with it; ``at`` is when (the order records who and when)."""

    number: str
    line: str
    dialled: str
    mode: str
    call_id: str
    at: datetime

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.record_emergency_transfer(
            actor,
            ctx.now,
            line=self.line,
            dialled=self.dialled,
            mode=self.mode,
            call_id=self.call_id,
            at=self.at,
        )


@dataclass(frozen=True)
class RequestReturn:
    """退单: the lead unit's objection to the dispatch, within the objection window."""

    number: str
    unit_code: str
    reason: str
    proposed_unit: str | None = None

    def units(self) -> list[Target]:
        return [Target(self.proposed_unit)] if self.proposed_unit else []

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.request_return(actor, ctx.now, self.unit_code, self.reason, ctx.policy, self.proposed_unit)


@dataclass(frozen=True)
class RuleOnReturn:
    number: str
    approve: bool
    note: str = ""
    targets: list[Target] | None = None

    def units(self) -> list[Target]:
        return list(self.targets or [])

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.rule_on_return(
            actor, ctx.now, self.approve, self.note, self.targets, ctx.policy, ctx.calendar, ctx.check(order)
        )


@dataclass(frozen=True)
class ObjectToDispatch:
    """派单异议 of an assisting unit (the lead returns the order instead), within the objection window."""

    number: str
    unit_code: str
    reason: str
    proposed_unit: str | None = None

    def units(self) -> list[Target]:
        return [Target(self.proposed_unit)] if self.proposed_unit else []

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.object_to_dispatch(actor, ctx.now, self.unit_code, self.reason, ctx.policy, self.proposed_unit)


@dataclass(frozen=True)
class RuleOnObjection:
    number: str
    unit_code: str
    approve: bool
    note: str = ""
    replacement: str | None = None

    def units(self) -> list[Target]:
        return [Target(self.replacement, AssignmentRole.ASSIST)] if self.replacement else []

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.rule_on_objection(
            actor,
            ctx.now,
            self.unit_code,
            self.approve,
            self.note,
            ctx.policy,
            ctx.calendar,
            self.replacement,
            ctx.check(order),
        )


@dataclass(frozen=True)
class Negotiate:
    """协商: the units consulted and the agreed lead and co-handlers, then the dispatch to them."""

    number: str
    participants: list[str]
    targets: list[Target]
    note: str = ""

    def units(self) -> list[Target]:
        return [Target(p) for p in dict.fromkeys(self.participants) if p] or list(self.targets)

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.negotiate(
            actor,
            ctx.now,
            self.participants,
            self.targets,
            self.note,
            ctx.policy,
            ctx.calendar,
            ctx.check(order),
        )


@dataclass(frozen=True)
class RequestExtension(_NoUnits):
    """延期: more working days, decided by a supervisor."""

    number: str
    unit_code: str
    days: int
    reason: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.request_extension(actor, ctx.now, self.unit_code, self.days, self.reason)


@dataclass(frozen=True)
class RequestAppeal(_NoUnits):
    """申诉: against a callback's verdict or a response-breach record, decided by a supervisor."""

    number: str
    unit_code: str
    target: str
    reason: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.request_appeal(actor, ctx.now, self.unit_code, self.target, self.reason)


@dataclass(frozen=True)
class DecideRequest(_NoUnits):
    number: str
    kind: RequestKind
    approve: bool
    note: str = ""
    request_id: int | None = None

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.decide_request(
            actor, ctx.now, self.request_id, self.kind, self.approve, self.note, ctx.calendar, ctx.policy
        )


# ---- the citizen's verdict, and reopening -------------------------------------------------------------
@dataclass(frozen=True)
class RecordCallback(_NoUnits):
    """回访: satisfied closes; not solved or unsatisfied reopens to the same unit with a shorter clock."""

    number: str
    callback: CallbackCommand = field(compare=False)

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        cb = self.callback
        order.record_callback(
            actor,
            ctx.now,
            cb.outcome,
            cb.solved,
            cb.rating,
            cb.note,
            ctx.policy,
            ctx.calendar,
            cb.recording_ref,
        )


@dataclass(frozen=True)
class Reopen(_NoUnits):
    number: str
    reason: str

    def apply(self, order: WorkOrder, actor: Actor, ctx: Apply) -> None:
        order.reopen(actor, ctx.now, self.reason, ctx.policy, ctx.calendar)
