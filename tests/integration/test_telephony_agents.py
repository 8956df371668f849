"""Agents changing state at run time on a real switch (``AgentDesk`` over ``asterisk -rx``).

Regression (seen in session 1): an agent who logged in, or came back from a pause, while an urgent caller
was already waiting was not offered that caller. Two causes, both fixed: ``queue pause member M reason R``
is not valid Asterisk 22 syntax (it printed the usage and paused nothing), and the urgent queue's position
announcement, which app_queue plays from the moment a caller joins and during which it rings nobody.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.bootstrap import App
from telephony import sipp
from telephony.agents import AgentDesk, RecordingCli
from telephony.baresip import UaAccount, running_baresip, to_wav8k
from telephony.setup import load_agents
from telephony.testing import running_switch
from tests.e2e.telephony_support import (
    NO_WRAPUP,
    answered_pop,
    ended,
    free_port_udp,
    queue_shows,
    recorder_running,
    sipp_agent,
    speech_clips,
    until,
)

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.slow,
    pytest.mark.timeout(90),
    pytest.mark.parametrize("seeded_db_url", ["sqlite"], indirect=True),
]

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
URGENT, CONSULTATION = "13900000001", "13900000002"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    caller_clip, agent_clip = speech_clips()
    out = tmp_path_factory.mktemp("media")
    return to_wav8k(caller_clip, out / "caller.wav"), sipp.to_ulaw(agent_clip, out / "agent.ulaw")


def agent_in_db(hot: App, port: int, *, logged_in: bool) -> None:
    desk = AgentDesk(hot.session_factory, RecordingCli([]))
    desk.create("agent1001", "Li Lei", ["urgent", "consultation"], contact=f"sip:agent1001@127.0.0.1:{port}")
    if logged_in:
        desk.login("agent1001", NOW)


@pytest.mark.parametrize("how", ["unpaused", "logged_in"])
async def test_agent_becoming_available_takes_the_waiting_urgent_caller_first(
    media: tuple[Path, Path], hot: App, tmp_path: Path, how: str
) -> None:
    caller_audio, agent_audio = media
    agent_port = free_port_udp()
    agent_in_db(hot, agent_port, logged_in=how == "unpaused")
    with (
        running_switch(load_agents(hot.session_factory), queues=NO_WRAPUP) as switch,
        sipp_agent(tmp_path, agent_audio, agent_port),
    ):
        desk = AgentDesk(hot.session_factory, switch)
        if how == "unpaused":
            desk.pause("agent1001", NOW, "lunch")
            shown = switch.rx("queue show")
            # paused in each queue of their skills, with the reason (the old command paused nothing)
            assert shown.count("paused:lunch") == 2, shown
        else:
            assert "agent1001" not in switch.rx("queue show")
        target = f"sip:{{}}@127.0.0.1:{switch.config.sip_port}"
        async with (
            recorder_running(switch, hot),
            running_baresip(tmp_path / "c", UaAccount(CONSULTATION), audio=caller_audio) as consultation,
            running_baresip(tmp_path / "u", UaAccount(URGENT), audio=caller_audio) as urgent,
        ):
            await consultation.dial(target.format("12347"))
            await queue_shows(switch, "consultation has 1 calls")
            await urgent.dial(target.format("12346"))
            await queue_shows(switch, "consultation has 1 calls", "urgent has 1 calls")
            await asyncio.sleep(0.5)  # both callers are inside Queue() now, as in the field report

            if how == "unpaused":
                desk.ready("agent1001", NOW)
            else:
                desk.login("agent1001", NOW)
            pop = await until(lambda: answered_pop(hot, URGENT), within=15, what="the urgent caller offered")
            assert answered_pop(hot, CONSULTATION) is None
            await urgent.hangup()
            await until(lambda: answered_pop(hot, CONSULTATION), within=20, what="then the consultation")
            await consultation.hangup()
            urgent_call = await ended(hot, URGENT)
        queue_log = (switch.host_path(switch.config.dirs.log) / "queue_log").read_text()

    assert (pop.agent, pop.queue) == ("agent1001", "urgent")
    assert urgent_call.outcome == "answered"
    connects = [line.split("|")[2] for line in queue_log.splitlines() if "|CONNECT|" in line]
    assert connects == ["urgent", "consultation"], queue_log
    events = {line.split("|")[4] for line in queue_log.splitlines() if "|agent1001|" in line}
    assert ("ADDMEMBER" in events) is (how == "logged_in")
    assert ("PAUSE" in events) is (how == "unpaused")


async def test_an_agent_added_while_the_switch_runs_is_rendered_and_reloaded(hot: App) -> None:
    """What ``hotline asterisk agent add`` and ``demo-agents`` do to a running switch: render, reload."""
    from dataclasses import replace

    from telephony.setup import ensure_demo_agents

    with running_switch(load_agents(hot.session_factory)) as switch:
        assert "agent1" not in switch.rx("pjsip show endpoints")
        [(user, _password)] = ensure_demo_agents(hot.session_factory)
        switch.config = replace(switch.config, agents=tuple(load_agents(hot.session_factory)))
        switch.write_config()
        switch.reload()
        endpoints = switch.rx("pjsip show endpoints")
        queues = switch.rx("queue show")
    assert f"Endpoint:  {user}" in endpoints
    assert queues.count("(PJSIP/agent1)") == 3  # a member of every queue, logged in by ensure_demo_agents
