"""CallTransfers' rules when a party hangs up mid-transfer, over the fake CallControl (held to ARI by
tests/integration/test_telephony_ari.py); the real switch runs the same paths in tests/e2e/test_telephony_transfer.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hotline.bootstrap import App
from telephony.ari_fake import FakeCallControl
from telephony.records import CallRecorder
from telephony.transfer import CallTransfers, TransferError, endpoint_of

CALLER, AGENT = "main-9.1", "main-9.2"


class SwitchCli:
    """``asterisk -rx`` as the transfer uses it: setting a channel variable, redirecting the caller."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def rx(self, command: str, *, timeout: float = 10.0, check: bool = True) -> str:
        self.commands.append(command)
        if command.startswith("channel redirect"):
            return "Channel 'PJSIP/citizens-00000001' successfully redirected to hotline-xfer,hold,1"
        return ""


def ev(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": "2026-11-23T02:00:00.000+0000", **fields}


def answered_call(recorder: CallRecorder) -> None:
    caller = {
        "id": CALLER,
        "name": "PJSIP/citizens-00000001",
        "state": "Up",
        "caller": {"number": "13800000009"},
        "dialplan": {"context": "hotline-inbound", "exten": "12346"},
    }
    agent = {"id": AGENT, "name": "PJSIP/agent1001-00000002", "dialplan": {"context": "hotline-agents"}}
    recorder.handle_event(ev("ChannelCreated", channel=caller))
    recorder.handle_event(ev("Dial", caller=caller, peer=agent, dialstatus="ANSWER"))


@pytest.fixture
def rig(hot: App) -> tuple[CallTransfers, FakeCallControl, SwitchCli]:
    recorder = CallRecorder(hot.session_factory, hot.bus)
    answered_call(recorder)
    control = FakeCallControl()
    control.add_channel(CALLER, "PJSIP/citizens-00000001")
    control.add_channel(AGENT, "PJSIP/agent1001-00000002")
    cli = SwitchCli()
    return CallTransfers(control, cli, hot.session_factory, recorder, answer_timeout=2), control, cli


async def enters_app(transfers: CallTransfers, channel_id: str) -> None:
    """Play Asterisk: once the transfer waits for the channel, it enters the ARI application."""
    for _ in range(200):
        if channel_id in transfers._entered:
            await transfers.handle(ev("StasisStart", channel={"id": channel_id}, args=[]))
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody waited for {channel_id}")


async def consult(
    transfers: CallTransfers, control: FakeCallControl, target: str
) -> tuple[str, dict[str, list[str]]]:
    task = asyncio.create_task(transfers.attended("main-9.1", target))
    await enters_app(transfers, CALLER)
    await enters_app(transfers, AGENT)
    for _ in range(200):
        if control.originated:
            break
        await asyncio.sleep(0.01)
    target_id = control.originated[-1]["id"]
    await enters_app(transfers, target_id)
    await task
    return target_id, {b["bridge_type"]: b["channels"] for b in await control.bridges()}


async def test_agent_hanging_up_during_a_consultation_completes_the_transfer(
    rig: tuple[CallTransfers, FakeCallControl, SwitchCli],
) -> None:
    transfers, control, cli = rig
    target, bridges = await consult(transfers, control, "68521234")
    assert cli.commands == [
        f"dialplan set chanvar PJSIP/agent1001-00000002 HOTLINE_XFER {CALLER}",
        "channel redirect PJSIP/citizens-00000001 hotline-xfer,hold,1",
    ]
    assert control.originated[-1]["endpoint"] == "PJSIP/68521234@units"
    assert bridges == {"holding": [CALLER], "mixing": [AGENT, target]}

    await control.hangup(AGENT)
    await transfers.handle(ev("ChannelDestroyed", channel={"id": AGENT}, cause_txt="Normal Clearing"))
    assert {b["bridge_type"]: b["channels"] for b in await control.bridges()} == {"mixing": [target, CALLER]}
    assert transfers.calls[CALLER].agent == target  # the unit now has the citizen

    await control.hangup(target)
    await transfers.handle(ev("ChannelDestroyed", channel={"id": target}, cause_txt="Normal Clearing"))
    assert CALLER not in transfers.calls
    assert await control.channels() == [] and await control.bridges() == []  # the citizen was let go


async def test_target_hanging_up_during_a_consultation_gives_the_caller_back(
    rig: tuple[CallTransfers, FakeCallControl, SwitchCli],
) -> None:
    transfers, control, _ = rig
    target, _ = await consult(transfers, control, "agent1002")
    assert control.originated[-1]["endpoint"] == "PJSIP/agent1002"
    await control.hangup(target)
    await transfers.handle(ev("ChannelDestroyed", channel={"id": target}, cause_txt="User busy"))
    assert {b["bridge_type"]: b["channels"] for b in await control.bridges()} == {"mixing": [AGENT, CALLER]}
    with pytest.raises(TransferError):
        await transfers.complete(CALLER)


async def test_a_target_that_does_not_answer_leaves_the_call_as_it_was(
    rig: tuple[CallTransfers, FakeCallControl, SwitchCli],
) -> None:
    transfers, control, _ = rig
    task = asyncio.create_task(transfers.three_way(CALLER, "68525678"))
    await enters_app(transfers, CALLER)
    await enters_app(transfers, AGENT)
    for _ in range(200):
        if control.originated:
            break
        await asyncio.sleep(0.01)
    target = control.originated[-1]["id"]
    for _ in range(200):
        if target in transfers._entered:
            break
        await asyncio.sleep(0.01)
    await transfers.handle(ev("ChannelDestroyed", channel={"id": target}, cause_txt="No answer"))
    with pytest.raises(TransferError, match="No answer"):
        await task
    assert {b["bridge_type"]: b["channels"] for b in await control.bridges()} == {"mixing": [CALLER, AGENT]}


def test_targets_are_agents_or_numbers() -> None:
    assert endpoint_of("agent1002") == "PJSIP/agent1002"
    assert endpoint_of("089868521234") == "PJSIP/089868521234@units"
    for bad in ("", "12", "agent", "agent 1", "sip:evil@example.org", "1234;drop"):
        with pytest.raises(TransferError):
            endpoint_of(bad)
