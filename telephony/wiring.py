"""Telephony inside the web process, for the composition root (``hotline/web.py``): one call starts it.

- ARI events become call records and screen pops (``TelephonyService`` + ``CallRecorder``);
- the desk gets :class:`~telephony.desk.DeskTelephony` under ``hot.extras["telephony_desk"]`` (transfers,
  three-way calls, the agent's current call, call-order links) and :class:`~telephony.agents.AgentDesk`
  under ``hot.extras["agent_desk"]`` (login, pause, wrap-up, ready as app_queue membership);
- a work order filed with a ``call_id`` is linked to that call (routing's ``WorkOrderAccepted``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.bootstrap import App

DESK_TELEPHONY = "telephony_desk"
AGENT_DESK = "agent_desk"


def start_telephony(hot: App) -> asyncio.Task[None]:
    """Start following the main switch on the running event loop; returns the task (cancel it to stop)."""
    from routing.domain.events import WorkOrderAccepted
    from telephony.agents import AgentDesk
    from telephony.ari import AriClient, AriEndpoint
    from telephony.desk import DeskTelephony, link_orders_on_intake
    from telephony.records import CallRecorder
    from telephony.secrets import load_or_create
    from telephony.service import TelephonyService
    from telephony.setup import main_switch
    from telephony.transfer import CallTransfers

    s = hot.settings
    secrets = load_or_create(s.data_dir, ari_password_override=s.ari_password)
    client = AriClient(AriEndpoint(s.ari_url, s.ari_user, secrets.ari_password, s.ari_app))
    recorder = CallRecorder(hot.session_factory, hot.bus)
    switch_cli = main_switch(s, [])  # `asterisk -rx` on the main instance (agent states, transfer redirects)
    transfers = CallTransfers(client, switch_cli, hot.session_factory, recorder)
    hot.extras[DESK_TELEPHONY] = DeskTelephony(transfers, asyncio.get_running_loop())
    hot.extras[AGENT_DESK] = AgentDesk(hot.session_factory, switch_cli)
    hot.bus.subscribe(WorkOrderAccepted, link_orders_on_intake(hot.session_factory))
    service = TelephonyService(client, recorder, listeners=[transfers.handle])
    return asyncio.create_task(service.run(), name="telephony")
