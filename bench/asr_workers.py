"""ASR workers on the NATS broker: failover after `kill -9`, capacity of one worker against two, and the
memory of a web process while calls are transcribed elsewhere.

Workers are separate processes (`python -m asr.testing`: the worker of `hotline run asr` on the
FakeRecognizer, so what is measured is the hand-off path: RTP intake, sessions, events over the broker,
not recognition). This process is the coordinator (as in the telephony role) with a fake ARI tap, and plays
each call's RTP in real time (one 20 ms packet per leg) to wherever the tap points it, as Asterisk would.

    flock /tmp/hotline-heavy.lock .venv/bin/python -m bench.asr_workers failover [--calls 4] [--rounds 5]
    flock /tmp/hotline-heavy.lock .venv/bin/python -m bench.asr_workers capacity [--calls 20,40,80]
    flock /tmp/hotline-heavy.lock .venv/bin/python -m bench.asr_workers capacity --real [--calls 2,4,6]
    flock /tmp/hotline-heavy.lock .venv/bin/python -m bench.asr_workers web-rss

failover: calls on worker A, then `kill -9` A. Reported per call: kill → moved (the coordinator saw the
heartbeats stop and the new worker's ports are the RTP target), kill → the call's segments flow again
(first segment from the new worker), and the audio lost (packets the switch sent to A's dead ports).
capacity: N calls, each a caller leg saying a 400 ms utterance every second; the time from an utterance's
last voiced packet to its final at the coordinator, less the recognizer's 300 ms endpoint (p50/p95), with
one worker pinned to one core against two workers pinned to a core each. ``--real``: `hotline run asr`
workers with the recognizer their settings name, both legs playing a real Mandarin clip; reported is the
decode jobs' wait for a thread from the workers' heartbeats (over 100 ms: slower than real time, the worker
sheds new calls), so capacity is the most calls at which the wait stays low.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from asr.coordinator import TapCoordinator
from asr.events import Leg, TranscriptSegment
from asr.rtp import PACKET_MS, build_rtp, swap16
from asr.testing import SILENCE_20MS, SPEECH_20MS, FakeTap
from asr.transcripts import InMemorySegmentStore
from asr.worker_events import CallMoved, WorkerHeartbeat
from kernel.broker import NatsBridge
from kernel.bus import EventBus

REPO = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("HOTLINE_TEST_BROKER_URL", "nats://127.0.0.1:4222")
PATTERN = [True] * 20 + [False] * 30  # 400 ms of voice, 600 ms of silence, again and again


@contextlib.contextmanager
def workers(
    specs: list[tuple[str, int, str | None]], *, real: bool = False
) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """(worker id, capacity, cpu list for taskset or None) → running worker processes (``real``:
    `hotline run asr` with the recognizer its settings name; else the FakeRecognizer worker)."""
    procs: dict[str, subprocess.Popen[str]] = {}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        for worker_id, capacity, cpus in specs:
            pin = ["taskset", "-c", cpus] if cpus else []
            if real:
                data = Path(tempfile.mkdtemp(prefix="asrw-worker-"))
                real_env = {
                    **env,
                    "HOTLINE_BROKER_URL": BROKER,
                    "HOTLINE_ASR_WORKER_ID": worker_id,
                    "HOTLINE_ASR_WORKER_CAPACITY": str(capacity),
                    "HOTLINE_DATA_DIR": os.environ.get("HOTLINE_DATA_DIR", str(data)),
                    "HF_HUB_OFFLINE": "1",
                }
                cmd = [*pin, sys.executable, "-m", "hotline.cli", "run", "asr"]
                with (data / "asr.log").open("w") as log:
                    procs[worker_id] = subprocess.Popen(cmd, stdout=log, stderr=log, env=real_env, cwd=REPO)
                continue
            cmd = [*pin, sys.executable, "-m", "asr.testing", BROKER, worker_id, str(capacity)]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True, cwd=REPO)
            assert proc.stdout is not None and proc.stdout.readline().startswith("ready")
            procs[worker_id] = proc
        yield procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@dataclass
class Call:
    call_id: str
    legs: tuple[Leg, ...]
    n: int = 0  # packets played
    speech_ends: list[float] = field(default_factory=list)  # when each utterance's last voice was sent
    finals: list[float] = field(default_factory=list)  # when each caller final arrived here
    moved_at: float | None = None
    flowing_at: float | None = None
    dead_packets: int = 0  # sent to a worker that was killed


class Rig:
    def __init__(self, legs: tuple[Leg, ...]) -> None:
        self.bus = EventBus()
        self.tap = FakeTap()
        self.legs = legs
        self.calls: dict[str, Call] = {}
        self.dead_hosts: set[tuple[str, int]] = set()
        self.clip: list[bytes] | None = None  # 20 ms big-endian frames of a real recording, looped
        self.moved: list[CallMoved] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.bus.subscribe(TranscriptSegment, self._segment)
        self.bus.subscribe(CallMoved, self._moved)
        self.waits: list[tuple[float, str, int]] = []  # (when, worker, decode wait ms) from heartbeats
        self.segments = 0
        self.bus.subscribe(
            WorkerHeartbeat, lambda b: self.waits.append((time.monotonic(), b.worker_id, b.decode_wait_ms))
        )

    async def start(self) -> None:
        self.bridge = NatsBridge(self.bus, BROKER, name="bench-asr-coordinator")
        await self.bridge.start()
        loop = asyncio.get_running_loop()
        self.coordinator = TapCoordinator(
            self.bus, self.tap, loop, store=InMemorySegmentStore(), legs=self.legs
        ).install()
        self.stop = asyncio.Event()
        self.watch = asyncio.create_task(self.coordinator.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await self.watch
        await self.bridge.stop()
        self.sock.close()

    def _segment(self, s: TranscriptSegment) -> None:
        now = time.monotonic()
        self.segments += 1
        call = self.calls.get(s.call_id)
        if call is None:
            return
        if call.moved_at is not None and call.flowing_at is None:
            call.flowing_at = now
        if s.is_final and s.leg == "caller":
            call.finals.append(now)

    def _moved(self, event: CallMoved) -> None:
        self.moved.append(event)
        call = self.calls.get(event.call_id)
        if call is not None:
            call.moved_at = time.monotonic()

    async def play(self, seconds: float) -> None:
        """Every call's legs, one packet per 20 ms, to the tap's current target."""
        voice = swap16(SPEECH_20MS)
        quiet = swap16(SILENCE_20MS)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for tick in range(int(seconds * 1000 / PACKET_MS)):
            for call in self.calls.values():
                target = self.tap.targets.get(call.call_id)
                if target is None:
                    continue
                voiced = PATTERN[call.n % len(PATTERN)]
                if not voiced and PATTERN[(call.n - 1) % len(PATTERN)]:
                    call.speech_ends.append(time.monotonic())
                frame = voice if voiced else quiet
                if self.clip:
                    frame = self.clip[call.n % len(self.clip)]
                for i, leg in enumerate(call.legs):
                    packet = build_rtp(frame, sequence=call.n, timestamp=call.n * 320, ssrc=i)
                    addr = (target.host, target.ports[leg])
                    self.sock.sendto(packet, addr)
                    if addr in self.dead_hosts and leg == "caller":
                        call.dead_packets += 1
                call.n += 1
            await asyncio.sleep(max(0.0, start + (tick + 1) * PACKET_MS / 1000 - loop.time()))

    async def wait_workers(self, ids: set[str], within: float = 120.0) -> None:
        for _ in range(int(within / 0.05)):
            if ids <= set(self.coordinator.placement.workers):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"workers {ids} did not announce themselves")

    async def open_calls(self, count: int, prefix: str) -> None:
        for n in range(count):
            call_id = f"{prefix}-{n}"
            self.calls[call_id] = Call(call_id, self.legs)
            assert await self.coordinator.call_answered(call_id), f"no worker took {call_id}"

    async def end_calls(self) -> None:
        await asyncio.gather(*(self.coordinator.call_ended(c) for c in self.calls))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def failover(calls: int, rounds: int) -> None:
    moved_ms: list[float] = []
    flowing_ms: list[float] = []
    lost_ms: list[float] = []
    gap_ms: list[float] = []
    for r in range(rounds):
        tag = f"fo{os.getpid()}-{r}"
        with workers([(f"{tag}-a", calls + 4, None), (f"{tag}-b", calls, None)]) as procs:
            rig = Rig(("caller", "agent"))
            await rig.start()
            await rig.wait_workers(set(procs))
            await rig.open_calls(calls, tag)
            assert set(rig.coordinator.placement.owner.values()) == {f"{tag}-a"}
            await rig.play(3.0)
            a = procs[f"{tag}-a"]
            for call in rig.calls.values():
                target = rig.tap.targets[call.call_id]
                rig.dead_hosts |= {(target.host, p) for p in target.ports.values()}
            killed = time.monotonic()
            os.kill(a.pid, signal.SIGKILL)
            await rig.play(4.0)
            for call in rig.calls.values():
                assert call.moved_at and call.flowing_at, f"{call.call_id} did not move"
                moved_ms.append((call.moved_at - killed) * 1000)
                flowing_ms.append((call.flowing_at - killed) * 1000)
                lost_ms.append(call.dead_packets * PACKET_MS)
            gap_ms += [m.gap_ms for m in rig.moved]
            await rig.end_calls()
            await rig.close()
    print(f"failover: {rounds} kills of a worker holding {calls} calls (heartbeat 0.5 s, lapse 1.5 s)")
    for name, values in (
        ("kill → call moved (ms)", moved_ms),
        ("kill → segments flow again (ms)", flowing_ms),
        ("audio sent to the dead worker (ms)", lost_ms),
        ("last heartbeat → moved (ms)", gap_ms),
    ):
        print(
            f"  {name:38s} p50 {pct(values, 0.5):6.0f}  p95 {pct(values, 0.95):6.0f}  max {max(values):6.0f}"
        )


async def capacity(counts: list[int], seconds: float, *, real: bool = False) -> None:
    for layout in ("one", "two"):
        for count in counts:
            tag = f"cap{os.getpid()}-{layout}-{count}"
            specs = [(f"{tag}-a", count, "0")]
            if layout == "two":
                specs = [(f"{tag}-a", count, "0"), (f"{tag}-b", count, "1")]
            with workers(specs, real=real) as procs:
                rig = Rig(("caller", "agent") if real else ("caller",))
                if real:
                    from bench.asr_web_rss import clip_frames

                    rig.clip = clip_frames()
                await rig.start()
                await rig.wait_workers(set(procs))
                await rig.open_calls(count, tag)
                cpu0 = {w: _cpu(p.pid) for w, p in procs.items()}
                started = time.monotonic()
                await rig.play(seconds)
                cpu = sum(_cpu(p.pid) - cpu0[w] for w, p in procs.items())
                await asyncio.sleep(1.0)
                lat: list[float] = []
                for call in rig.calls.values():
                    for end, final in zip(call.speech_ends, call.finals, strict=False):
                        lat.append((final - end - 0.3) * 1000)
                heard = sum(len(c.finals) for c in rig.calls.values())
                said = sum(len(c.speech_ends) for c in rig.calls.values())
                late = [w for at, _, w in rig.waits if at > started + seconds / 2]
                segments = rig.segments
                await rig.end_calls()
                await rig.close()
            shown = (
                f"segments {segments}, decode wait p50 {pct(late, 0.5):4.0f} ms max {max(late, default=0):5.0f} ms"
                if real
                else f"finals {heard}/{said}, speech end → final p50 {pct(lat, 0.5):5.0f} ms "
                f"p95 {pct(lat, 0.95):5.0f} ms"
            )
            print(
                f"capacity {layout} worker(s), {count:3d} calls: {shown}, "
                f"worker CPU {cpu / seconds * 100:4.0f} % of a core",
                flush=True,
            )


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["failover", "capacity", "web-rss"])
    parser.add_argument("--calls", default="")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--real", action="store_true", help="capacity with `hotline run asr` workers")
    args = parser.parse_args()
    print(
        f"{platform.node()} · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    if args.what == "failover":
        asyncio.run(failover(int(args.calls or 4), args.rounds))
    elif args.what == "capacity":
        counts = [int(c) for c in (args.calls or "20,40,80").split(",")]
        asyncio.run(capacity(counts, args.seconds, real=args.real))
    else:
        from bench.asr_web_rss import web_rss

        asyncio.run(web_rss())


if __name__ == "__main__":
    main()
