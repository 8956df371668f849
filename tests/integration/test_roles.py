"""Process roles: each refuses to start without what it needs, with one line that names it; /metrics is
served to Prometheus on loopback only (or with the token)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hotline.bootstrap import App
from hotline.cli import app as cli
from hotline.roles import ROLES, RoleRefused, check_requirements, roles_for
from hotline.web import create_web_app
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor


def test_all_is_every_role_and_the_switch_roles_only_with_a_switch() -> None:
    assert roles_for(["all"], telephony=True) == list(ROLES)
    assert roles_for(["all"], telephony=False) == ["web", "scheduler"]
    assert roles_for(["web", "scheduler", "web"], telephony=False) == ["web", "scheduler"]
    with pytest.raises(RoleRefused, match="unknown role nope"):
        roles_for(["nope"], telephony=False)


def test_a_role_beside_others_needs_the_broker_and_postgresql(hot: App) -> None:
    hot.settings.broker_url = ""
    with pytest.raises(RoleRefused, match="HOTLINE_BROKER_URL"):
        check_requirements(hot, ["web"], alone=True)
    hot.settings.broker_url = "nats://127.0.0.1:4222"
    if hot.settings.is_sqlite:
        with pytest.raises(RoleRefused, match="PostgreSQL"):
            check_requirements(hot, ["scheduler"], alone=True)
    else:
        check_requirements(hot, ["scheduler"], alone=True)
    check_requirements(hot, ["web", "scheduler"], alone=False)  # all in one process: nothing more needed


def test_an_asr_worker_needs_the_broker_but_no_database(hot: App) -> None:
    hot.settings.broker_url = ""
    with pytest.raises(RoleRefused, match="HOTLINE_BROKER_URL"):
        check_requirements(hot, ["asr"], alone=True)
    hot.settings.broker_url = "nats://127.0.0.1:4222"
    check_requirements(hot, ["asr"], alone=True)  # on SQLite too: a worker keeps nothing in the database


def test_an_asr_worker_without_a_model_of_the_calls_language_refuses_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a Korean Vosk model installs here: a Mandarin profile told to stream with Vosk has no model.
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_BROKER_URL", "nats://127.0.0.1:4222")
    monkeypatch.setenv("HOTLINE_ASR_ENABLED", "true")
    monkeypatch.setenv("HOTLINE_ASR_LANGUAGE", "zh")
    monkeypatch.setenv("HOTLINE_ASR_STREAMING", "vosk")
    monkeypatch.delenv("HOTLINE_VOSK_MODEL_PATH", raising=False)
    result = CliRunner().invoke(cli, ["run", "asr"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "zh" in lines[0] and "Vosk model" in lines[0], lines


def test_the_switch_roles_need_a_switch(hot: App) -> None:
    hot.settings.telephony_enabled = False
    for role in ("telephony", "campaign"):
        with pytest.raises(RoleRefused, match="needs a switch"):
            check_requirements(hot, [role], alone=False)


def test_the_command_line_refuses_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HOTLINE_BROKER_URL", raising=False)
    result = CliRunner().invoke(cli, ["run", "web"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "HOTLINE_BROKER_URL" in lines[0]
    result = CliRunner().invoke(cli, ["run", "telephony", "--help"])
    assert result.exit_code == 0


def test_metrics_are_served_on_loopback_and_count_intakes(hot: App) -> None:
    web = create_web_app(hot, components=("routing.api",))
    with TestClient(web) as client:  # the test client's address counts as loopback
        before = client.get("/metrics").text
        hot.work_orders.intake(
            IntakeCommand(channel=Channel.WEB, description="路灯不亮", citizen_phone="13800138000"),
            Actor("a", "agent"),
        )
        after = client.get("/metrics").text
    assert 'hotline_orders_accepted_total{channel="web"}' in after
    assert _count(after, "web") == _count(before, "web") + 1
    with TestClient(web, client=("10.1.2.3", 5000)) as outsider:
        assert outsider.get("/metrics").status_code == 403
    hot.settings.metrics_token = "scrape-secret"
    web = create_web_app(hot, components=("routing.api",))
    with TestClient(web, client=("10.1.2.3", 5000)) as scraper:
        assert scraper.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200
        assert scraper.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403


def _count(text: str, channel: str) -> float:
    for line in text.splitlines():
        if line.startswith(f'hotline_orders_accepted_total{{channel="{channel}"}}'):
            return float(line.split()[-1])
    return 0.0
