"""The agent's status on the desk reaches app_queue (through the AgentDesk port; the real switch's pause
syntax is held by tests/integration/test_telephony_agents.py)."""

from __future__ import annotations

import subprocess

from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App
from telephony.agents import AgentDesk, RecordingCli
from telephony.setup import load_agents


class RefusingCli(RecordingCli):
    def rx(self, command: str, *, timeout: float = 10.0, check: bool = True) -> str:
        super().rx(command)
        return "Usage: queue pause member <channel> ..." if "pause" in command else ""


def _post(client: TestClient, token: str, status: str, reason: str = "") -> int:
    data = {"csrf_token": token, "status": status, "reason": reason}
    return client.post("/desk/status", data=data, follow_redirects=False).status_code


def agent1_on_switch(hot: App, cli: RecordingCli, skills: list[str]) -> tuple[FastAPI, TestClient, str]:
    """agent1 with a SIP account in ``skills``, logged in to the desk: (web app, client, CSRF token)."""
    demo_accounts(hot)
    switch = AgentDesk(hot.session_factory, cli)
    switch.create("agent1", "话务员 小林", skills)
    hot.desk.agent_switch = switch
    web = make_web(hot.desk)
    client = TestClient(web)
    return web, client, login(client, "agent1")


def test_ready_logs_in_pause_and_wrap_up_pause_on_every_queue(hot: App) -> None:
    cli = RecordingCli([])
    _, client, token = agent1_on_switch(hot, cli, ["consultation", "urgent"])

    assert _post(client, token, "ready") == 303
    assert any(c.startswith("queue add member PJSIP/agent1 to urgent") for c in cli.commands)
    assert cli.commands[-1] == "queue unpause member PJSIP/agent1"
    cli.commands.clear()
    assert _post(client, token, "paused", "meal") == 303
    assert cli.commands == [
        "queue pause member PJSIP/agent1 queue consultation reason meal",
        "queue pause member PJSIP/agent1 queue urgent reason meal",
    ]
    cli.commands.clear()
    assert _post(client, token, "ready") == 303  # already logged in: just unpaused
    assert cli.commands == ["queue unpause member PJSIP/agent1"]


def test_a_refusal_by_the_switch_is_shown_and_the_desk_state_is_kept(hot: App) -> None:
    web, client, token = agent1_on_switch(hot, RefusingCli([]), ["consultation"])
    response = client.post("/desk/status", data={"csrf_token": token, "status": "paused", "reason": "meal"})
    assert response.status_code == 422 and "交换机未能切换状态" in response.text
    assert web.state.ui_feed.status("agent1").status != "paused"


def test_desk_users_without_a_sip_account_work_without_the_switch(hot: App) -> None:
    demo_accounts(hot)
    cli = RecordingCli([])
    hot.desk.agent_switch = AgentDesk(hot.session_factory, cli)
    client = TestClient(make_web(hot.desk))
    token = login(client, "agent1")
    assert _post(client, token, "paused", "meal") == 303 and cli.commands == []


def test_logging_out_of_the_desk_leaves_the_queues(hot: App) -> None:
    cli = RecordingCli([])
    web, client, token = agent1_on_switch(hot, cli, ["consultation", "urgent"])
    assert _post(client, token, "paused", "meal") == 303
    cli.commands.clear()
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert cli.commands == [
        "queue remove member PJSIP/agent1 from consultation",
        "queue remove member PJSIP/agent1 from urgent",
    ]
    assert web.state.ui_feed.status("agent1").status == "offline"
    assert [a.logged_in for a in load_agents(hot.session_factory)] == [False]


class UnreachableCli(RecordingCli):
    def rx(self, command: str, *, timeout: float = 10.0, check: bool = True) -> str:
        super().rx(command)
        if "remove" in command:
            raise subprocess.TimeoutExpired(["asterisk", "-rx", command], timeout)
        return ""


def test_a_switch_that_does_not_answer_still_ends_the_session_and_keeps_the_agent_a_member(hot: App) -> None:
    _, client, token = agent1_on_switch(hot, UnreachableCli([]), ["consultation"])
    assert _post(client, token, "ready") == 303
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/desk", follow_redirects=False).status_code in (303, 401)  # the session is over
    assert [a.logged_in for a in load_agents(hot.session_factory)] == [True]  # not marked out: it is not


def test_back_after_logging_out_an_agent_can_pause_before_taking_calls(hot: App) -> None:
    cli = RecordingCli([])
    _, client, token = agent1_on_switch(hot, cli, ["consultation"])
    assert _post(client, token, "ready") == 303
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    token = login(client, "agent1")
    cli.commands.clear()
    assert _post(client, token, "paused", "training") == 303
    assert cli.commands == [
        "queue add member PJSIP/agent1 to consultation penalty 0 as agent1 state_interface PJSIP/agent1 "
        "paused login",
        "queue pause member PJSIP/agent1 queue consultation reason training",
    ]
