"""Real SIP calls through a real Asterisk: caller (sipp) -> queue -> auto-answering agent (sipp), recorded.

Asserts on what Asterisk (``queue show``, ARI) and the database report, and on the recording files.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.bootstrap import App, bootstrap
from hotline.migrate import upgrade
from kernel.bus import EventBus
from kernel.settings import Settings
from telephony import sipp
from telephony.agents import AgentDesk, RecordingCli
from telephony.ari import AriClient, AriEndpoint
from telephony.config import DEFAULT_QUEUES, AgentAccount
from telephony.events import CallAnswered
from telephony.orm import CallLegRow, CallRow
from telephony.records import CallRecorder
from telephony.service import TelephonyService
from telephony.setup import load_agents
from telephony.switch import Switch
from telephony.testing import free_port, running_switch, why_no_asterisk
from tests.e2e.telephony_support import start_sipp_caller

pytestmark = [pytest.mark.asterisk, pytest.mark.slow, pytest.mark.timeout(120)]

AUDIO = Path(__file__).resolve().parents[3] / "shared" / "audio"
NO_WRAPUP = tuple(
    type(q)(q.name, q.title, q.strategy, 10, 0, q.weight, q.announce_seconds) for q in DEFAULT_QUEUES
)


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
    yield hot
    hot.close()


@dataclass
class Rig:
    switch: Switch
    app: App
    agent_port: int
    work: Path


@contextlib.asynccontextmanager
async def recorder_running(switch: Switch, app: App) -> AsyncIterator[AriClient]:
    cfg = switch.config
    client = AriClient(
        AriEndpoint(f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, cfg.ari_app)
    )
    service = TelephonyService(client, CallRecorder(app.session_factory, app.bus))
    task = asyncio.create_task(service.run())
    try:
        await asyncio.wait_for(client.connected.wait(), 10)
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()


@contextlib.contextmanager
def agent_uas(work: Path, audio: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    scenario = sipp.write_agent(work, audio, ring_ms=500)
    proc = subprocess.Popen(
        sipp.agent_command(scenario, local_port=port, media_port=free_port(socket.SOCK_DGRAM)),
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(5)


async def place_calls(
    work: Path, audio: Path, switch: Switch, *, service: str, numbers: list[str], talk_ms: int, name: str
) -> sipp.SippStats:
    directory = work / name
    directory.mkdir()
    scenario, inf = sipp.write_caller(directory, audio, talk_ms=talk_ms, numbers=numbers)
    proc = await start_sipp_caller(
        directory, scenario, inf, switch.config.sip_port, service=service, calls=len(numbers), rate=10
    )
    await proc.wait()
    return sipp.SippStats.from_csv(directory / "stats.csv")


async def ended_calls(app: App, count: int, *, within: float = 10.0) -> list[CallRow]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        with app.session_factory() as session:
            rows = list(
                session.scalars(
                    select(CallRow).where(CallRow.ended_at.is_not(None)).order_by(CallRow.started_at)
                )
            )
        if len(rows) >= count or loop.time() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def both_waiting(switch: Switch, *, within: float = 10.0) -> str:
    """``queue show`` once a caller waits in both the consultation and the urgent queue."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    shown = ""
    while loop.time() < deadline:
        shown = switch.rx("queue show")
        if "consultation has 1 calls" in shown and "urgent has 1 calls" in shown:
            break
        await asyncio.sleep(0.2)
    return shown


def agent_account(port: int, *, logged_in: bool = True) -> AgentAccount:
    return AgentAccount(
        "agent1001",
        "pw-test-1001",
        "Li Lei",
        ("urgent", "consultation"),
        logged_in=logged_in,
        contact=f"sip:agent1001@127.0.0.1:{port}",
    )


