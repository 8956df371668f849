from __future__ import annotations

import asyncio

from asr.engine import BYTES_PER_MS, FakeRecognizer
from asr.events import CallTranscriptClosed, TranscriptSegment
from asr.pool import DecodePool
from asr.session import CallTranscription, Timing
from asr.transcripts import InMemorySegmentStore
from hotline.bus import EventBus
from hotline.clock import FakeClock

SPEECH = b"\x10\x00" * 16 * 20
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
