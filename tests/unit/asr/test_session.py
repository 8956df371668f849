from __future__ import annotations

import asyncio
import threading

import pytest

from asr import session as session_module
from asr.engine import BYTES_PER_MS, FakeRecognizer
from asr.events import CallTranscriptClosed, Recognized, TranscriptSegment
from asr.pool import DecodePool
from asr.session import (
    BEHIND_PARTIAL_EVERY_MS,
    FLUSH_AFTER_S,
    MIN_BATCH_MS,
    CallTranscription,
    Timing,
)
from asr.transcripts import InMemorySegmentStore
from kernel.bus import EventBus
from kernel.clock import FakeClock

SPEECH = b"\x00\x08" * 16 * 20  # 2048: speech level (the silence gate passes it)
SILENCE = bytes(20 * BYTES_PER_MS)


class FakeSecondPass:
    engine = "fake-whisper"

    def __init__(self) -> None:
        self.heard: list[int] = []

    def transcribe(self, pcm16le: bytes) -> str:
        self.heard.append(len(pcm16le) // BYTES_PER_MS)
        return "我的手机13812345678"


async def _run(
    second_pass: FakeSecondPass | None = None,
) -> tuple[EventBus, InMemorySegmentStore, list[Timing]]:
    bus = EventBus(keep_history=True)
    store = InMemorySegmentStore()
    timings: list[Timing] = []
    decode = DecodePool(2)
    session = CallTranscription(
        "call-1",
        recognizer_factory=lambda: FakeRecognizer(["你好", "请问"], words_every_ms=100, endpoint_ms=300),
        decode=decode,
        bus=bus,
        store=store,
        clock=FakeClock(),
        second_pass=second_pass,
        second_pass_legs=("caller",),
        on_timing=timings.append,
    )
    session.start()
    for leg in ("caller", "agent"):
        for _ in range(2):  # two utterances: 400 ms of speech, 600 ms of silence
            for _ in range(20):
                session.feed(leg, SPEECH)
                await asyncio.sleep(0)
            for _ in range(30):
                session.feed(leg, SILENCE)
    for _ in range(10):
        session.feed("caller", SPEECH)
    closed = await session.close()
    decode.shutdown()
    assert isinstance(bus.published[-1], CallTranscriptClosed) and closed.call_id == "call-1"
    return bus, store, timings


async def test_partials_are_pushed_and_finals_stored() -> None:
    bus, store, timings = await _run()
    segments = [e for e in bus.published if isinstance(e, TranscriptSegment)]
    partials = [s for s in segments if not s.is_final]
    finals = [s for s in segments if s.is_final]
    assert partials and all(not s.is_final for s in partials)
    assert len(finals) == 5  # two per leg, plus the caller's unfinished utterance flushed at hangup

    def order(s: TranscriptSegment) -> tuple[str, int]:
        return s.leg, s.seq

    assert sorted(store.segments, key=order) == sorted(finals, key=order)  # only finals are stored
    caller = [s for s in finals if s.leg == "caller"]
    assert [s.seq for s in caller] == [1, 2, 3]
    assert [s.start_ms for s in caller] == [0, 1000, 2000]
    assert all(s.end_ms > s.start_ms for s in finals)
    first_final = segments.index(finals[0])
    assert any(not s.is_final and s.leg == finals[0].leg for s in segments[:first_final])
    assert {t.kind for t in timings} >= {"partial_lag", "speech_end"}


async def test_second_pass_replaces_text_and_is_redacted() -> None:
    second = FakeSecondPass()
    _bus, store, timings = await _run(second)
    finals = sorted(store.segments, key=lambda s: (s.leg, s.seq))
    caller = [s for s in finals if s.leg == "caller"]
    agent = [s for s in finals if s.leg == "agent"]
    assert {s.engine for s in caller} == {"fake-whisper"} and {s.engine for s in agent} == {"fake"}
    assert caller[0].text == "我的手机13812345678"
    assert caller[0].text_redacted == "我的手机138****5678"
    assert len(second.heard) == 3 and all(ms >= 400 for ms in second.heard[:2])
    assert any(t.kind == "endpoint" for t in timings)


class RecordingRecognizer(FakeRecognizer):
    """The fake engine, remembering each decode call's audio length and whether it asked for a partial;
    ``gate`` (when given) holds every decode until the test opens it, so that a backlog forms."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__(["你好"], words_every_ms=100, endpoint_ms=300)
        self.calls: list[tuple[int, bool]] = []
        self.gate = gate

    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        if self.gate is not None:
            self.gate.wait(5)
        self.calls.append((len(pcm16le) // BYTES_PER_MS, partial))
        return super().accept(pcm16le, partial)


def _session(rec: RecordingRecognizer, decode: DecodePool, bus: EventBus) -> CallTranscription:
    return CallTranscription(
        "call-b",
        recognizer_factory=lambda: rec,
        decode=decode,
        bus=bus,
        store=InMemorySegmentStore(),
        clock=FakeClock(),
        legs=("caller",),
    )


async def test_packets_are_gathered_into_100_ms_decode_calls() -> None:
    rec, decode, bus = RecordingRecognizer(), DecodePool(1), EventBus(keep_history=True)
    session = _session(rec, decode, bus)
    session.start()
    for _ in range(50):  # one second of 20 ms packets, as RTP delivers them
        session.feed("caller", SPEECH)
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.1)
    assert sum(ms for ms, _ in rec.calls) == 1000
    assert all(ms >= MIN_BATCH_MS for ms, _ in rec.calls), rec.calls
    await session.close()
    decode.shutdown()
    assert any(isinstance(e, TranscriptSegment) and not e.is_final for e in bus.published)


async def test_a_short_batch_is_decoded_when_the_audio_pauses() -> None:
    rec, decode, bus = RecordingRecognizer(), DecodePool(1), EventBus()
    session = _session(rec, decode, bus)
    session.start()
    session.feed("caller", SPEECH)
    session.feed("caller", SPEECH)
    await asyncio.sleep(FLUSH_AFTER_S + 0.2)
    assert rec.calls == [(40, True)], "40 ms waited for the flush timer, not for more packets"
    await session.close()
    decode.shutdown()


async def test_a_leg_that_is_behind_skips_partials_but_not_audio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "MAX_BATCH_BYTES", MIN_BATCH_MS * BYTES_PER_MS)  # one batch a call
    gate = threading.Event()
    rec, decode, bus = RecordingRecognizer(gate), DecodePool(1), EventBus()
    session = _session(rec, decode, bus)
    session.start()
    for _ in range(150):  # 3 s of audio arrives while the first decode call is held
        session.feed("caller", SPEECH)
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    gate.set()
    await session.close()
    decode.shutdown()
    assert sum(ms for ms, _ in rec.calls) == 3000, "every packet was decoded"
    asked = [ms for ms, partial in rec.calls if partial]
    skipped = [ms for ms, partial in rec.calls if not partial]
    assert skipped, rec.calls
    assert len(asked) <= 3000 // BEHIND_PARTIAL_EVERY_MS + 2, rec.calls
