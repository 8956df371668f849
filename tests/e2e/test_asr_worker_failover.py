"""A real call through a real Asterisk, transcribed by one of two ASR workers; the worker dies mid-call
and the call's audio is re-pointed to the other worker.

The coordinator (as in the telephony role) hands the answered call to a worker and taps both legs through
ARI (snoop → externalMedia RTP/slin16 → the worker's ports). Then the worker is killed (its heartbeats
stop, its ports close): the coordinator opens the call on the other worker, adds a new externalMedia
channel to each leg's bridge and deletes the old one. Asserted: Asterisk's RTP reaches the second worker,
the old externalMedia channels are gone, the transcript closes with the call and nothing of the taps is
left on the switch. The workers run the FakeRecognizer (this tests the hand-over, not recognition).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

from asr.ari_tap import AriTap
from asr.coordinator import TapCoordinator
from asr.events import CallTranscriptClosed
from asr.testing import fake_worker
from asr.transcripts import SqlSegmentStore
from asr.worker import AsrWorker
from asr.worker_events import CallMoved
from hotline.live_calls import LiveAssist
from kernel.clock import FakeClock
from telephony import sipp
from telephony.config import AgentAccount
from telephony.testing import free_port, running_switch
from tests.conftest import make_app
from tests.e2e.telephony_support import (
    NO_WRAPUP,
    recorder_running,
    sipp_agent,
    speech_clips,
    start_sipp_caller,
    until,
)

pytestmark = [pytest.mark.asterisk, pytest.mark.slow, pytest.mark.timeout(180)]


def received(worker: AsrWorker, call_id: str) -> int:
    tap = worker.service.calls.get(call_id)
    return min((r.stats.received for r in tap.receivers.values()), default=0) if tap else 0


async def test_a_dead_workers_call_is_re_pointed_to_another_worker(
    tmp_path: Path, sqlite_template: Path
) -> None:
    caller_clip, agent_clip = speech_clips()
    db = tmp_path / "hotline.sqlite3"
    shutil.copyfile(sqlite_template, db)
    app = make_app(f"sqlite:///{db}", tmp_path, FakeClock(), seed=False, migrate=False)
    caller_audio = sipp.to_ulaw(caller_clip, tmp_path / "caller.ulaw")
    agent_audio = sipp.to_ulaw(agent_clip, tmp_path / "agent.ulaw")
    agent_port = free_port(socket.SOCK_DGRAM)
    account = AgentAccount(
        "agent1001", "pw-test-1001", "Li Lei", ("urgent",), contact=f"sip:agent1001@127.0.0.1:{agent_port}"
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with running_switch([account], queues=NO_WRAPUP) as switch, sipp_agent(tmp_path, agent_audio, agent_port):
        cfg = switch.config
        tap = AriTap(f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, cfg.ari_app)
        coordinator = TapCoordinator(app.bus, tap, loop, store=SqlSegmentStore(app.session_factory)).install()
        LiveAssist(bus=app.bus, loop=loop, coordinator=coordinator).install(app.bus)
        workers = {w: fake_worker(app.bus, w) for w in ("asr-a", "asr-b")}
        tasks = {w: asyncio.create_task(worker.run(stop)) for w, worker in workers.items()}
        watch = asyncio.create_task(coordinator.run(stop))
        try:
            async with recorder_running(switch, app):
                await until(lambda: len(coordinator.placement.workers) == 2, what="both workers heard")
                scenario, inf = sipp.write_caller(
                    tmp_path, caller_audio, talk_ms=16_000, numbers=["13800000088"]
                )
                caller = await start_sipp_caller(tmp_path, scenario, inf, cfg.sip_port)
                await until(
                    lambda: coordinator.placement.owner, within=30, what="the call handed to a worker"
                )
                [(call_id, first)] = coordinator.placement.owner.items()
                other = next(w for w in workers if w != first)
                await until(
                    lambda: received(workers[first], call_id) > 50, what="Asterisk's RTP at the worker"
                )
                old_externals = {leg.external_id for leg in coordinator.calls[call_id].handles.legs}
                # kill -9, as far as the others can tell: no more heartbeats, no answers, its ports closed
                tasks.pop(first).cancel()
                workers[first]._loop = None
                for receiver in workers[first].service.calls[call_id].receivers.values():
                    receiver.close()
                await until(lambda: any(isinstance(e, CallMoved) for e in app.bus.published), what="moved")
                [moved] = [e for e in app.bus.published if isinstance(e, CallMoved)]
                assert (moved.call_id, moved.from_worker, moved.to_worker) == (call_id, first, other)
                await until(lambda: received(workers[other], call_id) > 50, what="RTP at the new worker")
                listing = await tap._client.get("/channels")
                channels = {c["id"] for c in listing.json()}
                assert not old_externals & channels, "the old externalMedia channels were deleted"
                # What a standby telephony process would find of these taps on the switch: the same.
                found = await tap.find(call_id)
                mine = coordinator.calls[call_id].handles
                assert sorted(vars(h).items() for h in found.legs) == sorted(
                    vars(h).items() for h in mine.legs
                )
                assert await asyncio.wait_for(caller.wait(), 60) == 0
                await until(
                    lambda: any(isinstance(e, CallTranscriptClosed) for e in app.bus.published),
                    within=30,
                    what="the transcript closed with the call",
                )
                leftover = switch.rx("core show channels count")
        finally:
            stop.set()
            await asyncio.gather(watch, *tasks.values(), return_exceptions=True)
            await tap.aclose()
            app.close()
    assert leftover.strip().startswith("0 active channels"), leftover
    assert not workers[other].service.calls  # the new worker closed the call with the hangup
