"""Stand-ins for tests and benches of the ASR workers: a worker on the FakeRecognizer, a tap that records
where each call's audio goes, and a player that sends RTP there the way Asterisk's externalMedia does."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

from asr.engine import BYTES_PER_MS, FakeRecognizer
from asr.events import Leg
from asr.pool import DecodePool
from asr.rtp import PACKET_MS, slin16_packets
from asr.service import NullSegmentStore, TranscriptionService
from asr.worker import AsrWorker
from kernel.bus import EventBus
from kernel.clock import SystemClock

SPEECH_20MS = b"\x00\x08" * 16 * PACKET_MS  # a level the FakeRecognizer (and the silence gate) hear as voice
SILENCE_20MS = bytes(PACKET_MS * BYTES_PER_MS)


def fake_worker(
    bus: EventBus, worker_id: str, *, capacity: int = 4, heartbeat_s: float = 0.1, threads: int = 2
) -> AsrWorker:
    """A worker whose recognizer says one word per 100 ms of voice and ends an utterance after 300 ms of
    silence."""
    service = TranscriptionService(
        recognizer_factory=lambda: FakeRecognizer(
            ["你好", "我要", "反映"], words_every_ms=100, endpoint_ms=300
        ),
        decode=DecodePool(threads),
        bus=bus,
        store=NullSegmentStore(),
        clock=SystemClock(),
        silence_gate=False,
        announce_closed=False,
    )
    return AsrWorker(service, bus, worker_id=worker_id, capacity=capacity, heartbeat_s=heartbeat_s).install()


@dataclass
class Target:
    host: str
    ports: dict[Leg, int]
    epoch: int = 0


@dataclass
class FakeTap:
    """Records each call's current RTP target, as the ARI externalMedia channels would point."""

    targets: dict[str, Target] = field(default_factory=dict)
    repointed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    async def tap(self, channel_id: str, ports: dict[Leg, int], host: str | None = None) -> Any:
        self.targets[channel_id] = Target(host or "127.0.0.1", dict(ports))
        return channel_id

    async def repoint(self, handles: Any, ports: dict[Leg, int], host: str) -> None:
        old = self.targets[handles]
        self.targets[handles] = Target(host, dict(ports), old.epoch + 1)
        self.repointed.append(handles)

    async def untap(self, handles: Any) -> None:
        self.targets.pop(handles, None)
        self.removed.append(handles)

    async def find(self, channel_id: str) -> Any:
        return channel_id

    async def aclose(self) -> None:
        return None


def utterance(speech_ms: int = 400, silence_ms: int = 600) -> bytes:
    """Little-endian PCM: voice then silence (one final from the FakeRecognizer)."""
    return SPEECH_20MS * (speech_ms // PACKET_MS) + SILENCE_20MS * (silence_ms // PACKET_MS)


class RtpPlayer:
    """Plays a call's legs in real time (one packet per 20 ms) to wherever the tap points them now."""

    def __init__(self, tap: FakeTap, call_id: str) -> None:
        self.tap = tap
        self.call_id = call_id
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sent = 0

    async def play(self, pcm16le: bytes, legs: tuple[Leg, ...] = ("caller", "agent")) -> None:
        packets = {leg: list(slin16_packets(pcm16le, ssrc=0x100 + i)) for i, leg in enumerate(legs)}
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n in range(len(packets[legs[0]])):
            target = self.tap.targets.get(self.call_id)
            if target is not None:
                for leg in legs:
                    if leg in target.ports:
                        self.sock.sendto(packets[leg][n], (target.host, target.ports[leg]))
                self.sent += 1
            await asyncio.sleep(max(0.0, start + (n + 1) * PACKET_MS / 1000 - loop.time()))

    def close(self) -> None:
        self.sock.close()


async def serve_fake_worker(
    url: str, worker_id: str, capacity: int, threads: int = 2, namespace: str = "hotline"
) -> None:
    """A worker process on the broker with the FakeRecognizer, until SIGTERM (or ``kill -9``)."""
    import signal

    from kernel.broker import NatsBridge

    bus = EventBus()
    bridge = NatsBridge(bus, url, name=f"asr-fake-{worker_id}", namespace=namespace)
    await bridge.start()
    worker = fake_worker(bus, worker_id, capacity=capacity, heartbeat_s=0.5, threads=threads)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await worker.run(stop)
    await bridge.stop()


def main() -> None:
    """``python -m asr.testing NATS_URL WORKER_ID [CAPACITY]``; the broker namespace is
    ``HOTLINE_BROKER_NAMESPACE`` (default ``hotline``), so a test's workers meet only its coordinator."""
    import os
    import sys

    url, worker_id = sys.argv[1], sys.argv[2]
    capacity = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    namespace = os.environ.get("HOTLINE_BROKER_NAMESPACE", "hotline")
    asyncio.run(serve_fake_worker(url, worker_id, capacity, namespace=namespace))


if __name__ == "__main__":
    main()
