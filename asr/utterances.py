"""The recognizer for a language without a streaming model here: VAD endpointing, Whisper for the words.

``VadWhisperRecognizer`` is a ``Recognizer`` (asr.engine), so a call's transcription (asr.session), the file
transcriber and the microphone listener use it as they use Vosk. Audio is 16 kHz 16-bit little-endian PCM
(Asterisk's slin16, or a file resampled by soxr). Silero VAD decides per 32 ms window whether there is
speech (asr.vad); asr.endpoint draws the utterance's bounds; when one ends, the whole utterance with
``margin_ms`` of audio on both sides goes to the finals engine (Whisper base, beam 5). Everything happens
on the decode thread that called ``accept`` — never on the event loop.

While an utterance is open a partial is shown: either a greedy Whisper re-decode of the audio so far, at
most once per ``partial_every_ms`` of new audio and only when the process-wide ``PartialBudget`` has a free
slot (CPU to spare), or else one ``PLACEHOLDER`` line. A partial is never text of another language.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from asr.endpoint import Endpointer, EndpointOptions, Utterance
from asr.engine import BYTES_PER_MS, Recognizer
from asr.events import Recognized
from asr.vad import WINDOW, VoiceDetector

PLACEHOLDER = "正在说话…"
MAX_KEPT_MS = 30_000
PartialMode = Literal["decode", "placeholder"]


class Transcriber(Protocol):
    engine: str

    def transcribe(self, pcm16le: bytes, *, beam_size: int | None = None) -> str:
        """16 kHz 16-bit little-endian PCM of one utterance → its text ('' for none)."""
        ...


class PartialBudget:
    """How many greedy partial decodes may run at once in this process (the rest show the placeholder)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._sem = threading.BoundedSemaphore(max(1, slots))

    def try_acquire(self) -> bool:
        return self.slots > 0 and self._sem.acquire(blocking=False)

    def release(self) -> None:
        self._sem.release()


@dataclass(frozen=True)
class UtteranceOptions:
    # Audio given to Whisper before the start and after the end (the trailing part at most the endpointing's
    # min_silence_ms). 300 ms cost characters on two of the three clips (Whisper base is fragile when speech
    # starts at once), 700 ms did not: 2/51 errors clean and μ-law, as for the whole clips (docs/benchmarks.md).
    margin_ms: int = 700
    partials: PartialMode = "decode"
    partial_every_ms: int = 1000  # new audio between two partial decodes of one utterance
    partial_min_ms: int = 800  # no partial decode of less speech than this
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)


