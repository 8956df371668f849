"""The coordinator and ASR workers on the in-process bus with the FakeRecognizer and a fake ARI tap:
assignment by free capacity, shedding when full, failover when a worker's heartbeats stop. Outcomes are
awaited with generous timeouts; no timing is asserted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from asr.coordinator import TapCoordinator
from asr.events import CallTranscriptClosed, TranscriptSegment
from asr.placement import SEQ_EPOCH
from asr.testing import FakeTap, RtpPlayer, Target, fake_worker, utterance
from asr.transcripts import InMemorySegmentStore
from asr.worker import AsrWorker
from asr.worker_events import CallMoved
from kernel.bus import EventBus

pytestmark = pytest.mark.timeout(60)


async def wait_until(predicate: Callable[[], bool], within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("the awaited outcome did not happen")
        await asyncio.sleep(0.02)


@dataclass
class Rig:
    bus: EventBus
    tap: FakeTap
    store: InMemorySegmentStore
    coordinator: TapCoordinator
    stop: asyncio.Event
    workers: dict[str, tuple[AsrWorker, asyncio.Task[None]]] = field(default_factory=dict)

    def start_worker(self, worker_id: str, capacity: int = 4) -> AsrWorker:
        worker = fake_worker(self.bus, worker_id, capacity=capacity)
        self.workers[worker_id] = (worker, asyncio.create_task(worker.run(self.stop)))
        return worker

    async def kill(self, worker_id: str) -> None:
        """As ``kill -9``: no more heartbeats, no more answers, its ports closed."""
        worker, task = self.workers.pop(worker_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        worker._loop = None  # requests to it go unanswered
        for call in worker.service.calls.values():
            for receiver in call.receivers.values():
                receiver.close()

    def events(self, kind: type) -> list[object]:
        return [e for e in self.bus.published if isinstance(e, kind)]

    def finals(self, call_id: str) -> list[TranscriptSegment]:
        return [
            e
            for e in self.bus.published
            if isinstance(e, TranscriptSegment) and e.is_final and e.call_id == call_id
        ]


@contextlib.asynccontextmanager
async def rig() -> AsyncIterator[Rig]:
    bus = EventBus(keep_history=True)
    tap = FakeTap()
    store = InMemorySegmentStore()
    loop = asyncio.get_running_loop()
    coordinator = TapCoordinator(bus, tap, loop, store=store, lapse_s=0.5).install()
    stop = asyncio.Event()
    watch = asyncio.create_task(coordinator.run(stop))
    r = Rig(bus, tap, store, coordinator, stop)
    try:
        yield r
    finally:
        stop.set()
        await asyncio.gather(watch, *(t for _, t in r.workers.values()), return_exceptions=True)


async def test_a_call_goes_to_the_freest_worker_and_its_transcript_is_stored_once() -> None:
    async with rig() as r:
        r.start_worker("w1", capacity=2)
        r.start_worker("w2", capacity=4)
        await wait_until(lambda: len(r.coordinator.placement.workers) == 2)
        assert await r.coordinator.call_answered("c1")
        assert r.coordinator.placement.owner == {"c1": "w2"}
        player = RtpPlayer(r.tap, "c1")
        await player.play(utterance())
        await wait_until(lambda: len(r.finals("c1")) == 2)  # one final per leg
        await r.coordinator.call_ended("c1")
        player.close()
        [closed] = r.events(CallTranscriptClosed)
        assert isinstance(closed, CallTranscriptClosed) and len(closed.segments) == 2
        assert {(s.leg, s.seq) for s in r.store.for_call("c1")} == {("caller", 1), ("agent", 1)}
        assert r.tap.removed == ["c1"] and not r.workers["w2"][0].service.calls


async def test_a_full_worker_sheds_new_calls_and_a_call_no_one_can_take_waits_for_a_slot() -> None:
    async with rig() as r:
        r.start_worker("w1", capacity=1)
        await wait_until(lambda: "w1" in r.coordinator.placement.workers)
        assert await r.coordinator.call_answered("c1")
        assert not await r.coordinator.call_answered("c2")  # no free slot anywhere: not tapped yet
        w2 = r.start_worker("w2", capacity=1)
        await wait_until(lambda: r.coordinator.placement.owner.get("c2") == "w2")
        await wait_until(lambda: "c2" in r.tap.targets)
        # A worker asked while full refuses, whatever the coordinator believed.
        from asr.worker_events import OpenCall

        reply = await w2.open(OpenCall("r1", "w2", "c3", ("caller", "agent")))
        assert reply.refused == "full" and w2.refused == 1
        await r.coordinator.call_ended("c1")
        await r.coordinator.call_ended("c2")
        assert not r.coordinator.placement.owner


async def test_a_killed_workers_call_moves_to_another_and_its_transcript_continues() -> None:
    async with rig() as r:
        r.start_worker("w1", capacity=4)
        await wait_until(lambda: "w1" in r.coordinator.placement.workers)
        assert await r.coordinator.call_answered("c1")
        r.start_worker("w2", capacity=4)
        await wait_until(lambda: "w2" in r.coordinator.placement.workers)
        player = RtpPlayer(r.tap, "c1")
        await player.play(utterance())
        await wait_until(lambda: len(r.finals("c1")) == 2)
        await r.kill("w1")
        await wait_until(lambda: bool(r.events(CallMoved)))
        [moved] = r.events(CallMoved)
        assert isinstance(moved, CallMoved) and (moved.from_worker, moved.to_worker) == ("w1", "w2")
        assert r.tap.repointed == ["c1"] and r.coordinator.placement.owner == {"c1": "w2"}
        await player.play(utterance())
        await wait_until(lambda: len(r.finals("c1")) == 4)
        await r.coordinator.call_ended("c1")
        player.close()
        stored = r.store.for_call("c1")
        assert sorted(s.seq for s in stored) == [1, 1, SEQ_EPOCH + 1, SEQ_EPOCH + 1]
        first = max(s.end_ms for s in stored if s.seq == 1)
        assert all(s.start_ms > first for s in stored if s.seq > SEQ_EPOCH)  # the call's clock went on
        [closed] = r.events(CallTranscriptClosed)
        assert isinstance(closed, CallTranscriptClosed) and len(closed.segments) == 4


async def test_a_segment_delivered_twice_is_stored_once() -> None:
    async with rig() as r:
        r.start_worker("w1")
        await wait_until(lambda: "w1" in r.coordinator.placement.workers)
        await r.coordinator.call_answered("c1")
        player = RtpPlayer(r.tap, "c1")
        await player.play(utterance(), legs=("caller",))
        await wait_until(lambda: len(r.finals("c1")) == 1)
        r.bus.publish(r.finals("c1")[0])  # the broker may deliver an event twice
        await r.coordinator.call_ended("c1")
        player.close()
        assert len(r.store.for_call("c1")) == 1


async def test_a_worker_that_decodes_slower_than_real_time_sheds_new_calls() -> None:
    import time

    from asr.worker_events import OpenCall

    bus = EventBus()
    worker = fake_worker(bus, "w1", capacity=10, threads=1)
    decode = worker.service._decode
    held = await worker.open(OpenCall("r0", "w1", "c0", ("caller",)))
    assert not held.refused and not worker.behind and worker.free == 9
    # Jobs that queue behind a slow one on the only thread wait for it: the average wait climbs.
    await asyncio.gather(*(decode.run(time.sleep, 0.15) for _ in range(6)))
    assert worker.behind and worker.free == 0 and worker.heartbeat().free == 0
    reply = await worker.open(OpenCall("r1", "w1", "c1", ("caller",)))
    assert reply.refused == "behind" and list(worker.service.calls) == ["c0"]
    await asyncio.gather(*(decode.run(lambda: None) for _ in range(60)))  # caught up: waits are short
    assert not worker.behind and worker.free == 9
    await worker.service.close_call("c0")


async def test_a_call_handed_out_by_a_previous_coordinator_is_closed_on_hangup() -> None:
    from asr.worker_events import OpenCall

    async with rig() as r:
        worker = r.start_worker("w1")
        opened = await worker.open(OpenCall("r0", "w1", "c9", ("caller",)))  # by the coordinator that died
        target = FakeTap()  # where the old coordinator's taps still send the call's audio
        target.targets["c9"] = Target(opened.host, {"caller": opened.ports[0]})
        player = RtpPlayer(target, "c9")
        await player.play(utterance(), legs=("caller",))
        await wait_until(lambda: len(r.finals("c9")) == 1)
        await wait_until(lambda: r.coordinator.placement.holders("c9") == ["w1"])
        await r.coordinator.call_ended("c9")
        player.close()
        assert not worker.service.calls  # the slot is free again
        assert r.tap.removed == ["c9"]  # the earlier taps, found on the switch, are removed
        [closed] = r.events(CallTranscriptClosed)
        assert isinstance(closed, CallTranscriptClosed) and [s.seq for s in closed.segments] == [1]


async def test_a_call_closed_while_the_worker_was_still_opening_it_does_not_keep_a_slot() -> None:
    from asr.worker_events import CloseCall, OpenCall

    worker = fake_worker(EventBus(), "w1", capacity=2)
    opening = asyncio.create_task(worker.open(OpenCall("r1", "w1", "c1", ("caller",))))
    await asyncio.sleep(0)  # the open began (the bus delivers in order) and waits for its ports
    await worker.close(CloseCall("r2", "w1", "c1", abandon=True))  # the coordinator stopped waiting
    reply = await opening
    assert reply.refused == "closed" and not worker.service.calls and worker.free == 2
    again = await worker.open(OpenCall("r3", "w1", "c1", ("caller",)))  # a later hand-off is not refused
    assert not again.refused and list(worker.service.calls) == ["c1"]
    await worker.service.close_call("c1")
