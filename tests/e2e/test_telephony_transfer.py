"""Blind and attended transfers and three-way calls of a real queue call, through ARI (telephony/transfer.py).

A baresip citizen calls the urgent line; agent1001 (sipp, auto-answer) takes it from the queue. agent1002 is
another agent's softphone (not in the queue), and the units' trunk leads to a sipp phone that answers any
outside number. Assertions are on the bridges and channels ARI reports and on the call legs in the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from telephony import sipp
from telephony.agents import AgentDesk, RecordingCli
from telephony.ari import AriClient
from telephony.baresip import UaAccount, running_baresip, to_wav8k
from telephony.desk import DeskTelephony
from telephony.events import CallAnswered
from telephony.orm import CallLegRow
from telephony.setup import load_agents
from telephony.switch import Switch
from telephony.testing import running_switch
from telephony.transfer import CallTransfers, TransferError
from tests.e2e.telephony_support import (
    NO_WRAPUP,
    Ari,
    answered_pop,
    call_of,
    ended,
    free_port_udp,
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

CITIZEN = "13700000001"
UNIT_DUTY_PHONE, UNIT_CONTACT = "68521234", "68525678"


@dataclass
class Rig:
    switch: Switch
    caller_audio: Path


@pytest.fixture
def rig(hot: App, tmp_path: Path) -> Iterator[Rig]:
    caller_clip, agent_clip = speech_clips()
    agent_audio = sipp.to_ulaw(agent_clip, tmp_path / "agent.ulaw")
    ports = {name: free_port_udp() for name in ("agent1001", "agent1002", "units")}
    desk = AgentDesk(hot.session_factory, RecordingCli([]))
    for username, name in (("agent1001", "Li Lei"), ("agent1002", "Han Mei")):
        desk.create(username, name, ["urgent"], contact=f"sip:{username}@127.0.0.1:{ports[username]}")
    desk.login("agent1001", datetime.now(UTC))  # agent1002 is not in the queue: only reached by transfer
    with (
        running_switch(
            load_agents(hot.session_factory), queues=NO_WRAPUP, unit_trunk=f"sip:127.0.0.1:{ports['units']}"
        ) as switch,
        sipp_agent(tmp_path, agent_audio, ports["agent1001"], name="a1"),
        sipp_agent(tmp_path, agent_audio, ports["agent1002"], name="a2"),
        sipp_agent(tmp_path, agent_audio, ports["units"], name="units"),
    ):
        yield Rig(switch, to_wav8k(caller_clip, tmp_path / "caller.wav"))


async def bridges(client: AriClient) -> list[set[str]]:
    """The channel names in each bridge ARI reports (names, not ids: ``PJSIP/agent1002-...``)."""
    names = {c["id"]: c["name"] for c in await client.channels()}
    return [{names.get(ch, ch) for ch in b["channels"]} for b in await client.bridges() if b["channels"]]


def endpoints(members: set[str]) -> set[str]:
    """``PJSIP/agent1001-0000001`` -> ``agent1001``; the citizen's channel -> ``citizens``; trunk -> units."""
    return {name.split("/", 1)[1].rsplit("-", 1)[0] for name in members}


def legs(hot: App, call_id: str) -> list[CallLegRow]:
    with hot.session_factory() as session:
        return list(
            session.scalars(select(CallLegRow).where(CallLegRow.call_id == call_id).order_by(CallLegRow.id))
        )


async def answered_call(hot: App) -> str:
    await until(lambda: answered_pop(hot, CITIZEN), what="agent1001 answered the citizen")
    row = call_of(hot, CITIZEN)
    assert row is not None
    return row.call_id


def pop_for(hot: App, agent: str) -> CallAnswered | None:
    return next((e for e in hot.bus.published if isinstance(e, CallAnswered) and e.agent == agent), None)


def transfers_for(hot: App, rig: Rig, ari: Ari) -> CallTransfers:
    transfers = CallTransfers(ari.client, rig.switch, hot.session_factory, ari.recorder, answer_timeout=10)
    ari.listeners.append(transfers.handle)
    return transfers


