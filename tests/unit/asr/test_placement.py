"""Which worker gets a call: pure bookkeeping with ``now`` passed in."""

from __future__ import annotations

from asr.placement import Placement
from asr.worker_events import WorkerHeartbeat


def beat(worker: str, free: int, calls: tuple[str, ...] = (), capacity: int = 4) -> WorkerHeartbeat:
    return WorkerHeartbeat(worker, f"10.0.0.{len(worker)}", capacity, free, calls)


def test_the_worker_with_most_free_slots_comes_first_and_each_assignment_counts() -> None:
    p = Placement(lapse_s=1.5)
    p.heartbeat(beat("a", 2), now=0.0)
    p.heartbeat(beat("b", 3), now=0.1)
    assert [w.worker_id for w in p.candidates(0.2)] == ["b", "a"]
    p.assign("c1", "b")
    p.assign("c2", "b")  # b now has 1 free, a 2
    assert [w.worker_id for w in p.candidates(0.2)] == ["a", "b"]
    # b's next heartbeat was sent before it opened c2: the pending call still takes a slot.
    p.heartbeat(beat("b", 2, ("c1",)), now=0.5)
    assert p.workers["b"].free == 1


def test_a_full_worker_is_skipped_and_a_refusal_holds_until_its_next_heartbeat() -> None:
    p = Placement()
    p.heartbeat(beat("a", 0), now=0.0)
    p.heartbeat(beat("b", 1), now=0.0)
    assert [w.worker_id for w in p.candidates(0.1)] == ["b"]
    p.refused("b")
    assert p.candidates(0.1) == []
    p.heartbeat(beat("b", 1), now=0.5)
    assert [w.worker_id for w in p.candidates(0.6, exclude={"a"})] == ["b"]
    assert p.candidates(0.6, exclude={"b"}) == []


def test_a_silent_worker_lapses_with_its_calls_and_is_no_candidate() -> None:
    p = Placement(lapse_s=1.5)
    p.heartbeat(beat("a", 4), now=0.0)
    p.heartbeat(beat("b", 4), now=0.0)
    p.assign("c1", "a")
    p.assign("c2", "a")
    p.assign("c3", "b")
    p.heartbeat(beat("b", 3, ("c3",)), now=1.0)
    assert p.lapsed(1.4) == []
    assert [w.worker_id for w in p.candidates(1.6)] == ["b"]  # a is past its lapse: never chosen
    [(gone, calls)] = p.lapsed(1.6)
    assert gone.worker_id == "a" and calls == ["c1", "c2"]
    assert p.owner == {"c3": "b"} and "a" not in p.workers
    assert p.lapsed(1.7) == []


def test_releasing_a_call_frees_its_slot() -> None:
    p = Placement()
    p.heartbeat(beat("a", 1, capacity=1), now=0.0)
    p.assign("c1", "a")
    assert p.candidates(0.1) == []
    assert p.release("c1") == "a"
    assert [w.worker_id for w in p.candidates(0.1)] == ["a"]
    assert p.release("c1") is None
