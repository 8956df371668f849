"""The demo desk agent's SIP account on a real softphone: baresip registers with the generated password
(digest auth), the queue rings it, it answers on its own, and the screen pop names the desk user ``agent1``
(the SIP user is the desk user, so the pop reaches the right desk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.bootstrap import App
from telephony.baresip import UaAccount, running_baresip, to_wav8k
from telephony.setup import ensure_demo_agents, load_agents
from telephony.testing import running_switch
from tests.e2e.telephony_support import NO_WRAPUP, answered_pop, ended, recorder_running, speech_clips, until

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.slow,
    pytest.mark.timeout(60),
    pytest.mark.parametrize("seeded_db_url", ["sqlite"], indirect=True),
]

CITIZEN = "13600000042"


async def test_demo_agent_registers_and_answers_with_the_desk_username(hot: App, tmp_path: Path) -> None:
    clip, _ = speech_clips()
    audio = to_wav8k(clip, tmp_path / "voice.wav")
    [(user, password)] = ensure_demo_agents(hot.session_factory)
    with running_switch(load_agents(hot.session_factory), queues=NO_WRAPUP) as switch:
        registrar = f"127.0.0.1:{switch.config.sip_port}"
        async with (
            recorder_running(switch, hot) as ari,
            running_baresip(
                tmp_path / "agent",
                UaAccount(user, password=password, registrar=registrar, auto_answer=True),
                audio=audio,
            ) as softphone,
        ):
            # (baresip registers as it starts, before its control socket reports events: ask the switch)
            contacts = await until(
                lambda: (lambda shown: shown if f"Contact:  {user}/sip:" in shown else "")(
                    switch.rx(f"pjsip show contacts like {user}")
                ),
                what="the softphone's registration",
            )
            async with running_baresip(tmp_path / "citizen", UaAccount(CITIZEN), audio=audio) as phone:
                await phone.dial(f"sip:12346@{registrar}")
                pop = await until(lambda: answered_pop(hot, CITIZEN), what="the softphone answered")
                await softphone.wait_event("CALL_ESTABLISHED")
                bridged = [b["channels"] for b in await ari.client.bridges() if b["channels"]]
                await phone.hangup()
                call = await ended(hot, CITIZEN)
        wrong = switch.rx(f"pjsip show endpoint {user}")

    assert user == "agent1" and f"Contact:  {user}/sip:" in contacts  # a registered contact
    assert pop.agent == "agent1"
    assert (call.agent, call.outcome, call.queue) == ("agent1", "answered", "urgent")
    assert len(bridged) == 1 and call.call_id in bridged[0] and len(bridged[0]) == 2
    assert "auth" in wrong.lower()  # the endpoint requires digest authentication
