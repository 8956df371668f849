"""The demo call's preflight: whether app_queue would ring the agent, read from `queue show`."""

from __future__ import annotations

from telephony.demo import agent_not_ready

QUEUE_SHOW = """consultation has 0 calls (max unlimited) in 'rrmemory' strategy (0s holdtime, 0s talktime), W:0, C:0
   Members:
      agent1 (PJSIP/agent1) (ringinuse disabled) (dynamic) (Not in use) has taken no calls yet
      agent2 (PJSIP/agent2) (ringinuse disabled) (dynamic) (paused:break was 10 secs ago) (Not in use) has taken no calls yet
   No Callers
"""


def test_a_ready_agent_passes() -> None:
    assert agent_not_ready(QUEUE_SHOW, "agent1") is None


def test_a_paused_or_signed_out_agent_is_named_with_what_to_do() -> None:
    paused = agent_not_ready(QUEUE_SHOW, "agent2")
    assert paused is not None and "paused" in paused and "就绪" in paused
    absent = agent_not_ready(QUEUE_SHOW, "agent3")
    assert absent is not None and "not signed in" in absent and "就绪" in absent
