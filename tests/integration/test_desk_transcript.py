"""The desk's live transcript over HTTP: the fragment a (re)connecting page fetches, and the stream's event
for one line (the browser test drives the page itself)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent_ui.live import DeskFeed, TranscriptLine
from agent_ui.routes.desk import _concerns
from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App


@pytest.fixture
def desk(hot: App) -> dict[str, Any]:
    demo_accounts(hot)
    web = make_web(hot.desk)
    client = TestClient(web)
    login(client, "agent1")
    feed: DeskFeed = web.state.ui_feed
    return {"client": client, "feed": feed}


def test_the_fragment_has_one_line_per_utterance_with_speaker_and_time(desk: dict[str, Any]) -> None:
    feed: DeskFeed = desk["feed"]
    feed.call_answered("agent1", "call-t", "13800138000", "consultation")
    feed.transcript(TranscriptLine("call-t", "agent", "您好", False, start_ms=0))
    feed.transcript(TranscriptLine("call-t", "agent", "您好，12345。", True, start_ms=200, end_ms=1500))
    feed.transcript(TranscriptLine("call-t", "caller", "", False, start_ms=65_000, placeholder=True))
    html = desk["client"].get("/desk/transcript").text
    assert html.count('data-testid="line"') == 2
    assert 'data-key="agent-1"' in html and "00:00" in html and "座席" in html and "您好，12345。" in html
    assert 'data-key="caller-1"' in html and "01:05" in html and "市民" in html and "正在说话…" in html
    assert html.count('data-testid="copy-line"') == 1, "only finals can be copied"
    english = desk["client"].get("/desk/transcript?lang=en").text
    assert "Caller" in english and "speaking…" in english and "To description" in english


def test_the_stream_sends_the_line_as_json_to_its_agent_only(desk: dict[str, Any]) -> None:
    feed: DeskFeed = desk["feed"]
    feed.call_answered("agent1", "call-t", "13800138000", "consultation")
    line = feed.transcript(TranscriptLine("call-t", "caller", "路灯坏了", True, start_ms=3000, end_ms=4000))
    name, data = _concerns(line, "agent1", feed, {})  # type: ignore[misc]
    assert name == "transcript" and json.loads(data)["key"] == "caller-1"
    assert json.loads(data)["text"] == "路灯坏了" and json.loads(data)["start_ms"] == 3000
    assert _concerns(line, "agent2", feed, {}) is None


def test_nothing_before_a_call(desk: dict[str, Any]) -> None:
    html = desk["client"].get("/desk/transcript").text
    assert 'data-call=""' in html and "暂无数据" in html
