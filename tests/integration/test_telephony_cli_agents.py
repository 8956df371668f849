"""``hotline asterisk agent add|list|remove`` and ``hotline asterisk demo-agents`` (no switch running)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.bootstrap import bootstrap
from hotline.cli import app
from hotline.migrate import upgrade
from telephony.setup import ensure_demo_agents, load_agents

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "test")
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "cli-test")
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    # a chroot path with nothing in it: the main switch is "not running" whatever this machine runs
    monkeypatch.setenv("HOTLINE_ASTERISK_ROOT", str(tmp_path / "no-asterisk"))
    monkeypatch.setenv("HOTLINE_SIP_PORT", "5099")
    (tmp_path / "var").mkdir()
    hot = bootstrap()
    upgrade(hot.engine)
    hot.close()
    return tmp_path


def test_add_prints_the_password_once_then_list_and_remove(env: Path) -> None:
    added = runner.invoke(
        app, ["asterisk", "agent", "add", "agent1001", "--name", "李雷", "--skills", "urgent,complaint"]
    )
    assert added.exit_code == 0, added.output
    hot = bootstrap()
    try:
        [account] = load_agents(hot.session_factory)
    finally:
        hot.close()
    assert (account.username, account.skills, account.logged_in) == (
        "agent1001",
        ("urgent", "complaint"),
        True,
    )
    assert account.password in added.output and len(account.password) >= 32
    assert "127.0.0.1:5099" in added.output

    listed = runner.invoke(app, ["asterisk", "agent", "list"])
    assert listed.exit_code == 0, listed.output
    assert "agent1001" in listed.output and "urgent,complaint" in listed.output
    assert account.password not in listed.output  # shown once, at creation

    again = runner.invoke(app, ["asterisk", "agent", "add", "agent1001", "--name", "x"])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["asterisk", "agent", "add", "13800000000", "--name", "x"])
    assert bad.exit_code == 2  # a number would collide with citizens' caller ids

    removed = runner.invoke(app, ["asterisk", "agent", "remove", "agent1001"])
    assert removed.exit_code == 0, removed.output
    assert "agent1001" not in runner.invoke(app, ["asterisk", "agent", "list"]).output
    assert runner.invoke(app, ["asterisk", "agent", "remove", "agent1001"]).exit_code == 2


def test_demo_agents_match_the_desk_users_and_keep_their_passwords(env: Path) -> None:
    from agent_ui.roles import Role
    from agent_ui.users import DEMO_ACCOUNTS

    desk_agents = [u for u, _n, role in DEMO_ACCOUNTS if role == Role.AGENT]
    shown = runner.invoke(app, ["asterisk", "demo-agents"])
    assert shown.exit_code == 0, shown.output
    hot = bootstrap()
    try:
        first = ensure_demo_agents(hot.session_factory)
        second = ensure_demo_agents(hot.session_factory)
        accounts = load_agents(hot.session_factory)
    finally:
        hot.close()
    assert [u for u, _ in first] == desk_agents  # SIP user = desk user: the screen pop finds the desk
    assert first == second  # created once; the same password afterwards
    assert all(a.logged_in and set(a.skills) == {"urgent", "consultation", "complaint"} for a in accounts)
    for user, password in first:
        assert f"user {user}  password {password}" in shown.output
    assert "sip:12345@127.0.0.1:5099" in shown.output