async def test_urgent_caller_reaches_agent_and_is_recorded(
    media: tuple[Path, Path], app: App, tmp_path: Path
) -> None:
    caller_audio, agent_audio = media
    agent_port = free_port(socket.SOCK_DGRAM)
    with (
        running_switch([agent_account(agent_port)], queues=NO_WRAPUP) as switch,
        agent_uas(tmp_path, agent_audio, agent_port),
    ):
        async with recorder_running(switch, app):
            stats = await place_calls(
                tmp_path,
                caller_audio,
                switch,
                service="12346",
                numbers=["13800000001"],
                talk_ms=5000,
                name="caller",
            )
            calls = await ended_calls(app, 1)
        queue = switch.rx("queue show urgent")
        recordings = {
            p.name: p.stat().st_size for p in switch.host_path(switch.config.monitor_dir).glob("*.wav")
        }

    assert (stats.successful, stats.failed) == (1, 0)
    assert "C:1," in queue and "has taken 1 calls" in queue  # Asterisk: one completed call, by our agent
    [call] = calls
    assert call.caller_number == "13800000001"
    assert (call.outcome, call.agent, call.queue, call.priority) == ("answered", "agent1001", "urgent", 10)
    assert call.queue_wait_seconds is not None and 0 <= call.queue_wait_seconds < 5
    assert call.talk_seconds is not None and call.talk_seconds > 2
    with app.session_factory() as session:
        legs = session.scalars(select(CallLegRow).where(CallLegRow.call_id == call.call_id)).all()
    assert {(leg.role, leg.dial_status) for leg in legs} == {("caller", ""), ("agent", "ANSWER")}
    # MixMonitor: mixed file + one per direction, named by the caller's UNIQUEID, each seconds long
    assert sorted(recordings) == sorted(f"{call.call_id}{suffix}.wav" for suffix in ("", "-agent", "-caller"))
    assert all(size > 2 * 16000 for size in recordings.values()), recordings  # > 2 s of 8 kHz 16-bit
    assert call.recording and call.recording.endswith(f"{call.call_id}.wav")
    [pop] = [e for e in app.bus.published if isinstance(e, CallAnswered)]
    assert (pop.call_id, pop.caller_number, pop.agent, pop.ivr_choices) == (
        call.call_id,
        "13800000001",
        "agent1001",
        ("direct:urgent",),
    )


async def test_urgent_caller_is_answered_before_an_earlier_consultation(
    media: tuple[Path, Path], app: App, tmp_path: Path
) -> None:
    """The agent is busy; a consultation caller, then an urgent caller wait; the urgent one goes first."""
    caller_audio, agent_audio = media
    agent_port = free_port(socket.SOCK_DGRAM)
    # The agent's account comes from the agents table, rendered into pjsip.conf.
    desk = AgentDesk(app.session_factory, RecordingCli([]))
    desk.create(
        "agent1001", "Li Lei", ["consultation", "urgent"], contact=f"sip:agent1001@127.0.0.1:{agent_port}"
    )
    desk.login("agent1001", datetime.now(UTC))
    with (
        running_switch(load_agents(app.session_factory), queues=NO_WRAPUP) as switch,
        agent_uas(tmp_path, agent_audio, agent_port),
    ):
        async with recorder_running(switch, app):
            busy = asyncio.create_task(
                place_calls(
                    tmp_path,
                    caller_audio,
                    switch,
                    service="12347",
                    numbers=["13800000001"],
                    talk_ms=7000,
                    name="busy",
                )
            )
            await asyncio.sleep(2.5)
            consultation = asyncio.create_task(
                place_calls(
                    tmp_path,
                    caller_audio,
                    switch,
                    service="12347",
                    numbers=["13800000002"],
                    talk_ms=20000,
                    name="consultation",
                )
            )
            await asyncio.sleep(1.0)
            urgent = asyncio.create_task(
                place_calls(
                    tmp_path,
                    caller_audio,
                    switch,
                    service="12346",
                    numbers=["13800000003"],
                    talk_ms=12000,
                    name="urgent",
                )
            )
            waiting = await both_waiting(switch)
            results = await asyncio.gather(busy, consultation, urgent)
            calls = await ended_calls(app, 3)
        queue_log = (switch.host_path(switch.config.dirs.log) / "queue_log").read_text()

    assert all((r.successful, r.failed) == (1, 0) for r in results)
    assert "consultation has 1 calls" in waiting
    assert "urgent has 1 calls" in waiting
    by_number = {c.caller_number: c for c in calls}
    earlier, urgent_call = by_number["13800000002"], by_number["13800000003"]
    assert earlier.started_at < urgent_call.started_at
    assert urgent_call.answered_at is not None, queue_log
    assert earlier.answered_at is not None, queue_log
    assert urgent_call.answered_at < earlier.answered_at, queue_log  # the urgent caller went first
    assert (urgent_call.agent, earlier.agent) == ("agent1001", "agent1001")
