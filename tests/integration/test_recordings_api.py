"""The recordings and QA HTTP API on SQLite and PostgreSQL: ranges, roles, audit, transcript, QA flow."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from hotline.bootstrap import App
from recordings import api
from recordings.access import Listener, current_listener
from recordings.ingest import ingest
from recordings.orm import QaSample, RecordingListen
from recordings.storage import LocalStore
from recordings.testing import write_mixmonitor_files
from recordings.transcripts import FakeTranscriptSource, Segment, SqlTranscriptSource


def _header_listener(request: Request) -> Listener | None:
    raw = request.headers.get("x-test-user")
    if not raw:
        return None
    name, role = raw.split(":")
    return Listener(name, role)


@pytest.fixture
def setup(hot: App, tmp_path: Path) -> tuple[TestClient, int, bytes]:
    ctx = hot.recordings.use_store(LocalStore(hot.settings.resolved_recordings_dir))
    paths = write_mixmonitor_files(tmp_path / "mon", "1732240000.1", seconds=3, caller_amplitude=0.8)
    rid = ingest(
        ctx,
        "1732240000.1",
        tmp_path / "mon",
        agent="8001",
        started_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    ).recording_id
    hot.recordings.listener = _header_listener
    web = FastAPI()
    web.state.hot = hot
    api.install(web, hot.recordings)
    return TestClient(web), rid, paths["mixed"].read_bytes()


QA = {"x-test-user": "li:qa"}
SUP = {"x-test-user": "wang:supervisor"}


def test_audio_is_served_in_ranges_and_every_listen_is_audited(
    hot: App, setup: tuple[TestClient, int, bytes]
) -> None:
    client, rid, mixed = setup
    whole = client.get(f"/api/recordings/{rid}/audio", headers=QA)
    assert whole.status_code == 200 and whole.content == mixed
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "audio/wav"

    part = client.get(f"/api/recordings/{rid}/audio", headers={**QA, "Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == mixed[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(mixed)}"
    tail = client.get(f"/api/recordings/{rid}/audio", headers={**QA, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == mixed[-10:]

    bad = client.get(f"/api/recordings/{rid}/audio", headers={**QA, "Range": f"bytes={len(mixed)}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(mixed)}"
    caller = client.get(f"/api/recordings/{rid}/audio?kind=caller", headers=QA)
    assert caller.status_code == 200 and caller.content != mixed

    with hot.session_factory() as session:
        listens = [
            (r.listener, r.role, r.kind, r.byte_range) for r in session.scalars(select(RecordingListen))
        ]
    assert listens == [
        ("li", "qa", "mixed", ""),
        ("li", "qa", "mixed", "100-1099"),
        ("li", "qa", "mixed", f"{len(mixed) - 10}-{len(mixed) - 1}"),
        ("li", "qa", "caller", ""),
    ]
    assert client.get(f"/api/recordings/{rid}/listens", headers=QA).status_code == 403
    assert len(client.get(f"/api/recordings/{rid}/listens", headers=SUP).json()) == 4


def test_roles_are_checked(setup: tuple[TestClient, int, bytes]) -> None:
    client, rid, _ = setup
    assert client.get(f"/api/recordings/{rid}/audio").status_code == 401
    assert (
        client.get(f"/api/recordings/{rid}/audio", headers={"x-test-user": "zhao:agent"}).status_code == 403
    )
    assert client.get("/api/recordings", headers={"x-test-user": "dept:dept_handler"}).status_code == 403
    assert client.get("/api/recordings/99999", headers=SUP).status_code == 404


def test_dependency_override_is_the_other_way_in(hot: App, setup: tuple[TestClient, int, bytes]) -> None:
    client, rid, _ = setup
    client.app.dependency_overrides[current_listener] = lambda: Listener("admin1", "admin")  # type: ignore[attr-defined]
    assert client.get(f"/api/recordings/{rid}").json()["files"][0]["kind"] == "mixed"


def test_search_details_waveform(setup: tuple[TestClient, int, bytes]) -> None:
    client, rid, _ = setup
    listed = client.get(
        "/api/recordings", params={"agent": "8001", "date_from": "2026-11-23T00:00:00Z"}, headers=QA
    )
    assert [r["id"] for r in listed.json()] == [rid]
    assert client.get("/api/recordings", params={"agent": "9999"}, headers=QA).json() == []
    assert (
        client.get("/api/recordings", params={"date_from": "2026-11-24T00:00:00Z"}, headers=QA).json() == []
    )
    detail = client.get(f"/api/recordings/{rid}", headers=QA).json()
    assert detail["duration_ms"] == 3000 and sorted(detail["kinds"]) == ["agent", "caller", "mixed"]
    wave = client.get(f"/api/recordings/{rid}/waveform", headers=QA).json()
    assert len(wave["peaks"]) == 200 and wave["duration_ms"] == 3000
    assert len(client.get(f"/api/recordings/{rid}/waveform?buckets=50", headers=QA).json()["peaks"]) == 50


def test_transcript_from_the_asr_table_when_present(hot: App, setup: tuple[TestClient, int, bytes]) -> None:
    client, rid, _ = setup
    source = SqlTranscriptSource(hot.session_factory)
    with hot.session_factory() as session:
        present = session.connection().dialect.has_table(session.connection(), "transcript_segments")
    if present:
        from sqlalchemy import column, table

        seg = table(
            "transcript_segments",
            *(
                column(c)
                for c in (
                    "call_id",
                    "leg",
                    "seq",
                    "start_ms",
                    "end_ms",
                    "text",
                    "text_redacted",
                    "is_final",
                    "engine",
                    "created_at",
                )
            ),
        )
        with hot.session_factory() as session, session.begin():
            session.execute(
                insert(seg).values(
                    call_id="1732240000.1",
                    leg="caller",
                    seq=0,
                    start_ms=0,
                    end_ms=900,
                    text="我的电话是13800000000",
                    text_redacted="我的电话是138****0000",
                    is_final=True,
                    engine="vosk",
                    created_at=datetime.now(UTC),
                )
            )
        assert [s.text for s in source.segments("1732240000.1")] == ["我的电话是138****0000"]
    else:
        assert source.segments("1732240000.1") == []
    hot.recordings.transcripts = FakeTranscriptSource(
        {"1732240000.1": [Segment("agent", 1200, 2000, "您好，12345"), Segment("caller", 0, 900, "喂")]}
    )
    body = client.get(f"/api/recordings/{rid}/transcript", headers=QA).json()
    assert [(s["leg"], s["start_ms"]) for s in body["segments"]] == [("caller", 0), ("agent", 1200)]


def test_qa_flow_sample_review_scores(hot: App, setup: tuple[TestClient, int, bytes]) -> None:
    client, rid, _ = setup
    cards = client.get("/api/qa/scorecards", headers=QA).json()
    card = cards[0]
    perfect = {i["code"]: i["max_score"] for i in card["items"]}

    run = client.post(
        "/api/qa/samples/run", json={"day": "2026-11-23", "random_percent": 100}, headers=QA
    ).json()
    assert {p["reason"] for p in run["new"]} == {"random", "raised_voice"}
    assert (
        client.post(
            "/api/qa/samples/run", json={"day": "2026-11-23", "random_percent": 100}, headers=QA
        ).json()["new"]
        == []
    )

    bad = client.post(
        "/api/qa/reviews",
        json={"recording_id": rid, "scorecard_id": card["id"], "scores": {**perfect, "greeting": 9}},
        headers=QA,
    )
    assert bad.status_code == 422
    good = client.post(
        "/api/qa/reviews",
        json={
            "recording_id": rid,
            "scorecard_id": card["id"],
            "scores": {**perfect, "attitude": 4},
            "comments": "语气平和",
        },
        headers=QA,
    )
    assert good.status_code == 201 and good.json()["total"] == 96.0 and good.json()["reviewer"] == "li"
    fail = client.post(
        "/api/qa/reviews",
        json={"recording_id": rid, "scorecard_id": card["id"], "scores": {**perfect, "no_abuse": 0}},
        headers=SUP,
    ).json()
    assert (fail["total"], fail["failed"]) == (0.0, True)

    weeks = client.get("/api/qa/agents/8001/scores", headers=QA).json()["weeks"]
    assert weeks == [{"week": "2026-11-23", "reviews": 2, "average": 48.0, "failed": 1}]
    with hot.session_factory() as session:
        assert all(s.review_id is not None for s in session.scalars(select(QaSample)))
    assert client.get("/api/qa/samples", params={"unreviewed": True}, headers=QA).json() == []

    bundle = client.get(f"/api/qa/calls/{rid}", headers=QA).json()
    assert bundle["recording"]["id"] == rid and len(bundle["reviews"]) == 2
    assert set(bundle["transcript"]) == {"caller", "agent"}


def test_scorecards_are_versioned_and_editable_by_qa_only(setup: tuple[TestClient, int, bytes]) -> None:
    client, _, _ = setup
    items = [
        {"code": "greeting", "label_zh": "问候", "label_en": "Greeting", "weight": 1},
        {
            "code": "abuse",
            "label_zh": "辱骂",
            "label_en": "Abuse",
            "weight": 0,
            "max_score": 1,
            "instant_fail": True,
        },
    ]
    assert (
        client.post("/api/qa/scorecards", json={"name": "简表", "items": items}, headers=SUP).status_code
        == 403
    )
    v1 = client.post("/api/qa/scorecards", json={"name": "简表", "items": items}, headers=QA).json()
    v2 = client.post("/api/qa/scorecards", json={"name": "简表", "items": items[:1]}, headers=QA).json()
    assert (v1["version"], v2["version"]) == (1, 2)
    active = [c for c in client.get("/api/qa/scorecards", headers=QA).json() if c["name"] == "简表"]
    assert [c["version"] for c in active] == [2]
    bad = client.post("/api/qa/scorecards", json={"name": "x", "items": items[1:]}, headers=QA)
    assert bad.status_code == 422
