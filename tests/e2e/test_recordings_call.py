"""A real call through a real Asterisk 22 ends, and its recording is in the database and playable.

caller (sipp) → 12346 → [hotline-queue] MixMonitor + Queue(urgent) → auto-answering agent (sipp) → hang-up;
telephony's ARI call recorder publishes CallEnded; the recordings ingestor (recordings/wiring.py) waits for
MixMonitor to close the three files, stores them, writes the row, and the API serves the mixed file in
byte ranges. A second call hangs up while waiting in the queue: it is kept, without an agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.bootstrap import App, bootstrap
from hotline.migrate import upgrade
from hotline.wiring import recordings_on_call_end
from kernel.bus import EventBus
from kernel.settings import Settings
from recordings import api, audio
from recordings.access import Listener
from recordings.call_end import CallEndIngestor
from recordings.events import RecordingIngested
from recordings.orm import Recording, RecordingIngest, RecordingListen
from recordings.storage import LocalStore, read_all
from telephony import sipp
from telephony.ari import AriClient, AriEndpoint
from telephony.config import AgentAccount
from telephony.orm import CallRow
from telephony.records import CallRecorder
from telephony.service import TelephonyService
from telephony.switch import Switch
from telephony.testing import free_port, running_switch, why_no_asterisk
from tests.e2e.telephony_support import NO_WRAPUP, sipp_agent, start_sipp_caller

pytestmark = [pytest.mark.asterisk, pytest.mark.slow, pytest.mark.timeout(90)]

AUDIO = Path(__file__).resolve().parents[3] / "shared" / "audio"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    reason = why_no_asterisk()
    if reason:
        pytest.skip(reason)
    clips = sorted(AUDIO.glob("*.wav"))
    if len(clips) < 2:
        pytest.skip(f"no speech clips under {AUDIO}")
    out = tmp_path_factory.mktemp("media")
    return sipp.to_ulaw(clips[0], out / "caller.ulaw"), sipp.to_ulaw(clips[1], out / "agent.ulaw")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = Settings(
        environment="test",
        secret_key="t",
        data_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'hotline.sqlite3'}",
    )
    settings.data_dir.mkdir(parents=True)
    hot = bootstrap(settings, bus=EventBus(keep_history=True))
    upgrade(hot.engine)
    hot.recordings.use_store(LocalStore(settings.resolved_recordings_dir))
    yield hot
    hot.close()


def agent(port: int, *, logged_in: bool = True) -> AgentAccount:
    return AgentAccount(
        "agent1001",
        "pw-test-1001",
        "Li Lei",
        ("urgent",),
        logged_in=logged_in,
        contact=f"sip:agent1001@127.0.0.1:{port}",
    )


@contextlib.asynccontextmanager
async def telephony_and_recordings(switch: Switch, hot: App) -> AsyncIterator[CallEndIngestor]:
    """What hotline/web.py's lifespan runs: the ARI call recorder and the ingestor on the same bus."""
    cfg = switch.config
    ingestor = recordings_on_call_end(hot, switch.host_path(cfg.monitor_dir), sweep_now=False)
    client = AriClient(
        AriEndpoint(f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, cfg.ari_app)
    )
    task = asyncio.create_task(TelephonyService(client, CallRecorder(hot.session_factory, hot.bus)).run())
    try:
        await asyncio.wait_for(client.connected.wait(), 10)
        yield ingestor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()
        ingestor.close()


async def call(work: Path, voice: Path, switch: Switch, *, number: str, talk_ms: int) -> sipp.SippStats:
    directory = work / f"call-{number}"
    directory.mkdir()
    scenario, inf = sipp.write_caller(directory, voice, talk_ms=talk_ms, numbers=[number])
    proc = await start_sipp_caller(directory, scenario, inf, switch.config.sip_port, timeout_s=40)
    await proc.wait()
    return sipp.SippStats.from_csv(directory / "stats.csv")


async def ingested(hot: App, *, within: float = 30.0) -> RecordingIngested:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        found = [e for e in hot.bus.published if isinstance(e, RecordingIngested)]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no recording ingested within {within} s: {hot.bus.published}")


def _listener(request: Request) -> Listener:
    return Listener("wang", request.headers.get("x-role", "supervisor"))


