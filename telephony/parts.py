"""Telephony's parts for the composition root: following the main switch over ARI, and the desk's ports.

- ARI events become call records and screen pops (``TelephonyService`` + ``CallRecorder``), reconciled
  with the switch after every (re)connection; exactly one process per switch follows it (a lease, held by
  the telephony role);
- the desk gets :class:`~telephony.desk.DeskTelephony` (transfers, three-way calls, the agent's current
  call) and :class:`~telephony.agents.AgentDesk` (ready / paused / wrap-up as app_queue membership);
- supervisors listen, whisper or barge through ARI snoops (:class:`~telephony.monitor.AriCallMonitor`);
- a work order filed with a ``call_id`` is linked to that call (``link_orders_on_intake``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from kernel.calling_hours import WorkdayCalendar
from kernel.core import Core, UsesCore
from telephony.agents import AgentDesk
from telephony.ari import AriClient, AriEndpoint
from telephony.desk import DeskTelephony, OrderEvent, link_orders_on_intake
from telephony.missed_calls import queue_callback_policy
from telephony.monitor import AriCallMonitor
from telephony.records import CallRecorder, wrapup_of
from telephony.secrets import load_or_create
from telephony.service import TelephonyService
from telephony.setup import main_switch
from telephony.transfer import CallTransfers


@dataclass
class TelephonyParts(UsesCore):
    core: Core
    endpoint: AriEndpoint
    client: AriClient
    recorder: CallRecorder
    transfers: CallTransfers
    agent_desk: AgentDesk
    call_monitor: AriCallMonitor

    def service(self) -> TelephonyService:
        return TelephonyService(self.client, self.recorder, listeners=[self.transfers.handle])

    def desk_telephony(self, loop: asyncio.AbstractEventLoop) -> DeskTelephony:
        """Transfers for the desk's (synchronous) routes, run on the loop that follows the switch."""
        return DeskTelephony(self.transfers, loop)

    def link_orders_on_intake(self) -> Callable[[OrderEvent], None]:
        return link_orders_on_intake(self.session_factory)


def build(core: Core, *, calendar: WorkdayCalendar | None = None) -> TelephonyParts:
    """``calendar``: the official work calendar (routing's), for the days callbacks are not placed."""
    s = core.settings
    secrets = load_or_create(s.data_dir, ari_password_override=s.ari_password)
    endpoint = AriEndpoint(s.ari_url, s.ari_user, secrets.ari_password, s.ari_app)
    client = AriClient(endpoint)
    switch_cli = main_switch(s, [])  # `asterisk -rx` on the main instance (agent states, transfer redirects)
    # The desk counts each queue's wrap-up down after a call (CallEnded.wrapup_seconds).
    recorder = CallRecorder(
        core.session_factory,
        core.bus,
        wrapup=wrapup_of(switch_cli.config.queues),
        callbacks=queue_callback_policy(s, calendar),  # a missed call leaves a callback request
    )
    return TelephonyParts(
        core=core,
        endpoint=endpoint,
        client=client,
        recorder=recorder,
        transfers=CallTransfers(client, switch_cli, core.session_factory, recorder),
        agent_desk=AgentDesk(core.session_factory, switch_cli),
        call_monitor=AriCallMonitor(s.ari_url, s.ari_user, secrets.ari_password, s.ari_app),
    )
