"""Real calls through 12345 and the real FastAGI IVR: a baresip caller presses RFC 4733 keys when the IVR asks.

1. An English-speaking citizen presses 2 (English) and 3 (urgent) and is answered by the auto-answering agent
   *before* a consultation caller who was already waiting; the call row holds queue, priority and the IVR's
   choices, the screen pop carries them.
2. "Query my work order": a citizen keys the digits of a real work order (routing's intake) and hears its
   state; the IVR tells the switch which order and state (channel variables seen by ARI), the call is linked to
   the order, and when they then ask for an agent the screen pop lists the order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from hotline.wiring import RoutingOrderLookup
from ivr.service import IvrServices
from kernel.clock import FakeClock
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from telephony.agents import AgentDesk
from telephony.baresip import UaAccount, running_baresip
from telephony.orm import CallWorkOrderRow
from telephony.setup import load_agents
from telephony.testing import IvrProbe, running_switch
from tests.e2e.telephony_support import (
    NO_WRAPUP,
    answered_pop,
    call_media,
    call_of,
    ended,
    free_port_udp,
    ivr_server,
    queue_agent,
    queue_shows,
    recorder_running,
    sipp_agent,
    until,
)

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.slow,
    pytest.mark.timeout(120),
    pytest.mark.parametrize("seeded_db_url", ["sqlite"], indirect=True),
]

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # day service: the menus' day variant
URGENT, WAITING = "13800000003", "13800000002"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return call_media(tmp_path_factory.mktemp("media"))


def ivr_services(hot: App) -> IvrServices:
    return IvrServices(
        calendar=hot.calendar, orders=RoutingOrderLookup(hot.session_factory), clock=FakeClock(MONDAY_10H)
    )


def new_agent(hot: App, port: int) -> None:
    queue_agent(hot, port, MONDAY_10H)


async def test_urgent_ivr_caller_goes_ahead_of_a_waiting_consultation(
    media: tuple[Path, Path, Path], hot: App, tmp_path: Path
) -> None:
    caller_audio, agent_audio, sounds = media
    agent_port = free_port_udp()
    new_agent(hot, agent_port)
    probe = IvrProbe()
    with (
        ivr_server(ivr_services(hot), probe) as agi,
        running_switch(
            load_agents(hot.session_factory), queues=NO_WRAPUP, fastagi_port=agi.port, sounds=sounds
        ) as switch,
        sipp_agent(tmp_path, agent_audio, agent_port),
    ):
        desk = AgentDesk(hot.session_factory, switch)
        desk.pause("agent1001", MONDAY_10H, "break")  # on a break while the callers arrive
        assert "paused:break" in switch.rx("queue show urgent")
        target = f"sip:{{}}@127.0.0.1:{switch.config.sip_port}"
        async with (
            recorder_running(switch, hot) as ari,
            running_baresip(tmp_path / "waiting", UaAccount(WAITING), audio=caller_audio) as waiting,
            running_baresip(tmp_path / "urgent", UaAccount(URGENT), audio=caller_audio) as urgent,
        ):
            await waiting.dial(target.format("12347"))  # a consultation caller, straight into the queue
            await queue_shows(switch, "consultation has 1 calls")
            await urgent.dial(target.format("12345"))
            assert await probe.press(URGENT, 0, "2", urgent.send_digit) == "2"  # English
            assert await probe.press(URGENT, 1, "3", urgent.send_digit) == "3"  # urgent: power cut
            waiting_both = await queue_shows(switch, "consultation has 1 calls", "urgent has 1 calls")

            desk.ready("agent1001", MONDAY_10H)  # back from the break: who is offered first?
            first = await until(lambda: answered_pop(hot, URGENT), what="the urgent caller answered")
            assert answered_pop(hot, WAITING) is None
            assert "consultation has 1 calls" in switch.rx("queue show consultation")
            await urgent.hangup()
            second = await until(lambda: answered_pop(hot, WAITING), what="the waiting caller answered next")
            await waiting.hangup()
            urgent_call, waiting_call = await ended(hot, URGENT), await ended(hot, WAITING)
            channel_vars = ari.varsets(urgent_call.call_id)
        queue_log = (switch.host_path(switch.config.dirs.log) / "queue_log").read_text()

    assert "urgent has 1 calls" in waiting_both
    # The IVR: English prompts after the choice, the urgent transfer prompt, the dialplan contract set.
    played = probe.played(URGENT)
    assert played[:2] == ["hotline/zh/welcome", "hotline/zh/choose_language"]
    assert "hotline/en/main_menu" in played and played[-1] == "hotline/en/urgent_transfer"
    assert channel_vars["HOTLINE_ROUTE"] == "queue-urgent"
    assert channel_vars["HOTLINE_CHOICES"] == "lang:en,main:3"
    # The call records (from ARI events): the urgent caller came later but was answered first.
    assert waiting_call.started_at < urgent_call.started_at
    assert urgent_call.answered_at is not None and waiting_call.answered_at is not None
    assert urgent_call.answered_at < waiting_call.answered_at, queue_log
    assert (urgent_call.dialed, urgent_call.queue, urgent_call.priority) == ("12345", "urgent", 10)
    assert (urgent_call.ivr_choices, urgent_call.language) == ("lang:en,main:3", "en")
    assert (urgent_call.outcome, urgent_call.agent) == ("answered", "agent1001")
    assert (waiting_call.queue, waiting_call.priority, waiting_call.outcome) == (
        "consultation",
        0,
        "answered",
    )
    # Asterisk's own queue log agrees: CONNECT urgent before CONNECT consultation.
    connects = [line.split("|")[2] for line in queue_log.splitlines() if "|CONNECT|" in line]
    assert connects == ["urgent", "consultation"], queue_log
    # The screen pops.
    assert (first.queue, first.ivr_choices, first.agent) == ("urgent", ("lang:en", "main:3"), "agent1001")
    assert second.queue == "consultation"


async def test_caller_queries_a_real_work_order_then_asks_for_an_agent(
    media: tuple[Path, Path, Path], hot: App, tmp_path: Path
) -> None:
    caller_audio, agent_audio, sounds = media
    citizen = "13812345678"
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="龙华区金贸路路灯不亮，晚上很黑",
            citizen_phone=citizen,
            location_text="龙华区金贸路",
            district="龙华区",
            dispatch=False,
        ),
        Actor("agent007", "agent"),
    )
    digits = order.number[2:]  # the caller keys the digits of HK...
    agent_port = free_port_udp()
    new_agent(hot, agent_port)
    probe = IvrProbe()
    with (
        ivr_server(ivr_services(hot), probe) as agi,
        running_switch(
            load_agents(hot.session_factory), queues=NO_WRAPUP, fastagi_port=agi.port, sounds=sounds
        ) as switch,
        sipp_agent(tmp_path, agent_audio, agent_port),
    ):
        async with (
            recorder_running(switch, hot) as ari,
            running_baresip(tmp_path / "citizen", UaAccount(citizen), audio=caller_audio) as phone,
        ):
            await phone.dial(f"sip:12345@127.0.0.1:{switch.config.sip_port}")
            assert await probe.press(citizen, 0, "1", phone.send_digit) == "1"  # Mandarin
            assert await probe.press(citizen, 1, "4", phone.send_digit) == "4"  # query a work order
            assert await probe.press(citizen, 2, digits, phone.send_digit) == digits
            assert await probe.press(citizen, 3, "0", phone.send_digit) == "0"  # then an agent
            pop = await until(lambda: answered_pop(hot, citizen), what="an agent answered the citizen")
            await phone.hangup()
            call = await ended(hot, citizen)
            channel_vars = ari.varsets(call.call_id)

    # What the IVR did: read the number back digit by digit, then the state from routing's table.
    played = probe.played(citizen)
    said = played[played.index("hotline/zh/order_number_is") + 1 :][: len(digits)]
    assert "".join(p.rsplit("/", 1)[-1] for p in said) == digits
    assert played[played.index("hotline/zh/order_state_is") + 1] == "hotline/zh/state_accepted"
    # ... and told the switch (ARI saw the variables set on the caller's channel).
    assert channel_vars["HOTLINE_ORDER_QUERIED"] == order.number
    assert channel_vars["HOTLINE_ORDER_STATE"] == "accepted"
    # The call record: the choices, the consultation queue, the order linked to the call.
    assert call.ivr_choices == f"lang:zh,main:4,order:{digits},order_after:0"
    assert (call.dialed, call.queue, call.priority, call.outcome) == ("12345", "consultation", 0, "answered")
    with hot.session_factory() as session:
        linked = session.scalars(
            select(CallWorkOrderRow.work_order_number).where(CallWorkOrderRow.call_id == call.call_id)
        ).all()
    assert linked == [order.number]
    # The screen pop shows the agent this citizen's work orders.
    assert [(w.number, w.state) for w in pop.work_orders] == [(order.number, "accepted")]
    assert call_of(hot, citizen) is not None
