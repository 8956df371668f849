"""The telephony role as two processes on PostgreSQL and NATS, against a real Asterisk: while a call is in
progress the active follower is killed with ``kill -9``; the standby takes the lease, follows the switch,
and the call's record is completed when the caller hangs up — no call record is lost or left open. The
screen pop published by the telephony process reaches a process that only listens on the broker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from kernel.broker import NatsBridge
from kernel.bus import EventBus
from telephony import sipp
from telephony.config import AgentAccount
from telephony.events import CallAnswered
from telephony.orm import CallRow
from telephony.testing import free_port, running_switch, why_no_asterisk
from tests.e2e.telephony_support import NO_WRAPUP, sipp_agent, speech_clips, start_sipp_caller
from tests.integration.test_kernel_broker import BROKER, broker_reachable

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.slow,
    pytest.mark.timeout(180),
]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_seeded(pg_server: str, pg_template: str) -> Iterator[str]:
    name = f"hotline_failover_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def follower(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "run", "telephony"],
            env=env,
            stdout=handle,
            stderr=handle,
            cwd=REPO,
        )


def logged(log: Path, needle: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{log.name}: {needle!r} not logged; last lines:\n{log.read_text()[-2000:]}")


async def call_row(url: str, caller: str, *, ended: bool, within: float = 60.0) -> CallRow:
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = conn.execute(select(CallRow).where(CallRow.caller_number == caller)).first()
            if row is not None and row.answered_at is not None and (row.ended_at is not None) == ended:
                return row  # type: ignore[return-value]
            await asyncio.sleep(0.2)
        raise AssertionError(f"no {'ended' if ended else 'answered'} call from {caller}")
    finally:
        engine.dispose()


async def test_the_standby_follower_takes_over_mid_call_and_completes_its_record(
    pg_seeded: str, tmp_path: Path
) -> None:
    reason = why_no_asterisk(need=("sipp",)) or broker_reachable()
    if reason:
        pytest.skip(reason)
    caller_clip, agent_clip = speech_clips()
    caller_audio = sipp.to_ulaw(caller_clip, tmp_path / "caller.ulaw")
    agent_audio = sipp.to_ulaw(agent_clip, tmp_path / "agent.ulaw")
    agent_port = free_port(socket.SOCK_DGRAM)
    account = AgentAccount(
        "agent1001",
        "pw-test-1001",
        "Li Lei",
        ("urgent", "consultation"),
        logged_in=True,
        contact=f"sip:agent1001@127.0.0.1:{agent_port}",
    )
    with running_switch([account], queues=NO_WRAPUP) as switch, sipp_agent(tmp_path, agent_audio, agent_port):
        cfg = switch.config
        namespace = f"failover{uuid.uuid4().hex[:12]}"
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HOTLINE_ENVIRONMENT": "test",
            "HOTLINE_SECRET_KEY": "failover-test",
            "HOTLINE_DATABASE_URL": pg_seeded,
            "HOTLINE_DATA_DIR": str(tmp_path / "var"),
            "HOTLINE_BROKER_URL": BROKER,
            "HOTLINE_BROKER_NAMESPACE": namespace,  # its own subjects on the shared NATS server
            "HOTLINE_TELEPHONY_ENABLED": "true",
            "HOTLINE_ASR_ENABLED": "false",
            "HOTLINE_ARI_URL": f"http://127.0.0.1:{cfg.http_port}",
            "HOTLINE_ARI_USER": cfg.ari_user,
            "HOTLINE_ARI_PASSWORD": cfg.ari_password,
            "HOTLINE_ARI_APP": cfg.ari_app,
            "HOTLINE_RECORDINGS_MONITOR_DIR": str(switch.host_path(cfg.monitor_dir)),
        }
        (tmp_path / "var").mkdir()
        pops: list[CallAnswered] = []
        listener = EventBus()
        listener.subscribe(CallAnswered, pops.append)
        bridge = NatsBridge(listener, BROKER, namespace=namespace)
        await bridge.start()
        active = follower(env, tmp_path / "active.log")
        await asyncio.to_thread(logged, tmp_path / "active.log", "ARI events connected")
        standby = follower(env, tmp_path / "standby.log")
        try:
            await asyncio.to_thread(logged, tmp_path / "standby.log", "standing by")
            work = tmp_path / "caller"
            work.mkdir()
            scenario, inf = sipp.write_caller(work, caller_audio, talk_ms=12_000, numbers=["13800000077"])
            caller = await start_sipp_caller(work, scenario, inf, cfg.sip_port)
            answered = await call_row(pg_seeded, "13800000077", ended=False)
            os.kill(active.pid, signal.SIGKILL)  # mid-call
            active.wait(10)
            await asyncio.to_thread(logged, tmp_path / "standby.log", "lease telephony acquired (took over)")
            await asyncio.to_thread(logged, tmp_path / "standby.log", "ARI events connected")
            await asyncio.wait_for(caller.wait(), 60)
            ended = await call_row(pg_seeded, "13800000077", ended=True)
        finally:
            for proc in (active, standby):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(20)
            await bridge.stop()
    assert ended.call_id == answered.call_id and ended.outcome == "answered" and ended.agent == "agent1001"
    assert ended.talk_seconds is not None and ended.talk_seconds > 5  # closed when the caller hung up
    engine = create_engine(pg_seeded)
    with engine.connect() as conn:
        open_calls = conn.execute(select(CallRow.call_id).where(CallRow.ended_at.is_(None))).all()
    engine.dispose()
    assert open_calls == []
    assert [p.call_id for p in pops] == [answered.call_id]  # the screen pop crossed the broker once
