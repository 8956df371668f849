"""The bus across processes on the real NATS server: an event published in one process reaches another
process's handlers; what is malformed or of an unknown version is counted and dropped, never a crash."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kernel.broker import NatsBridge
from kernel.bus import EventBus
from telephony.events import CallEnded

BROKER = os.environ.get("HOTLINE_TEST_BROKER_URL", "nats://127.0.0.1:4222")
pytestmark = pytest.mark.broker
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def broker_reachable() -> str | None:
    host, port = BROKER.removeprefix("nats://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return None
    except OSError as exc:
        return f"NATS not reachable at {BROKER}: {exc}"


@pytest.fixture(autouse=True)
def _need_broker() -> None:
    reason = broker_reachable()
    if reason:
        pytest.skip(reason)


LISTENER = textwrap.dedent(
    """
    import asyncio, sys
    from kernel.broker import NatsBridge
    from kernel.bus import EventBus
    from telephony.events import CallEnded

    async def main():
        bus = EventBus()
        got = asyncio.Event()
        loop = asyncio.get_running_loop()
        def on_end(event):
            print("got", event.call_id, event.ended_at.isoformat(), flush=True)
            loop.call_soon_threadsafe(got.set)
        bus.subscribe(CallEnded, on_end)
        bridge = NatsBridge(bus, sys.argv[1], namespace=sys.argv[2])
        await bridge.start()
        print("ready", flush=True)
        await asyncio.wait_for(got.wait(), 60)
        await bridge.stop()

    asyncio.run(main())
    """
)


@pytest.fixture
def namespace() -> str:
    """A namespace of this test's own: other test runs and benches may share the NATS server."""
    return f"test{uuid.uuid4().hex[:12]}"


@pytest.fixture
def listener(tmp_path: Path, namespace: str) -> subprocess.Popen[str]:
    script = tmp_path / "listener.py"
    script.write_text(LISTENER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(script), BROKER, namespace], stdout=subprocess.PIPE, env=env, text=True
    )


async def test_an_event_published_here_reaches_another_process(
    listener: subprocess.Popen[str], namespace: str
) -> None:
    proc = listener
    assert proc.stdout is not None
    try:
        assert (await asyncio.to_thread(proc.stdout.readline)).startswith("ready")
        bus = EventBus()
        bridge = NatsBridge(bus, BROKER, namespace=namespace)
        await bridge.start()
        local: list[CallEnded] = []
        bus.subscribe(CallEnded, local.append)
        event = CallEnded("call-42", "13800138000", "answered", "agent1", NOW)
        bus.publish(event)
        await bridge.flush()
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
        assert line.split() == ["got", "call-42", NOW.isoformat()]
        assert local == [event]  # delivered here once, not again from the broker
        await asyncio.sleep(0.2)
        assert local == [event] and bridge.stats.sent == 1
        await bridge.stop()
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


async def test_malformed_and_unknown_messages_are_dropped_and_counted(namespace: str) -> None:
    import nats

    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(object, seen.append)
    bridge = NatsBridge(bus, BROKER, namespace=namespace)
    await bridge.start()
    raw = await nats.connect(BROKER)
    try:
        for payload in (
            b"\xff\xfe not json",
            b'{"type": "telephony.call_ended", "v": 7, "data": {}}',
            b'{"type": "telephony.call_ended", "v": 1, "origin": "x", "data": {"call_id": 1}}',
        ):
            await raw.publish(bridge.prefix + "telephony.call_ended", payload)
        good = CallEnded("c-ok", "1380", "answered", None, NOW)
        stranger = NatsBridge(EventBus(), BROKER, namespace=namespace + "x")  # another hotline on the server
        await stranger.start()
        stranger.bus.publish(CallEnded("c-elsewhere", "1380", "answered", None, NOW))
        await stranger.flush()
        await stranger.stop()
        other = NatsBridge(EventBus(), BROKER, namespace=namespace)
        await other.start()
        other.bus.publish(good)
        await other.flush()
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.05)
        # The consumer survived the bad ones and got the good one after them; the event sent before it in
        # another namespace never arrived.
        assert seen == [good]
        assert bridge.stats.dropped == 3 and bridge.stats.received == 1
        await other.stop()
    finally:
        await raw.close()
        await bridge.stop()
