"""Getting to a person fast, on the real switch: keys pressed ahead are kept (also those that arrive while no
AGI command runs, which Asterisk's AGI loop itself drops), every prompt gives way to a key, and the no-menu mode
puts the caller straight into the queue, where 2 still switches to English without losing their place.

These tests press keys *before* the IVR asks for them, on purpose: that is what they prove.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from ivr.agi_port import KEYS_VARIABLE
from ivr.fastagi import AgiRequest, start_server
from ivr.model import MENU_DIR
from ivr.port import CallPort
from ivr.service import IvrServices, hotline_handlers
from kernel.clock import FakeClock
from telephony.agents import AgentDesk
from telephony.baresip import UaAccount, running_baresip
from telephony.orm import CallLegRow
from telephony.setup import load_agents
from telephony.switch import ASTERISK, Switch
from telephony.testing import IvrProbe, running_switch
from tests.e2e.telephony_support import (
    NO_WRAPUP,
    Ari,
    answered_pop,
    call_media,
    call_of,
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

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CITIZEN, OTHER = "13800000021", "13800000022"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return call_media(tmp_path_factory.mktemp("media"))


def services(hot: App, menus: Path = MENU_DIR) -> IvrServices:
    return IvrServices(calendar=hot.calendar, clock=FakeClock(MONDAY_10H), menus=menus)


def agent(hot: App, port: int) -> AgentDesk:
    return queue_agent(hot, port, MONDAY_10H)


def raw_queue_show(switch: Switch) -> str:
    """``queue show`` as Asterisk prints it, without Switch.rx's own clean-up."""
    command = [*switch._prefix, ASTERISK, "-C", switch.config.asterisk_conf, "-rx", "queue show"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def keys_seen(ari: Ari, hot: App, caller: str) -> str:
    row = call_of(hot, caller)
    return ari.varsets(row.call_id).get(KEYS_VARIABLE, "") if row is not None else ""


async def test_keys_pressed_while_no_agi_command_runs_are_kept(
    media: tuple[Path, Path, Path], hot: App, tmp_path: Path
) -> None:
    """The IVR is held before its first command while the caller presses 2 (English) and 3 (urgent): Asterisk's
    AGI loop reads and drops those keys, StoreDTMF keeps them, and the IVR then routes without asking."""
    caller_audio, _agent_audio, sounds = media
    probe = IvrProbe()
    gate = threading.Event()
    ivr = hotline_handlers(services(hot))["ivr"]

    def held(port: CallPort, request: AgiRequest) -> None:
        gate.wait(60)
        ivr(port, request)

    handle = start_server("127.0.0.1", 0, handlers=probe.wrap({"ivr": held}))
    try:
        with running_switch(fastagi_port=handle.port, sounds=sounds) as switch:
            async with (
                recorder_running(switch, hot) as ari,
                running_baresip(tmp_path / "citizen", UaAccount(CITIZEN), audio=caller_audio) as phone,
            ):
                await phone.dial(f"sip:12345@127.0.0.1:{switch.config.sip_port}")
                await phone.wait_event("CALL_ESTABLISHED")
                await phone.send_digit("2")
                await phone.send_digit("3")
                await until(lambda: keys_seen(ari, hot, CITIZEN) == "23", what="the switch kept both keys")
                gate.set()
                route = await probe.wait_route(CITIZEN)
                variables = probe.variables(CITIZEN)
                await phone.hangup()
    finally:
        gate.set()
        handle.stop()

    assert route == "queue-urgent"
    assert variables["HOTLINE_CHOICES"] == "lang:en,main:3"
    assert [s.value for s in probe.of(CITIZEN) if s.kind == "ahead"] == ["2", "3"]
    assert [s for s in probe.of(CITIZEN) if s.kind == "ask"] == []  # no question had to wait for a key
    assert probe.skipped(CITIZEN)[:1] == ["hotline/zh/welcome"]  # nor did any prompt play before the route
    assert [s.what for s in probe.of(CITIZEN) if s.kind == "play"] == ["hotline/en/urgent_transfer"]


async def test_keys_pressed_as_soon_as_12345_answers_lead_to_the_queue(
    media: tuple[Path, Path, Path], hot: App, tmp_path: Path
) -> None:
    caller_audio, agent_audio, sounds = media
    agent_port = free_port_udp()
    agent(hot, agent_port)
    probe = IvrProbe()
    with (
        ivr_server(services(hot), probe) as agi,
        running_switch(
            load_agents(hot.session_factory), queues=NO_WRAPUP, fastagi_port=agi.port, sounds=sounds
        ) as switch,
        sipp_agent(tmp_path, agent_audio, agent_port),
    ):
        async with (
            recorder_running(switch, hot),
            running_baresip(tmp_path / "citizen", UaAccount(CITIZEN), audio=caller_audio) as phone,
        ):
            await phone.dial(f"sip:12345@127.0.0.1:{switch.config.sip_port}")
            await phone.wait_event("CALL_ESTABLISHED")
            for key in "11":  # Mandarin, enquiries: pressed at once, whatever the IVR is saying
                await phone.send_digit(key)
            pop = await until(lambda: answered_pop(hot, CITIZEN), what="an agent answered")
            await phone.hangup()
    assert probe.variables(CITIZEN)["HOTLINE_CHOICES"] == "lang:zh,main:1"
    assert (pop.queue, pop.ivr_choices) == ("consultation", ("lang:zh", "main:1"))
    # Each key was used once, in order: none lost between two commands, none counted twice.
    assert [s.value for s in probe.of(CITIZEN) if s.kind in ("got", "ahead")] == ["1", "1"]


async def test_no_menu_mode_straight_to_the_queue_and_english_while_waiting(
    media: tuple[Path, Path, Path], hot: App, tmp_path: Path
) -> None:
    caller_audio, agent_audio, sounds = media
    menus = tmp_path / "menus"
    shutil.copytree(MENU_DIR, menus)
    hotline_yaml = menus / "hotline.yaml"
    hotline_yaml.write_text(hotline_yaml.read_text().replace("\nmode: menu\n", "\nmode: direct\n"))
    agent_port = free_port_udp()
    desk = agent(hot, agent_port)
    probe = IvrProbe()
    with (
        ivr_server(services(hot, menus), probe) as agi,
        running_switch(
            load_agents(hot.session_factory), queues=NO_WRAPUP, fastagi_port=agi.port, sounds=sounds
        ) as switch,
        sipp_agent(tmp_path, agent_audio, agent_port),
    ):
        desk = AgentDesk(hot.session_factory, switch)
        desk.pause("agent1001", MONDAY_10H, "break")  # nobody free: the callers wait
        target = f"sip:{{}}@127.0.0.1:{switch.config.sip_port}"
        async with (
            recorder_running(switch, hot) as ari,
            running_baresip(tmp_path / "first", UaAccount(CITIZEN), audio=caller_audio) as first,
            running_baresip(tmp_path / "second", UaAccount(OTHER), audio=caller_audio) as second,
        ):
            await first.dial(target.format("12345"))
            assert await probe.wait_route(CITIZEN) == "queue-consultation"  # asked nothing
            await queue_shows(switch, "consultation has 1 calls")
            await second.dial(target.format("12347"))
            await queue_shows(switch, "consultation has 2 calls")

            def joins() -> list[dict[str, str]]:
                row = call_of(hot, CITIZEN)
                return [
                    e["userevent"]
                    for e in ari.of_type("ChannelUserevent")
                    if row is not None
                    and e.get("eventname") == "HotlineQueueJoin"
                    and e["channel"]["id"] == row.call_id
                ]

            await until(lambda: len(joins()) == 1, what="the first caller joined the queue")
            await first.send_digit("2")  # English, while waiting
            await until(lambda: len(joins()) == 2, what="the first caller is back in the queue")
            waiting = await queue_shows(switch, "consultation has 2 calls")
            raw = await asyncio.to_thread(raw_queue_show, switch)
            assert "agent1001 (PJSIP/agent1001)" in raw  # the member line Asterisk colours
            assert "\x1b" not in raw  # asterisk.conf's nocolor: no colour codes even before Switch.rx strips

            desk.ready("agent1001", MONDAY_10H)
            pop = await until(lambda: answered_pop(hot, CITIZEN), what="the first caller answered first")
            assert answered_pop(hot, OTHER) is None
            await first.hangup()
            await second.hangup()
            first_call = call_of(hot, CITIZEN)

    assert [s for s in probe.of(CITIZEN) if s.kind == "ask"] == []
    assert probe.played(CITIZEN)[:2] == ["hotline/zh/welcome_direct", "hotline/en/choose_language"]
    assert [j["lang"] for j in joins()] == ["zh", "en"]
    assert first_call is not None and first_call.language == "en"
    assert pop.ivr_choices == ("lang:en",)
    # Back at the place they left: still first of the two callers.
    with hot.session_factory() as session:
        name = session.scalar(
            select(CallLegRow.channel_name).where(
                CallLegRow.call_id == first_call.call_id, CallLegRow.role == "caller"
            )
        )
    assert name is not None
    callers = [line for line in waiting.splitlines() if line.strip().startswith(("1.", "2."))]
    assert name in callers[0], waiting
