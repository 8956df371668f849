"""Use cases where a unit contests or asks, and the hotline rules: returns (退单), dispatch objections (派单异议),
negotiation of lead and co-handlers (协商), extensions and appeals. Each one transaction, audited."""

from __future__ import annotations

from routing.domain.enums import AssignmentRole, RequestKind
from routing.domain.model import Actor, Target, WorkOrder
from routing.service_base import ServiceBase


class Rulings(ServiceBase):
    def request_return(
        self, number: str, actor: Actor, unit_code: str, reason: str, proposed_unit: str | None = None
    ) -> WorkOrder:
        return self._change(
            number,
            lambda o: o.request_return(
                actor, self.ctx.clock.now(), unit_code, reason, self.ctx.policy, proposed_unit
            ),
        )

    def rule_on_return(
        self, number: str, actor: Actor, approve: bool, note: str, targets: list[Target] | None = None
    ) -> WorkOrder:
        if targets:
            self._check_units_now(targets)

        def change(o: WorkOrder) -> None:
            now = self.ctx.clock.now()
            check = self.dispatch_check(o.category_id, o.district, now)
            o.rule_on_return(actor, now, approve, note, targets, self.ctx.policy, self.ctx.calendar, check)

        return self._change(number, change)

    def object_to_dispatch(
        self, number: str, actor: Actor, unit_code: str, reason: str, proposed_unit: str | None = None
    ) -> WorkOrder:
        """An assisting unit's objection (the lead's is a return): reviewed by the hotline in time."""
        if proposed_unit:
            self._check_units_now([Target(proposed_unit)])
        return self._change(
            number,
            lambda o: o.object_to_dispatch(
                actor, self.ctx.clock.now(), unit_code, reason, self.ctx.policy, proposed_unit
            ),
        )

    def rule_on_objection(
        self,
        number: str,
        actor: Actor,
        unit_code: str,
        approve: bool,
        note: str,
        replacement: str | None = None,
    ) -> WorkOrder:
        if replacement:
            self._check_units_now([Target(replacement, AssignmentRole.ASSIST)])

        def change(o: WorkOrder) -> None:
            now = self.ctx.clock.now()
            o.rule_on_objection(
                actor,
                now,
                unit_code,
                approve,
                note,
                self.ctx.policy,
                self.ctx.calendar,
                replacement,
                self.dispatch_check(o.category_id, o.district, now),
            )

        return self._change(number, change)

    def negotiate(
        self, number: str, actor: Actor, participants: list[str], targets: list[Target], note: str
    ) -> WorkOrder:
        """Record the units consulted and the agreed lead and co-handlers, then dispatch to them."""
        self._check_units_now([Target(p) for p in dict.fromkeys(participants) if p] or targets)

        def change(o: WorkOrder) -> None:
            now = self.ctx.clock.now()
            check = self.dispatch_check(o.category_id, o.district, now)
            o.negotiate(actor, now, participants, targets, note, self.ctx.policy, self.ctx.calendar, check)

        return self._change(number, change)

    def request_extension(
        self, number: str, actor: Actor, unit_code: str, days: int, reason: str
    ) -> WorkOrder:
        return self._change(
            number, lambda o: o.request_extension(actor, self.ctx.clock.now(), unit_code, days, reason)
        )

    def request_appeal(
        self, number: str, actor: Actor, unit_code: str, target: str, reason: str
    ) -> WorkOrder:
        return self._change(
            number, lambda o: o.request_appeal(actor, self.ctx.clock.now(), unit_code, target, reason)
        )

    def decide_request(
        self,
        number: str,
        actor: Actor,
        kind: RequestKind,
        approve: bool,
        note: str,
        request_id: int | None = None,
    ) -> WorkOrder:
        return self._change(
            number,
            lambda o: o.decide_request(
                actor,
                self.ctx.clock.now(),
                request_id,
                kind,
                approve,
                note,
                self.ctx.calendar,
                self.ctx.policy,
            ),
        )