class VadWhisperRecognizer:
    gate_silence = False  # the VAD sees every sample: asr.gate must not hold quiet audio back

    def __init__(
        self,
        vad: VoiceDetector,
        finals: Transcriber,
        *,
        options: UtteranceOptions | None = None,
        budget: PartialBudget | None = None,
    ) -> None:
        self.options = options or UtteranceOptions()
        self.engine = finals.engine
        self._vad = vad
        self._finals = finals
        self._budget = budget or PartialBudget(1)
        self._endpointer = Endpointer(self.options.endpoint)
        self._audio = bytearray()  # kept audio, from _audio_start_ms on
        self._audio_start_ms = 0
        self._vad_ms = 0  # audio the VAD has judged (whole windows)
        self._received_ms = 0
        self._partial_at_ms = 0  # utterance length at the last partial decode
        self._shown = ""  # the open utterance's last partial

    # -- Recognizer ----------------------------------------------------------------------------------
    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        pcm16le = pcm16le[: len(pcm16le) - len(pcm16le) % 2]
        self._audio += pcm16le
        self._received_ms = self._audio_start_ms + len(self._audio) // BYTES_PER_MS
        events: list[Recognized] = []
        window_bytes = WINDOW * 2
        first = (self._vad_ms - self._audio_start_ms) * BYTES_PER_MS
        whole = (len(self._audio) - first) // window_bytes * window_bytes
        if whole:
            samples = np.frombuffer(bytes(self._audio[first : first + whole]), dtype="<i2")
            probabilities = self._vad.probabilities(samples.astype(np.float32) / 32768.0)
            self._vad_ms += whole // BYTES_PER_MS
            for p in probabilities:
                ended = self._endpointer.push(float(p))
                if ended is not None:
                    events += self._final(ended)
        if not self._endpointer.open:
            self._trim(self._vad_ms - self.options.margin_ms)
        elif partial:
            events += self._partial()
        return events

    def finish(self) -> list[Recognized]:
        ended = self._endpointer.flush()
        events = self._final(ended) if ended is not None else []
        self._trim(self._received_ms)
        return events

    def idle(self) -> bool:
        return not self._endpointer.open

    def skip(self, ms: int) -> None:
        # Audio that passed undecoded is silence to the VAD (so times stay those of the stream).
        self.accept(bytes(ms * BYTES_PER_MS), partial=False)

    # -- internals -----------------------------------------------------------------------------------
    def _slice(self, start_ms: int, end_ms: int) -> bytes:
        a = max(0, (start_ms - self._audio_start_ms) * BYTES_PER_MS)
        b = max(0, (end_ms - self._audio_start_ms) * BYTES_PER_MS)
        return bytes(self._audio[a:b])

    def _trim(self, keep_from_ms: int) -> None:
        drop = keep_from_ms - self._audio_start_ms
        if drop > 0:
            del self._audio[: drop * BYTES_PER_MS]
            self._audio_start_ms = keep_from_ms

    def _final(self, utterance: Utterance) -> list[Recognized]:
        margin = self.options.margin_ms
        # The trailing margin stops at the audio judged when the end was decided, never at what the batch
        # being decoded happens to hold beyond it: the final must not depend on how audio was chunked.
        audio = self._slice(utterance.start_ms - margin, min(utterance.end_ms + margin, utterance.seen_ms))
        self._trim(utterance.end_ms)
        self._partial_at_ms, self._shown = 0, ""
        text = self._finals.transcribe(audio).strip()
        return [Recognized("final", text, utterance.start_ms, utterance.end_ms)] if text else []

    def _partial(self) -> list[Recognized]:
        start = self._endpointer.start_ms
        assert start is not None
        spoken = self._vad_ms - start
        opts = self.options
        if self._endpointer.voiced_until_ms - start < opts.endpoint.min_speech_ms:  # a click shows nothing
            return []
        due = spoken >= opts.partial_min_ms and spoken - self._partial_at_ms >= opts.partial_every_ms
        if opts.partials == "decode" and due and self._budget.try_acquire():
            try:
                self._partial_at_ms = spoken
                text = self._finals.transcribe(
                    self._slice(start - opts.margin_ms, self._vad_ms), beam_size=1
                ).strip()
            finally:
                self._budget.release()
            if text and text != self._shown:
                self._shown = text
                return [Recognized("partial", text, start, self._vad_ms)]
            return []
        if not self._shown:
            self._shown = PLACEHOLDER
            return [Recognized("partial", PLACEHOLDER, start, self._vad_ms)]
        return []


class WhisperFinals:
    """A streaming recognizer (Vosk) whose finals are re-decoded by Whisper: the finals engine of a profile
    whose streaming model is installed. The utterance with ``margin_ms`` each side is decoded on the same
    decode thread; Vosk's text is kept when Whisper hears nothing."""

    def __init__(self, streaming: Recognizer, finals: Transcriber, *, margin_ms: int = 300) -> None:
        self.streaming = streaming
        self.engine = finals.engine
        self._finals = finals
        self._margin = margin_ms
        self._audio = bytearray()
        self._audio_start_ms = 0

    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        self._audio += pcm16le
        excess = len(self._audio) - MAX_KEPT_MS * BYTES_PER_MS
        if excess > 0:  # no final for 30 s: keep only Whisper's window
            del self._audio[:excess]
            self._audio_start_ms += excess // BYTES_PER_MS
        return self._refine(self.streaming.accept(pcm16le, partial))

    def finish(self) -> list[Recognized]:
        return self._refine(self.streaming.finish())

    def idle(self) -> bool:
        return self.streaming.idle()

    def skip(self, ms: int) -> None:
        self.streaming.skip(ms)
        self._audio_start_ms += len(self._audio) // BYTES_PER_MS + ms
        self._audio.clear()

    def _refine(self, events: list[Recognized]) -> list[Recognized]:
        out = []
        for e in events:
            if e.kind == "final":
                a = max(0, (e.start_ms - self._margin - self._audio_start_ms) * BYTES_PER_MS)
                b = max(0, (e.end_ms + self._margin - self._audio_start_ms) * BYTES_PER_MS)
                text = self._finals.transcribe(bytes(self._audio[a:b])).strip()
                keep = max(0, (e.end_ms - self._audio_start_ms) * BYTES_PER_MS)
                del self._audio[:keep]
                self._audio_start_ms += keep // BYTES_PER_MS
                e = Recognized("final", text or e.text, e.start_ms, e.end_ms)
            out.append(e)
        return out
