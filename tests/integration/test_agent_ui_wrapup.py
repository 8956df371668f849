"""After a call the desk shows 话后处理 with the queue's wrap-up counting down, then 就绪 (the status panel
that the desk's event stream reloads)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App
from kernel.clock import FakeClock


@pytest.fixture
def client(hot: App) -> TestClient:
    demo_accounts(hot)
    return TestClient(make_web(hot.desk))


def test_the_status_panel_counts_the_wrap_up_down(client: TestClient, hot: App, clock: FakeClock) -> None:
    login(client, "agent1")
    feed = hot.desk.feed
    feed.call_answered("agent1", "c1", "13812345678", "consultation")
    assert "通话中" in client.get("/desk/status-panel").text
    feed.call_ended("agent1", "c1", wrapup_seconds=5)
    panel = client.get("/desk/status-panel").text
    assert "话后处理" in panel and 'data-testid="wrapup-left"' in panel
    assert 'data-format="seconds"' in panel and ">5 s<" in panel
    clock.advance(seconds=3)
    assert ">2 s<" in client.get("/desk/status-panel").text
    clock.advance(seconds=2)
    panel = client.get("/desk/status-panel").text
    assert "就绪" in panel and "wrapup-left" not in panel
    assert 'data-status-url="/desk/status-panel"' in client.get("/desk").text  # the page reloads the panel


def test_the_status_panel_needs_an_agent(client: TestClient) -> None:
    login(client, "dept1")
    assert client.get("/desk/status-panel").status_code == 403