async def test_blind_transfer_to_another_agent(hot: App, rig: Rig, tmp_path: Path) -> None:
    async with (
        recorder_running(rig.switch, hot) as ari,
        running_baresip(tmp_path / "citizen", UaAccount(CITIZEN), audio=rig.caller_audio) as phone,
    ):
        # the desk's synchronous face, called from a worker thread as a desk route would
        desk = DeskTelephony(transfers_for(hot, rig, ari), asyncio.get_running_loop())
        await phone.dial(f"sip:12346@127.0.0.1:{rig.switch.config.sip_port}")
        call_id = await answered_call(hot)
        assert await asyncio.to_thread(desk.current_call, "agent1001") == call_id
        assert [endpoints(b) for b in await bridges(ari.client)] == [{"citizens", "agent1001"}]

        with pytest.raises(TransferError):
            await asyncio.to_thread(desk.blind_transfer, call_id, "not a target")
        await asyncio.to_thread(desk.blind_transfer, call_id, "agent1002")
        pop = await until(lambda: pop_for(hot, "agent1002"), what="agent1002 answered the transferred call")
        now_bridged = [endpoints(b) for b in await bridges(ari.client)]
        live = {c["name"].split("-")[0] for c in await ari.client.channels()}
        await phone.hangup()
        call = await ended(hot, CITIZEN)

    assert now_bridged == [{"citizens", "agent1002"}]
    assert "PJSIP/agent1001" not in live  # released
    assert (pop.call_id, pop.caller_number, pop.queue) == (call_id, CITIZEN, "urgent")
    rows = legs(hot, call_id)
    assert [(leg.role, leg.agent, leg.dial_status) for leg in rows] == [
        ("caller", None, ""),
        ("agent", "agent1001", "ANSWER"),
        ("agent", "agent1002", "ANSWER"),
    ]
    assert all(leg.ended_at is not None for leg in rows)
    assert (call.outcome, call.agent) == ("answered", "agent1001")


async def test_attended_transfer_cancelled_then_completed_to_a_unit(
    hot: App, rig: Rig, tmp_path: Path
) -> None:
    async with (
        recorder_running(rig.switch, hot) as ari,
        running_baresip(tmp_path / "citizen", UaAccount(CITIZEN), audio=rig.caller_audio) as phone,
    ):
        transfers = transfers_for(hot, rig, ari)
        await phone.dial(f"sip:12346@127.0.0.1:{rig.switch.config.sip_port}")
        call_id = await answered_call(hot)

        # consult agent1002 while the citizen waits on hold; then think better of it
        await transfers.attended(call_id, "agent1002")
        consulting = sorted(map(sorted, map(endpoints, await bridges(ari.client))))
        await transfers.cancel(call_id)
        back = [endpoints(b) for b in await bridges(ari.client)]
        # consult the unit's duty phone, and hand the citizen over
        await transfers.attended(call_id, UNIT_DUTY_PHONE)
        consulting_unit = sorted(map(sorted, map(endpoints, await bridges(ari.client))))
        await transfers.complete(call_id)
        handed_over = [endpoints(b) for b in await bridges(ari.client)]
        with pytest.raises(TransferError):
            await transfers.complete(call_id)  # nothing pending any more
        live_agents = [c["name"] for c in await ari.client.channels() if "agent" in c["name"]]
        await phone.hangup()
        await ended(hot, CITIZEN)
        await until(lambda: not transfers.calls, what="the controlled call is over")
        await until(lambda: all(leg.ended_at for leg in legs(hot, call_id)), what="every leg ended")

    assert consulting == [["agent1001", "agent1002"], ["citizens"]]  # a holding bridge for the citizen
    assert back == [{"citizens", "agent1001"}]
    assert consulting_unit == [["agent1001", "units"], ["citizens"]]
    assert handed_over == [{"citizens", "units"}]
    assert live_agents == []  # agent1001 released, agent1002's consultation hung up
    rows = legs(hot, call_id)
    assert [(leg.role, leg.agent or leg.number, leg.answered_at is not None) for leg in rows] == [
        ("caller", CITIZEN, True),
        ("agent", "agent1001", True),
        ("agent", "agent1002", True),
        ("transfer", UNIT_DUTY_PHONE, True),
    ]


async def test_three_way_call_with_a_department_contact(hot: App, rig: Rig, tmp_path: Path) -> None:
    async with (
        recorder_running(rig.switch, hot) as ari,
        running_baresip(tmp_path / "citizen", UaAccount(CITIZEN), audio=rig.caller_audio) as phone,
    ):
        transfers = transfers_for(hot, rig, ari)
        await phone.dial(f"sip:12346@127.0.0.1:{rig.switch.config.sip_port}")
        call_id = await answered_call(hot)

        await transfers.three_way(call_id, UNIT_CONTACT)
        conference = [endpoints(b) for b in await bridges(ari.client)]
        [bridge] = [b for b in await ari.client.bridges() if b["channels"]]
        await phone.hangup()  # the citizen hangs up: the whole call ends
        await until(lambda: not transfers.calls, what="the controlled call is over")
        await until(lambda: all(leg.ended_at for leg in legs(hot, call_id)), what="every leg ended")
        left = await ari.client.channels()

    assert conference == [{"citizens", "agent1001", "units"}]
    assert bridge["bridge_type"] == "mixing" and bridge["name"] == f"call-{call_id}"
    assert left == []
    rows = legs(hot, call_id)
    assert [(leg.role, leg.agent or leg.number) for leg in rows] == [
        ("caller", CITIZEN),
        ("agent", "agent1001"),
        ("transfer", UNIT_CONTACT),
    ]
    assert rows[-1].channel_name == f"PJSIP/{UNIT_CONTACT}@units"
