"""A call's live transcription: one recognizer per leg, fed from RTP, publishing TranscriptSegments.

Audio arrives on the event loop (``feed``, one 20 ms RTP packet at a time) and is gathered into batches of
``MIN_BATCH_MS``; a per-leg task hands each batch (several, joined, when a backlog formed) to the decode
threads — a KaldiRecognizer is fed by one thread at a time, legs and calls run in parallel. Gathering
matters: every decode call costs a thread hand-off, Kaldi's per-call work and a partial result, so 20 ms
calls spent CPU that 100 ms calls do not (measured in bench/asr_live.py). A leg that is behind (more audio
already queued behind the batch it decodes) asks for a partial only once per ``BEHIND_PARTIAL_EVERY_MS`` of
audio: each would be replaced at once by the next. Partials are published as they come and not stored; a final (Kaldi endpointing
says the utterance ended) is redacted, optionally re-decoded by the second pass (its text replaces
Vosk's), stored and published. Times are milliseconds since the tap started.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from asr.engine import BYTES_PER_MS, Recognizer
from asr.events import CallTranscriptClosed, Leg, Recognized, TranscriptSegment
from asr.gate import SilenceGate
from asr.pool import DecodePool
from asr.redact import redact
from asr.transcripts import SegmentStore
from kernel.bus import EventBus
from kernel.clock import Clock

log = logging.getLogger(__name__)

MIN_BATCH_MS = 100  # audio gathered on the loop before a decode call (five RTP packets)
FLUSH_AFTER_S = 0.25  # a short batch waits no longer than this (RTP paused: hold, a lost stream)
BEHIND_PARTIAL_EVERY_MS = 500  # a leg that is behind still shows a partial per this much audio
MAX_BATCH_BYTES = 32 * BYTES_PER_MS * 20  # at most 640 ms of backlog per decode call
SECOND_PASS_MARGIN_MS = 300  # audio kept before the first word Vosk placed (its word starts run late)
MAX_UTTERANCE_MS = 30_000  # Whisper's window; longer utterances keep Vosk's text
MAX_CLOCK_MARKS = 3000  # receive-time marks kept per leg (one per decode batch, ≥ 60 s of audio)


class SecondPass(Protocol):
    engine: str

    def transcribe(self, pcm16le: bytes) -> str: ...


@dataclass(frozen=True)
class Timing:
    """Measurements for benches: ``partial_lag`` (audio received → partial published), ``endpoint``
    (Vosk final → segment published, i.e. the second pass), ``speech_end`` (last word's audio received →
    segment published)."""

    kind: str
    leg: Leg
    seconds: float


@dataclass
class _Leg:
    name: Leg
    recognizer: Recognizer  # the pooled recognizer (released after the call)
    decoder: Recognizer  # what audio is fed to: the recognizer, or the silence gate in front of it
    queue: asyncio.Queue[tuple[bytes, float] | None] = field(default_factory=asyncio.Queue)
    received_ms: int = 0
    audio: bytearray = field(default_factory=bytearray)
    audio_start_ms: int = 0
    recv_clock: list[tuple[int, float]] = field(default_factory=list)  # (stream ms, monotonic) marks
    seq: int = 0
    task: asyncio.Task[None] | None = None
    partial_at_ms: int = 0  # stream time of the last partial asked for
    pending: bytearray = field(default_factory=bytearray)  # audio not yet handed to the queue
    pending_at: float = 0.0  # when its last packet arrived
    flush_timer: asyncio.TimerHandle | None = None


class CallTranscription:
    def __init__(
        self,
        call_id: str,
        *,
        recognizer_factory: Callable[[], Recognizer],
        decode: DecodePool,
        bus: EventBus,
        store: SegmentStore,
        clock: Clock,
        legs: tuple[Leg, ...] = ("caller", "agent"),
        second_pass: SecondPass | None = None,
        second_pass_decode: DecodePool | None = None,
        second_pass_legs: tuple[Leg, ...] = ("caller", "agent"),
        on_timing: Callable[[Timing], None] | None = None,
        release: Callable[[Recognizer], None] | None = None,
        silence_gate: bool = True,
    ) -> None:
        self.call_id = call_id
        self._release = release
        self._decode = decode
        self._bus = bus
        self._store = store
        self._clock = clock
        self._second_pass = second_pass
        self._second_decode = second_pass_decode or decode
        self._second_legs = second_pass_legs
        self._on_timing = on_timing
        self._legs = {}
        for name in legs:
            recognizer = recognizer_factory()
            # A recognizer that endpoints with its own VAD (gate_silence = False) must see every sample.
            gated = silence_gate and getattr(recognizer, "gate_silence", True)
            decoder = SilenceGate(recognizer) if gated else recognizer
            self._legs[name] = _Leg(name, recognizer, decoder)
        self._pending: set[asyncio.Task[None]] = set()
        self._finals: list[TranscriptSegment] = []
        self._closed = False

    def start(self) -> None:
        for leg in self._legs.values():
            leg.task = asyncio.create_task(self._run(leg), name=f"asr-{self.call_id}-{leg.name}")

    def feed(self, leg: Leg, pcm16le: bytes) -> None:
        """Audio for one leg (16 kHz 16-bit little-endian); called on the event loop, never blocks."""
        if self._closed:
            return
        state = self._legs[leg]
        if not state.pending:
            state.flush_timer = asyncio.get_running_loop().call_later(FLUSH_AFTER_S, self._flush, state)
        state.pending += pcm16le
        state.pending_at = time.monotonic()
        if len(state.pending) >= MIN_BATCH_MS * BYTES_PER_MS:
            self._flush(state)

    def _flush(self, leg: _Leg) -> None:
        if leg.flush_timer is not None:
            leg.flush_timer.cancel()
            leg.flush_timer = None
        if leg.pending:
            leg.queue.put_nowait((bytes(leg.pending), leg.pending_at))
            leg.pending.clear()

    def skipped_ms(self) -> int:
        """Audio the silence gates held back from the decoder, all legs (for the benches)."""
        return sum(
            leg.decoder.skipped_ms for leg in self._legs.values() if isinstance(leg.decoder, SilenceGate)
        )

    def sink(self, leg: Leg) -> Callable[[bytes], None]:
        return lambda pcm: self.feed(leg, pcm)

    async def close(self) -> CallTranscriptClosed:
        """The call ended: flush each leg's last utterance, wait for second passes, publish the transcript."""
        self._closed = True
        for leg in self._legs.values():
            self._flush(leg)
            leg.queue.put_nowait(None)
        await asyncio.gather(*(leg.task for leg in self._legs.values() if leg.task))
        while self._pending:  # second passes, then the writes they start
            await asyncio.gather(*list(self._pending))
        if self._release is not None:
            for leg in self._legs.values():
                self._release(leg.recognizer)
        segments = tuple(sorted(self._finals, key=lambda s: (s.start_ms, s.leg)))
        closed = CallTranscriptClosed(self.call_id, segments)
        self._bus.publish(closed)
        return closed

    async def _run(self, leg: _Leg) -> None:
        while True:
            item = await leg.queue.get()
            if item is None:
                break
            chunks, received_at = [item[0]], item[1]
            size = len(item[0])
            stop = False
            while size < MAX_BATCH_BYTES and not leg.queue.empty():
                more = leg.queue.get_nowait()
                if more is None:
                    stop = True
                    break
                chunks.append(more[0])
                size += len(more[0])
                received_at = more[1]
            pcm = b"".join(chunks)
            self._keep_audio(leg, pcm, received_at)
            want_partial = leg.queue.empty() or leg.received_ms - leg.partial_at_ms >= BEHIND_PARTIAL_EVERY_MS
            if want_partial:
                leg.partial_at_ms = leg.received_ms
            try:
                events = await self._decode.run(leg.decoder.accept, pcm, want_partial)
            except Exception:
                log.exception("recognizer failed on call %s leg %s", self.call_id, leg.name)
                events = []
            for event in events:
                self._emit(leg, event, received_at)
            if stop:
                break
        try:
            last = await self._decode.run(leg.decoder.finish)
        except Exception:
            log.exception("recognizer failed to finish on call %s leg %s", self.call_id, leg.name)
            last = []
        for event in last:
            self._emit(leg, event, time.monotonic())

    def _emit(self, leg: _Leg, event: Recognized, received_at: float) -> None:
        if event.kind == "partial":
            self._publish(leg, event, event.text, leg.recognizer.engine, is_final=False)
            self._timing("partial_lag", leg.name, time.monotonic() - received_at)
            return
        leg.seq += 1
        seq = leg.seq
        speech_end_at = self._wall_time(leg, event.end_ms)
        audio = self._utterance_audio(leg, event)
        if self._second_pass is not None and leg.name in self._second_legs and audio:
            self._track(self._second(leg, event, seq, audio, speech_end_at))
            return
        self._final(leg, event, event.text, leg.recognizer.engine, seq, speech_end_at)

    async def _second(
        self, leg: _Leg, event: Recognized, seq: int, audio: bytes, speech_end_at: float
    ) -> None:
        endpoint_at = time.monotonic()
        assert self._second_pass is not None
        text, engine = event.text, leg.recognizer.engine
        try:
            better = await self._second_decode.run(self._second_pass.transcribe, audio)
            if better.strip():
                text, engine = better.strip(), self._second_pass.engine
        except Exception:
            log.exception("second pass failed on call %s; keeping Vosk's text", self.call_id)
        self._final(leg, event, text, engine, seq, speech_end_at)
        self._timing("endpoint", leg.name, time.monotonic() - endpoint_at)

    def _final(
        self, leg: _Leg, event: Recognized, text: str, engine: str, seq: int, speech_end_at: float
    ) -> None:
        segment = self._publish(leg, event, text, engine, is_final=True, seq=seq)
        self._finals.append(segment)
        self._timing("speech_end", leg.name, time.monotonic() - speech_end_at)
        self._track(asyncio.to_thread(self._save, segment))  # a database write never blocks the loop

    def _save(self, segment: TranscriptSegment) -> None:
        try:
            self._store.save(segment)
        except Exception:
            log.exception("could not store a transcript segment of call %s", self.call_id)

    def _track(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _publish(
        self, leg: _Leg, event: Recognized, text: str, engine: str, *, is_final: bool, seq: int = 0
    ) -> TranscriptSegment:
        segment = TranscriptSegment(
            call_id=self.call_id,
            leg=leg.name,
            start_ms=event.start_ms,
            end_ms=event.end_ms,
            text=text,
            text_redacted=redact(text),
            is_final=is_final,
            engine=engine,
            created_at=self._clock.now(),
            seq=seq,
        )
        self._bus.publish(segment)
        return segment

    def _keep_audio(self, leg: _Leg, pcm: bytes, received_at: float) -> None:
        leg.received_ms += len(pcm) // BYTES_PER_MS
        leg.recv_clock.append((leg.received_ms, received_at))
        if self._second_pass is None:
            leg.audio_start_ms = leg.received_ms
            del leg.recv_clock[:-MAX_CLOCK_MARKS]
            return
        leg.audio += pcm
        excess = len(leg.audio) - MAX_UTTERANCE_MS * BYTES_PER_MS
        if excess > 0:  # a long stretch without a final: keep only Whisper's window
            del leg.audio[:excess]
            leg.audio_start_ms += excess // BYTES_PER_MS
        del leg.recv_clock[:-MAX_CLOCK_MARKS]

    def _utterance_audio(self, leg: _Leg, event: Recognized) -> bytes:
        """This utterance's audio for the second pass (with a margin each side). Audio up to its end is
        dropped; what follows stays, since one decode batch may already hold the next utterance's start."""
        begin = max(
            leg.audio_start_ms, event.start_ms - SECOND_PASS_MARGIN_MS, leg.received_ms - MAX_UTTERANCE_MS
        )
        end = min(leg.received_ms, event.end_ms + SECOND_PASS_MARGIN_MS)
        audio = bytes(
            leg.audio[(begin - leg.audio_start_ms) * BYTES_PER_MS : (end - leg.audio_start_ms) * BYTES_PER_MS]
        )
        keep_from = min(max(leg.audio_start_ms, event.end_ms), leg.received_ms)
        del leg.audio[: (keep_from - leg.audio_start_ms) * BYTES_PER_MS]
        leg.audio_start_ms = keep_from
        return audio

    def _wall_time(self, leg: _Leg, stream_ms: int) -> float:
        """When the audio at ``stream_ms`` had been received (from the per-batch marks)."""
        for mark_ms, at in leg.recv_clock:
            if mark_ms >= stream_ms:
                return at
        return leg.recv_clock[-1][1] if leg.recv_clock else time.monotonic()

    def _timing(self, kind: str, leg: Leg, seconds: float) -> None:
        if self._on_timing is not None:
            self._on_timing(Timing(kind, leg, seconds))
