"""The demo call (``scripts/demo_call.py``): a citizen's phone calls 12345, presses the keys that lead to an
agent at this hour, and the agent's phone (baresip, answering by itself) takes the call.

The keys come from the menu in force (``ivr.paths.keys_to_queue``): at night "1" asks for a callback, so the
demo presses "0" for an agent instead. The IVR keeps keys pressed ahead (``ivr.typeahead``), so they are all
pressed as soon as 12345 answers. Every way the call can fail ends in a sentence that says what to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telephony.baresip import Baresip, UaAccount, running_baresip, to_wav8k

KEY_GAP_S = 0.3  # between two keys pressed ahead


@dataclass(frozen=True)
class DemoOutcome:
    ok: bool
    message: str


def agent_not_ready(queue_show: str, agent: str) -> str | None:
    """Why app_queue would not ring ``agent`` (from ``queue show``), or None when it would."""
    lines = [line for line in queue_show.splitlines() if f"(PJSIP/{agent})" in line]
    if not lines:
        return f"{agent} is not signed in to the queue: on the desk set the status to 就绪 (ready)"
    if all(re.search(r"\(paused\b", line) for line in lines):
        return f"{agent} is paused: on the desk set the status to 就绪 (ready)"
    return None


async def demo_call(
    *,
    switch: str,
    agent: UaAccount,
    citizen: UaAccount,
    keys: str,
    clip: Path,
    work: Path,
    talk_seconds: float = 25.0,
    ring_within: float = 60.0,
    say: Callable[[str], None] = print,
) -> DemoOutcome:
    """Place the call; the outcome's message says what happened, or what to check when it failed."""
    once = to_wav8k(clip, work / "once.wav", pad_seconds=3)
    voice = work / "citizen.wav"
    sox = await asyncio.create_subprocess_exec("sox", str(once), str(voice), "repeat", "60")
    if await sox.wait() != 0:
        return DemoOutcome(False, "sox could not build the citizen's audio (apt-get install sox)")
    agent_voice = to_wav8k(clip, work / "agent.wav", pad_seconds=600)
    try:
        async with running_baresip(work / "agent", agent, audio=agent_voice) as desk_phone:
            problem = await _registered(desk_phone, agent.user, switch)
            if problem:
                return DemoOutcome(False, problem)
            say(f"{agent.user}'s phone registered at {switch}")
            async with running_baresip(work / "citizen", citizen, audio=voice) as phone:
                return await _call(
                    phone, desk_phone, switch, agent.user, keys, talk_seconds, ring_within, say
                )
    except RuntimeError as exc:  # baresip could not start
        return DemoOutcome(False, f"a SIP phone could not start: {exc}")


async def _registered(desk_phone: Baresip, agent: str, switch: str, within: float = 10.0) -> str | None:
    """None once the agent's phone is registered; else what to check. Asterisk answers a wrong password with
    401 again, which baresip shows as ERR: without this the demo would wait for a ring that cannot come."""
    state = "pending"
    for _ in range(int(within / 0.5)):
        state = await desk_phone.registration()
        if state != "pending":
            break
        await asyncio.sleep(0.5)
    if state == "failed":
        return (
            f"{agent}'s phone could not register at {switch}: the switch refused it. Check --agent and "
            f"--password: make run prints each agent's SIP user and password."
        )
    if state == "pending":
        return f"{agent}'s phone got no answer from {switch} within {within:.0f} s: is the switch up?"
    return None


async def _call(
    phone: Baresip,
    desk_phone: Baresip,
    switch: str,
    agent: str,
    keys: str,
    talk_seconds: float,
    ring_within: float,
    say: Callable[[str], None],
) -> DemoOutcome:
    await phone.dial(f"sip:12345@{switch}")
    try:
        await phone.wait_event("CALL_ESTABLISHED", within=15)
    except TimeoutError:
        return DemoOutcome(
            False, f"12345 did not answer at {switch}: is the switch up (hotline asterisk status)?"
        )
    say("12345 answered: the IVR speaks")
    for key in keys:
        await asyncio.sleep(KEY_GAP_S)
        await phone.send_digit(key)
    if keys:
        say(f"pressed {' then '.join(keys)} (the IVR keeps keys pressed ahead)")
    try:
        await desk_phone.wait_event("CALL_ESTABLISHED", within=ring_within)
    except TimeoutError:
        with contextlib.suppress(Exception):
            await phone.hangup()
        return DemoOutcome(
            False,
            f"{agent}'s phone did not ring within {ring_within:.0f} s. The agent must be signed in and "
            f"就绪 (ready) on the desk before the call: log in as {agent}, set the status to 就绪, call again.",
        )
    mark = len(desk_phone.events)
    say(f"{agent} answered; talking for {talk_seconds:.0f} s")
    await asyncio.sleep(talk_seconds)
    with contextlib.suppress(Exception):
        await phone.hangup()
    with contextlib.suppress(TimeoutError):
        await desk_phone.wait_event("CALL_CLOSED", after=mark, within=15)
    return DemoOutcome(True, f"the demo call reached {agent} and ended normally")
