"""The composition root: the only place that builds the system's parts from settings.

``bootstrap()`` builds the kernel's ``Core`` and every component's parts into one typed :class:`App`
(cosmicpython's ``bootstrap.py``; wazo-calld hands each plugin a typed dependency set the same way). Each
component offers ``build(...) -> Parts`` with typed dependencies; nothing is looked up by name. Parts that
need a running event loop or a switch (telephony, the outbound application, ASR workers) are started by
the process roles (``hotline/roles.py``), which keep their handles on the same ``App``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent_ui import parts as desk
from agent_ui.ports import KnowledgeBaseSearch
from kernel.bus import EventBus
from kernel.clock import Clock
from kernel.core import Core, UsesCore, build_core
from kernel.settings import Settings, load_settings
from recordings import parts as recordings
from routing import parts as routing
from routing.domain.sla import SlaPolicy, WorkCalendar
from routing.scheduler import SlaScheduler
from routing.services import RoutingContext, WorkOrderService
from telephony.callback_report import CallbackReports

if TYPE_CHECKING:
    from telephony.parts import TelephonyParts


@dataclass
class App(UsesCore):
    core: Core
    routing: routing.RoutingParts
    recordings: recordings.RecordingsParts
    desk: desk.DeskParts
    # Built by the roles that reach the switch (``hotline/wiring.py``); None elsewhere.
    telephony: TelephonyParts | None = None

    # ---- the most used parts, by their old names (tests, CLI) --------------------------------------
    @property
    def work_orders(self) -> WorkOrderService:
        return self.routing.work_orders

    @property
    def scheduler(self) -> SlaScheduler:
        return self.routing.scheduler

    @property
    def calendar(self) -> WorkCalendar:
        return self.routing.calendar

    @property
    def policy(self) -> SlaPolicy:
        return self.routing.policy

    @property
    def routing_context(self) -> RoutingContext:
        return self.routing.routing

    def reload_reference(self) -> None:
        self.routing.reload_reference()

    def close(self) -> None:
        ingestor = self.recordings.ingestor
        if ingestor is not None:
            ingestor.close()
        self.core.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    bus: EventBus | None = None,
    calendar: WorkCalendar | None = None,
    sla_policy_file: Path | None = None,
) -> App:
    settings = settings or load_settings()
    core = build_core(settings, clock=clock, bus=bus)
    routing_parts = routing.build(core, calendar=calendar, sla_policy_file=sla_policy_file)
    recordings_parts = recordings.build(core)
    desk_parts = desk.build(
        core,
        routing_parts.work_orders,
        recordings_parts,
        kb_search=KnowledgeBaseSearch(routing_parts.kb),
        callback_reports=CallbackReports(core.session_factory, core.clock),  # telephony's view, no switch
    )
    _listeners_are_desk_users(recordings_parts)
    return App(core=core, routing=routing_parts, recordings=recordings_parts, desk=desk_parts)


def _listeners_are_desk_users(parts: recordings.RecordingsParts) -> None:
    """The recordings API asks who is listening; the answer is the web desk's logged-in user."""
    from fastapi import Request

    from agent_ui.deps import optional_user
    from recordings.access import Listener

    def resolve(request: Request) -> Listener | None:
        user = optional_user(request)
        return Listener(user.username, user.role.value) if user is not None else None

    parts.listener = resolve
