"""The web desk's parts, built once per process by the composition root.

The desk takes routing's work-order service (its commands) and the ports other components lend it, each
optional and typed; pages show "not connected" where a port is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_ui.live import DeskFeed
from agent_ui.ports import AgentSwitch, CallbackReports, CallControl, CallMonitor, KbSearch
from agent_ui.security import SessionCodec
from agent_ui.users import UserService
from kernel.core import Core, UsesCore
from recordings.parts import RecordingsParts
from recordings.transcripts import TranscriptSource
from routing.services import WorkOrderService

SSE_LIFETIME_SECONDS = 300.0  # the browser's EventSource reconnects by itself after a stream ends


@dataclass
class DeskParts(UsesCore):
    core: Core
    work_orders: WorkOrderService
    feed: DeskFeed
    users: UserService
    codec: SessionCodec
    recordings: RecordingsParts  # recordings' views and QA commands (the player, QA review pages)
    kb_search: KbSearch | None = None
    call_monitor: CallMonitor | None = None
    agent_switch: AgentSwitch | None = None
    call_control: CallControl | None = None
    callback_reports: CallbackReports | None = None  # missed-call callbacks for supervisors
    sse_lifetime: float = SSE_LIFETIME_SECONDS

    @property
    def transcripts(self) -> TranscriptSource:
        return self.recordings.transcripts


def build(
    core: Core,
    work_orders: WorkOrderService,
    recordings: RecordingsParts,
    *,
    kb_search: KbSearch | None = None,
    callback_reports: CallbackReports | None = None,
) -> DeskParts:
    return DeskParts(
        core=core,
        work_orders=work_orders,
        feed=DeskFeed(core.bus, core.clock),
        users=UserService(
            core.session_factory,
            core.clock,
            allow_demo_password=core.settings.environment == "development",
        ),
        codec=SessionCodec(core.settings.secret_key),
        recordings=recordings,
        kb_search=kb_search,
        callback_reports=callback_reports,
    )
