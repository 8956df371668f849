"""ASR workers as processes on the real NATS broker: the coordinator hands a call to one, the workers'
segments reach this process's bus, and a ``kill -9`` of the worker mid-call moves the call to the other
worker, whose segments continue. The recognizer is the FakeRecognizer (this tests the hand-over, not
recognition); outcomes are awaited with generous timeouts and no timing is asserted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from asr.coordinator import TapCoordinator
from asr.events import CallTranscriptClosed, TranscriptSegment
from asr.placement import SEQ_EPOCH
from asr.testing import FakeTap, RtpPlayer, utterance
from asr.transcripts import InMemorySegmentStore
from asr.worker_events import CallMoved
from kernel.broker import NatsBridge
from kernel.bus import EventBus
from tests.integration.test_kernel_broker import BROKER, broker_reachable

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
REPO = Path(__file__).resolve().parents[2]
# This module's own subjects on the shared NATS server: another test run's workers never answer here.
NAMESPACE = f"asrtest{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _need_broker() -> None:
    reason = broker_reachable()
    if reason:
        pytest.skip(reason)


@contextlib.contextmanager
def worker_process(worker_id: str, capacity: int = 4) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOTLINE_BROKER_NAMESPACE": NAMESPACE}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asr.testing", BROKER, worker_id, str(capacity)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("ready")
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        assert proc.stdout is not None
        proc.stdout.close()


@contextlib.asynccontextmanager
async def coordinator() -> AsyncIterator[tuple[TapCoordinator, EventBus, FakeTap]]:
    bus = EventBus(keep_history=True)
    bridge = NatsBridge(bus, BROKER, name="asr-coordinator-test", namespace=NAMESPACE)
    await bridge.start()
    tap = FakeTap()
    coord = TapCoordinator(bus, tap, asyncio.get_running_loop(), store=InMemorySegmentStore()).install()
    stop = asyncio.Event()
    watch = asyncio.create_task(coord.run(stop))
    try:
        yield coord, bus, tap
    finally:
        stop.set()
        await watch
        await bridge.stop()


async def wait_until(predicate: Callable[[], bool], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("the awaited outcome did not happen")
        await asyncio.sleep(0.05)


def finals(bus: EventBus, call_id: str) -> list[TranscriptSegment]:
    return [
        e for e in bus.published if isinstance(e, TranscriptSegment) and e.is_final and e.call_id == call_id
    ]


async def test_a_call_killed_with_its_worker_moves_to_the_other_worker() -> None:
    call_id = f"it-{os.getpid()}"
    async with coordinator() as (coord, bus, tap):
        with worker_process(f"it-a-{os.getpid()}", capacity=4) as a, worker_process(f"it-b-{os.getpid()}", 2):
            ids = {f"it-a-{os.getpid()}", f"it-b-{os.getpid()}"}
            await wait_until(lambda: ids <= set(coord.placement.workers))
            assert await coord.call_answered(call_id)
            first = coord.placement.owner[call_id]
            assert first == f"it-a-{os.getpid()}"  # the most free slots
            player = RtpPlayer(tap, call_id)
            await player.play(utterance())
            await wait_until(lambda: len(finals(bus, call_id)) == 2)  # from the other process, over NATS
            os.kill(a.pid, signal.SIGKILL)
            await wait_until(lambda: any(isinstance(e, CallMoved) for e in bus.published))
            [moved] = [e for e in bus.published if isinstance(e, CallMoved)]
            assert moved.from_worker == first and moved.to_worker == f"it-b-{os.getpid()}"
            await player.play(utterance())
            await wait_until(lambda: len(finals(bus, call_id)) == 4)
            await coord.call_ended(call_id)
            player.close()
    assert sorted(s.seq for s in finals(bus, call_id)) == [1, 1, SEQ_EPOCH + 1, SEQ_EPOCH + 1]
    [closed] = [e for e in bus.published if isinstance(e, CallTranscriptClosed)]
    assert len(closed.segments) == 4
