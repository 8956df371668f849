from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from telephony.agents import AgentDesk, AgentError, RecordingCli
from telephony.orm import AgentRow
from telephony.setup import load_agents


def test_login_adds_paused_then_unpauses_across_all_queues(hot: App) -> None:
    cli = RecordingCli([])
    desk = AgentDesk(hot.session_factory, cli)
    desk.create("agent1001", "Li Lei", ["urgent", "consultation"])
    desk.login("agent1001", hot.clock.now())
    assert cli.commands == [
        "queue add member PJSIP/agent1001 to urgent penalty 0 as agent1001 state_interface PJSIP/agent1001 paused login",
        "queue add member PJSIP/agent1001 to consultation penalty 0 as agent1001 state_interface PJSIP/agent1001 paused login",
        "queue unpause member PJSIP/agent1001",
    ]
    assert [a.logged_in for a in load_agents(hot.session_factory)] == [True]


def test_pause_wrap_up_ready_logout(hot: App) -> None:
    cli = RecordingCli([])
    desk = AgentDesk(hot.session_factory, cli)
    desk.create("agent1002", "Han Mei", ["complaint"])
    now = hot.clock.now()
    desk.login("agent1002", now)
    desk.pause("agent1002", now, "lunch")
    desk.wrap_up("agent1002", now)
    desk.ready("agent1002", now)
    desk.logout("agent1002", now)
    assert cli.commands[-4:] == [
        "queue pause member PJSIP/agent1002 queue complaint reason lunch",
        "queue pause member PJSIP/agent1002 queue complaint reason wrap-up",
        "queue unpause member PJSIP/agent1002",
        "queue remove member PJSIP/agent1002 from complaint",
    ]
    with hot.session_factory() as session:
        assert session.scalars(select(AgentRow.state)).one() == "logged_out"


def test_agent_accounts_get_generated_passwords_and_valid_names(hot: App) -> None:
    desk = AgentDesk(hot.session_factory, RecordingCli([]))
    a = desk.create("agent1", "A", ["urgent"])
    b = desk.create("agent2", "B", ["urgent"])
    assert a.sip_password != b.sip_password
    assert len(a.sip_password) >= 32
    with pytest.raises(AgentError):
        desk.create("13800000000", "citizen-like", ["urgent"])
    with pytest.raises(AgentError):
        desk.create("agent3", "C", ["plumbing"])
