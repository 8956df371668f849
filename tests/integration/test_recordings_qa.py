"""A complete QA review through the API alone, on SQLite and PostgreSQL, with the real neighbours: the call
record (telephony's tables), the work order (routing's intake), the transcript (asr's segment store).

queue (sampled by rules from the transcript and the order) → review bundle (recording, both transcripts,
the order, the scorecard) → play in ranges → score a weighted scorecard with an instant-fail item and
comments → the agent's scores by week and month.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from asr.events import CallTranscriptClosed, TranscriptSegment
from asr.transcripts import SqlSegmentStore
from hotline.bootstrap import App
from hotline.wiring import recordings_on_call_end
from kernel.clock import FakeClock
from recordings import api
from recordings.access import Listener
from recordings.call_end import CallEndIngestor
from recordings.orm import RecordingListen
from recordings.storage import LocalStore
from recordings.testing import write_mixmonitor_files
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from tests.integration.test_recordings_call_end import FAST, T0, add_call, ended

UID = "1795321291.42"
QA = {"x-test-user": "li:qa"}
SUP = {"x-test-user": "wang:supervisor"}
CARD = {
    "name": "投诉热线质检",
    "items": [
        {"code": "greeting", "label_zh": "开场", "label_en": "Greeting", "weight": 20, "max_score": 5},
        {"code": "accuracy", "label_zh": "答复准确", "label_en": "Accuracy", "weight": 50, "max_score": 5},
        {"code": "courtesy", "label_zh": "服务态度", "label_en": "Courtesy", "weight": 30, "max_score": 10},
        {
            "code": "no_abuse",
            "label_zh": "无辱骂争吵",
            "label_en": "No quarrel",
            "weight": 0,
            "max_score": 1,
            "instant_fail": True,
        },
    ],
}


def _listener(request: Request) -> Listener | None:
    raw = request.headers.get("x-test-user")
    return Listener(*raw.split(":")) if raw else None


def segment(leg: str, seq: int, start: int, end: int, text: str) -> TranscriptSegment:
    return TranscriptSegment(UID, leg, start, end, text, text, True, "vosk", T0, seq)  # type: ignore[arg-type]


@pytest.fixture
def call(hot: App, tmp_path: Path) -> Iterator[tuple[TestClient, str, CallEndIngestor]]:
    """A recorded call, its transcript and the work order the agent took on it."""
    hot.recordings.use_store(LocalStore(hot.settings.resolved_recordings_dir))
    spool = tmp_path / "spool"
    ingestor = recordings_on_call_end(hot, spool, rules=FAST, sweep_now=False)
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="市民反映话务员态度差，要求处理；另反映小区路灯不亮",
            citizen_phone="13800000001",
            call_id=UID,
            dispatch=False,
        ),
        Actor("agent1001", "agent"),
    )
    add_call(hot, UID)
    store = SqlSegmentStore(hot.session_factory)
    segments = [
        segment("agent", 0, 0, 1500, "您好 海口一二三四五"),
        segment("caller", 0, 2000, 5000, "我上次打电话 你什么态度"),
        segment("agent", 1, 5500, 7000, "请您稍等 我查一下"),
        segment("caller", 1, 26000, 28000, "还在吗 我要投诉你"),
    ]
    for s in segments:
        store.save(s)
    write_mixmonitor_files(spool, UID, seconds=3)
    ended(hot, UID)
    assert ingestor.drain(30)
    hot.bus.publish(CallTranscriptClosed(UID, tuple(segments)))
    assert ingestor.drain(30)
    hot.recordings.listener = _listener
    web = FastAPI()
    web.state.hot = hot
    api.install(web, hot.recordings)
    yield TestClient(web), order.number, ingestor
    ingestor.close()


def test_a_full_review_through_the_api(
    hot: App, clock: FakeClock, call: tuple[TestClient, str, CallEndIngestor]
) -> None:
    client, order_number, _ = call

    run = client.post("/api/qa/samples/run", json={"day": "2026-11-23", "random_percent": 0}, headers=QA)
    reasons = {p["reason"]: p["detail"] for p in run.json()["new"]}
    assert set(reasons) == {"complaint", "heated_words", "long_silence"}
    assert reasons["complaint"] == {"order": order_number}
    assert [w["word"] for w in reasons["heated_words"]["found"]] == ["什么态度", "投诉你"]
    assert reasons["long_silence"]["gap_ms"] == 19000

    [entry] = client.get("/api/qa/queue", headers=QA).json()
    rid = entry["recording_id"]
    assert entry["agent"] == "agent1001" and entry["call_outcome"] == "answered"
    assert sorted(r["reason"] for r in entry["reasons"]) == ["complaint", "heated_words", "long_silence"]
    assert entry["ready"] == {
        "recording": True,
        "transcript": {"caller": 2, "agent": 2},
        "orders": [order_number],
    }
    assert client.get("/api/qa/queue", params={"reason": "raised_voice"}, headers=QA).json() == []

    card = client.post("/api/qa/scorecards", json=CARD, headers=QA).json()
    bundle = client.get(f"/api/qa/calls/{rid}", params={"scorecard_id": card["id"]}, headers=QA).json()
    assert bundle["scorecard"]["id"] == card["id"]
    assert sorted(bundle["audio"]) == ["agent", "caller", "mixed"]
    assert [s["text"] for s in bundle["transcript"]["caller"]] == [
        "我上次打电话 你什么态度",
        "还在吗 我要投诉你",
    ]
    assert len(bundle["transcript"]["agent"]) == 2
    assert [s["start_ms"] for s in bundle["timeline"]] == [0, 2000, 5500, 26000]
    assert [(o["number"], o["state"]) for o in bundle["orders"]] == [(order_number, "accepted")]
    assert sorted(s["reason"] for s in bundle["samples"]) == ["complaint", "heated_words", "long_silence"]
    assert bundle["recording"]["transcript"]["closed"] is True
    assert bundle["recording"]["legs"][1]["agent"] == "agent1001"
    played = client.get(bundle["audio"]["caller"], headers={**QA, "Range": "bytes=0-99"})
    assert played.status_code == 206 and len(played.content) == 100

    perfect = {"greeting": 5, "accuracy": 5, "courtesy": 10, "no_abuse": 1}
    bad = client.post(
        "/api/qa/reviews",
        json={
            "recording_id": rid,
            "scorecard_id": card["id"],
            "scores": perfect,
            "item_comments": {"x": "?"},
        },
        headers=QA,
    )
    assert bad.status_code == 422
    first = client.post(
        "/api/qa/reviews",
        json={
            "recording_id": rid,
            "scorecard_id": card["id"],
            "scores": {**perfect, "accuracy": 3, "courtesy": 8},
            "comments": "政策答复不完整，态度尚可",
            "item_comments": {"accuracy": "路灯报修时限说错", "greeting": ""},
        },
        headers=QA,
    )
    assert first.status_code == 201
    review = first.json()
    assert review["total"] == 74.0  # (20·5/5 + 50·3/5 + 30·8/10) / 100
    assert (review["failed"], review["failed_items"]) == (False, [])
    assert review["item_comments"] == {"accuracy": "路灯报修时限说错"}
    assert review["scorecard"] == {"name": "投诉热线质检", "version": 1} and review["reviewer"] == "li"
    assert client.get("/api/qa/queue", headers=QA).json() == []  # reviewed: off the queue
    assert client.get(f"/api/qa/reviews/{review['id']}", headers=QA).json() == review

    clock.advance(days=8)  # a re-review in the next week, by a supervisor who hears a quarrel
    second = client.post(
        "/api/qa/reviews",
        json={"recording_id": rid, "scorecard_id": card["id"], "scores": {**perfect, "no_abuse": 0}},
        headers=SUP,
    ).json()
    assert (second["total"], second["failed"], second["failed_items"]) == (0.0, True, ["no_abuse"])

    weekly = client.get("/api/qa/agents/agent1001/scores", headers=QA).json()
    assert [(p["start"], p["reviews"], p["average"], p["failed"]) for p in weekly["points"]] == [
        ("2026-11-23", 1, 74.0, 0),
        ("2026-11-30", 1, 0.0, 1),
    ]
    assert weekly["points"][0]["items"] == {
        "accuracy": 60.0,
        "courtesy": 80.0,
        "greeting": 100.0,
        "no_abuse": 100.0,
    }
    assert [w["week"] for w in weekly["weeks"]] == ["2026-11-23", "2026-11-30"]
    monthly = client.get("/api/qa/agents/agent1001/scores", params={"period": "month"}, headers=QA).json()
    assert [(p["start"], p["reviews"], p["average"]) for p in monthly["points"]] == [
        ("2026-11-01", 1, 74.0),
        ("2026-12-01", 1, 0.0),
    ]
    only_first_week = client.get(
        "/api/qa/agents/agent1001/scores", params={"date_to": "2026-11-29"}, headers=QA
    ).json()
    assert len(only_first_week["points"]) == 1
    assert (
        client.get("/api/qa/agents/agent1001/scores", params={"period": "year"}, headers=QA).status_code
        == 422
    )
    [overview] = client.get("/api/qa/agents", headers=QA).json()
    assert (overview["agent"], overview["reviews"], overview["average"], overview["failed"]) == (
        "agent1001",
        2,
        37.0,
        1,
    )

    with hot.session_factory() as session:
        actions = [
            (r.listener, r.action)
            for r in session.scalars(select(RecordingListen).order_by(RecordingListen.id))
        ]
    assert actions == [("li", "qa_review"), ("li", "audio")]  # the bundle shows transcripts: audited too


def test_queue_and_bundle_respect_roles(call: tuple[TestClient, str, CallEndIngestor]) -> None:
    client, _, _ = call
    assert client.get("/api/qa/queue").status_code == 401
    assert client.get("/api/qa/queue", headers={"x-test-user": "zhao:agent"}).status_code == 403
    assert client.get("/api/qa/calls/1", headers={"x-test-user": "zhao:agent"}).status_code == 403
    assert client.get("/api/qa/calls/999", headers=QA).status_code == 404
    assert client.get("/api/qa/calls/1", params={"scorecard_id": 999}, headers=QA).status_code == 404
    assert client.get("/api/recordings/ingests", headers=QA).status_code == 403
    [log] = client.get("/api/recordings/ingests", headers=SUP).json()
    assert (log["call_id"], log["outcome"], sorted(log["kinds"])) == (
        UID,
        "stored",
        ["agent", "caller", "mixed"],
    )
    assert client.get("/api/recordings/ingests", params={"outcome": "missing"}, headers=SUP).json() == []


def test_ingest_links_a_transcript_that_has_not_closed_yet(
    hot: App, tmp_path: Path, call: tuple[TestClient, str, CallEndIngestor]
) -> None:
    """asr stores segments as they come; if the call's file is ingested before the transcript closes, the
    segments already stored are linked (``closed`` false) and the closing event completes the link later."""
    client, _, ingestor = call
    uid = "1795321291.43"
    add_call(hot, uid)
    SqlSegmentStore(hot.session_factory).save(
        TranscriptSegment(uid, "caller", 0, 1200, "喂 你好", "喂 你好", True, "vosk", T0, 0)
    )
    write_mixmonitor_files(tmp_path / "spool", uid, seconds=1)
    ended(hot, uid)
    assert ingestor.drain(30)
    [found] = client.get("/api/recordings", params={"call_id": uid}, headers=QA).json()
    assert found["transcript"] == {
        "closed": False,
        "segments": {"caller": 1},
        "speech_ms": {"caller": 1200},
        "longest_silence_ms": 0,
        "longest_silence_at_ms": 0,
    }
