"""The README's demo call (scripts/demo_call.py → telephony.demo) on a real switch, by day and at night.

At night the hotline menu turns "1" (enquiries) into a callback request; the demo takes its keys from the menu
in force at the IVR's clock, so it reaches the agent either way. An agent who is not ready ends the demo with a
sentence saying so, not a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.bootstrap import App
from ivr.paths import keys_to_queue
from ivr.service import IvrServices
from kernel.clock import FakeClock
from telephony.baresip import UaAccount
from telephony.config import AgentAccount
from telephony.demo import DemoOutcome, demo_call
from telephony.testing import IvrProbe, cached_ivr_sounds, running_switch
from tests.e2e.telephony_support import NO_WRAPUP, ivr_server, speech_clips

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.slow,
    pytest.mark.timeout(120),
    pytest.mark.parametrize("seeded_db_url", ["sqlite"], indirect=True),
]

DAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Haikou
NIGHT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # Monday 23:30
CITIZEN = "13800138000"


async def call_as_agent1(switch: str, keys: str, clip: Path, work: Path, **options: object) -> DemoOutcome:
    return await demo_call(
        switch=switch,
        agent=UaAccount("agent1", password="demo-sip-pw-1", registrar=switch, auto_answer=True),
        citizen=UaAccount(CITIZEN),
        keys=keys,
        clip=clip,
        work=work,
        **options,  # type: ignore[arg-type]
    )


def account(*, logged_in: bool = True) -> AgentAccount:
    return AgentAccount("agent1", "demo-sip-pw-1", "Demo", ("consultation", "complaint"), logged_in=logged_in)


@pytest.mark.parametrize(
    ("now", "keys", "choices"), [(DAY, "11", "lang:zh,main:1"), (NIGHT, "10", "lang:zh,main:0")]
)
async def test_the_demo_reaches_the_agent_by_day_and_at_night(
    hot: App, tmp_path: Path, now: datetime, keys: str, choices: str
) -> None:
    clip, _ = speech_clips()
    services = IvrServices(calendar=hot.calendar, clock=FakeClock(now))
    plan = keys_to_queue(services.hotline_menu.current(), now, hot.calendar)
    assert plan.keys == keys
    probe = IvrProbe()
    said: list[str] = []
    with (
        ivr_server(services, probe) as agi,
        running_switch(
            [account()], queues=NO_WRAPUP, fastagi_port=agi.port, sounds=cached_ivr_sounds()
        ) as sw,
    ):
        switch = f"127.0.0.1:{sw.config.sip_port}"
        outcome = await call_as_agent1(switch, plan.keys, clip, tmp_path, talk_seconds=1.0, say=said.append)
    assert outcome.ok, outcome.message
    assert probe.variables(CITIZEN)["HOTLINE_CHOICES"] == choices
    assert probe.variables(CITIZEN)["HOTLINE_ROUTE"] == "queue-consultation"
    assert said[-1] == "agent1 answered; talking for 1 s"


async def test_an_agent_who_is_not_ready_ends_the_demo_with_what_to_do(hot: App, tmp_path: Path) -> None:
    clip, _ = speech_clips()
    services = IvrServices(calendar=hot.calendar, clock=FakeClock(NIGHT))
    probe = IvrProbe()
    with (
        ivr_server(services, probe) as agi,
        running_switch(
            [account(logged_in=False)], queues=NO_WRAPUP, fastagi_port=agi.port, sounds=cached_ivr_sounds()
        ) as sw,
    ):
        switch = f"127.0.0.1:{sw.config.sip_port}"
        # nobody is in the queue: it can never ring
        outcome = await call_as_agent1(switch, "10", clip, tmp_path, ring_within=5.0, say=lambda _: None)
        route = await probe.wait_route(CITIZEN)
    assert route == "queue-consultation"
    assert not outcome.ok
    assert "就绪" in outcome.message and "agent1" in outcome.message


async def test_a_wrong_sip_password_ends_the_demo_with_that_reason_not_a_wait_for_a_ring(
    hot: App, tmp_path: Path
) -> None:
    clip, _ = speech_clips()
    services = IvrServices(calendar=hot.calendar, clock=FakeClock(DAY))
    with (
        ivr_server(services, IvrProbe()) as agi,
        running_switch(
            [account()], queues=NO_WRAPUP, fastagi_port=agi.port, sounds=cached_ivr_sounds()
        ) as sw,
    ):
        switch = f"127.0.0.1:{sw.config.sip_port}"
        outcome = await demo_call(
            switch=switch,
            agent=UaAccount("agent1", password="not-the-password", registrar=switch, auto_answer=True),
            citizen=UaAccount(CITIZEN),
            keys="11",
            clip=clip,
            work=tmp_path,
            say=lambda _: None,
        )
    assert not outcome.ok
    assert "could not register" in outcome.message and "--password" in outcome.message
