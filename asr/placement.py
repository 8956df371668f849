"""Which ASR worker transcribes which call: pure bookkeeping that takes ``now`` and reads no clock.

Workers announce themselves every ``HEARTBEAT_S``; one whose announcements stopped for ``LAPSE_S`` is gone
(a ``kill -9``, a lost machine) and its calls must move. New calls go to the live worker with the most free
slots; each assignment counts against that worker's free slots until its next heartbeat says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asr.worker_events import WorkerHeartbeat

HEARTBEAT_S = 0.5
LAPSE_S = 1.5  # three missed heartbeats: the worker is gone
SEQ_EPOCH = 100_000  # finals of a call's n-th worker are numbered from n * SEQ_EPOCH: never a collision


@dataclass
class WorkerState:
    worker_id: str
    host: str
    capacity: int
    free: int
    seen_at: float
    calls: set[str] = field(default_factory=set)
    reported: tuple[str, ...] = ()  # the calls its last heartbeat said it holds


@dataclass
class Placement:
    lapse_s: float = LAPSE_S
    workers: dict[str, WorkerState] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # call id -> worker id

    def heartbeat(self, beat: WorkerHeartbeat, now: float) -> None:
        state = self.workers.get(beat.worker_id)
        if state is None:
            state = self.workers[beat.worker_id] = WorkerState(
                beat.worker_id, beat.host, beat.capacity, beat.free, now
            )
        state.host, state.capacity, state.seen_at = beat.host, beat.capacity, now
        state.reported = beat.calls
        # Calls assigned here that the worker has not reported yet still take a slot.
        pending = {c for c, w in self.owner.items() if w == beat.worker_id} - set(beat.calls)
        state.free = max(0, beat.free - len(pending))

    def candidates(self, now: float, exclude: set[str] | frozenset[str] = frozenset()) -> list[WorkerState]:
        """Live workers with a free slot, the most free first (ties: the one heard from last)."""
        alive = [
            w
            for w in self.workers.values()
            if w.free > 0 and now - w.seen_at < self.lapse_s and w.worker_id not in exclude
        ]
        return sorted(alive, key=lambda w: (-w.free, -w.seen_at, w.worker_id))

    def assign(self, call_id: str, worker_id: str) -> None:
        self.owner[call_id] = worker_id
        state = self.workers.get(worker_id)
        if state is not None:
            state.calls.add(call_id)
            state.free = max(0, state.free - 1)

    def refused(self, worker_id: str) -> None:
        """The worker said it is full: no new call for it until its next heartbeat."""
        state = self.workers.get(worker_id)
        if state is not None:
            state.free = 0

    def release(self, call_id: str) -> str | None:
        worker_id = self.owner.pop(call_id, None)
        state = self.workers.get(worker_id) if worker_id else None
        if state is not None and call_id in state.calls:
            state.calls.discard(call_id)
            state.free = min(state.capacity, state.free + 1)
        return worker_id

    def holders(self, call_id: str) -> list[str]:
        """Workers whose last heartbeat says they hold ``call_id`` (whoever handed it to them)."""
        return sorted(w.worker_id for w in self.workers.values() if call_id in w.reported)

    def lapsed(self, now: float) -> list[tuple[WorkerState, list[str]]]:
        """Workers not heard from for ``lapse_s``, forgotten, each with the calls it held."""
        gone = [w for w in self.workers.values() if now - w.seen_at >= self.lapse_s]
        out = []
        for worker in gone:
            del self.workers[worker.worker_id]
            calls = sorted(c for c, w in self.owner.items() if w == worker.worker_id)
            for call_id in calls:
                del self.owner[call_id]
            out.append((worker, calls))
        return out