async def test_a_real_call_is_recorded_stored_and_playable_in_ranges(
    media: tuple[Path, Path], app: App, tmp_path: Path
) -> None:
    caller_voice, agent_voice = media
    port = free_port(socket.SOCK_DGRAM)
    with (
        running_switch([agent(port)], queues=NO_WRAPUP) as switch,
        sipp_agent(tmp_path, agent_voice, port),
    ):
        spool = switch.host_path(switch.config.monitor_dir)
        async with telephony_and_recordings(switch, app):
            stats = await call(tmp_path, caller_voice, switch, number="13800000001", talk_ms=5000)
            event = await ingested(app)
        left_in_spool = sorted(p.name for p in spool.iterdir())

    assert (stats.successful, stats.failed) == (1, 0)
    assert event.outcome == "stored", event
    with app.session_factory() as session:
        call_row = session.scalars(select(CallRow)).one()
        recording = session.scalars(select(Recording)).one()
        files = {f.kind: f for f in recording.files}
        [log] = session.scalars(select(RecordingIngest)).all()
    assert recording.call_id == call_row.call_id == event.call_id
    assert (recording.agent, recording.queue, recording.caller_number) == (
        "agent1001",
        "urgent",
        "13800000001",
    )
    assert recording.call_outcome == "answered"
    assert {(leg["role"], leg["dial_status"]) for leg in recording.legs} == {
        ("caller", ""),
        ("agent", "ANSWER"),
    }
    # both directions and the mix, each closed by MixMonitor (no repaired header) and removed from the spool
    assert sorted(files) == ["agent", "caller", "mixed"] and log.detail == "" and left_in_spool == []
    # MixMonitor ran from the queue join to the hang-up: the recording is as long as that, to within a second
    assert call_row.queued_at is not None and call_row.ended_at is not None
    span_ms = (call_row.ended_at - call_row.queued_at).total_seconds() * 1000
    assert recording.duration_ms > 4000 and abs(recording.duration_ms - span_ms) < 1000, (
        recording.duration_ms,
        span_ms,
    )
    ctx = app.recordings.ctx
    for kind, row in files.items():
        data = read_all(ctx.store, row.storage_key)
        assert (row.size_bytes, row.sha256) == (len(data), hashlib.sha256(data).hexdigest()), kind
        info = audio.describe(data)
        assert (row.format, row.sample_rate, row.duration_ms) == ("wav", info.sample_rate, info.duration_ms)
        assert abs(row.duration_ms - recording.duration_ms) < 100, kind
    # each direction carries speech (sipp streams a voice each way), and they are not the same signal
    assert recording.features["caller_max_dbfs"] > -40 and recording.features["agent_max_dbfs"] > -40
    assert read_all(ctx.store, files["caller"].storage_key) != read_all(ctx.store, files["agent"].storage_key)

    # played back through the API with Range requests, each audited
    app.recordings.listener = _listener
    web = FastAPI()
    web.state.hot = app
    api.install(web, app.recordings)
    client = TestClient(web)
    mixed = read_all(ctx.store, files["mixed"].storage_key)
    head = client.head(f"/api/recordings/{recording.id}/audio")
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(mixed)
    part = client.get(f"/api/recordings/{recording.id}/audio", headers={"Range": "bytes=44-16043"})
    assert part.status_code == 206 and part.content == mixed[44:16044]
    assert part.headers["content-range"] == f"bytes 44-16043/{len(mixed)}"
    caller_leg = client.get(
        f"/api/recordings/{recording.id}/audio?kind=caller", headers={"Range": "bytes=-100"}
    )
    assert caller_leg.status_code == 206 and len(caller_leg.content) == 100
    with app.session_factory() as session:
        listens = [
            (r.kind, r.byte_range)
            for r in session.scalars(select(RecordingListen).order_by(RecordingListen.id))
        ]
    assert listens == [
        ("mixed", "44-16043"),
        ("caller", f"{files['caller'].size_bytes - 100}-{files['caller'].size_bytes - 1}"),
    ]


async def test_a_caller_who_hangs_up_in_the_queue_is_kept_without_an_agent(
    media: tuple[Path, Path], app: App, tmp_path: Path
) -> None:
    caller_voice, _ = media
    with running_switch([agent(free_port(socket.SOCK_DGRAM), logged_in=False)], queues=NO_WRAPUP) as switch:
        async with telephony_and_recordings(switch, app):
            stats = await call(tmp_path, caller_voice, switch, number="13800000002", talk_ms=3000)
            event = await ingested(app)

    assert stats.successful == 1
    assert event.outcome == "stored", event
    with app.session_factory() as session:
        recording = session.scalars(select(Recording)).one()
        [log] = session.scalars(select(RecordingIngest)).all()
        kinds = sorted(f.kind for f in recording.files)
    assert (recording.agent, recording.call_outcome) == (None, "abandoned")
    assert kinds == ["agent", "caller", "mixed"] and "before an agent answered" in log.detail
    assert 2000 < recording.duration_ms < 4000
