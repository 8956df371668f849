"""The speech-recognition port and its adapters.

A ``Recognizer`` takes 16 kHz 16-bit little-endian mono PCM in any chunk size and says what it heard:
``partial`` events while an utterance goes on, one ``final`` when Kaldi's endpointing decides the utterance
ended (trailing silence per the model's conf/model.conf, 0.5–2 s). ``finish()`` flushes the last utterance.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from asr.events import Recognized

SAMPLE_RATE = 16000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000  # 32 bytes of 16-bit mono PCM per millisecond
FEED_MS = 100


class Recognizer(Protocol):
    engine: str

    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        """Decode the audio; ``partial=False``: finals only (the caller is behind and skips partials)."""
        ...

    def finish(self) -> list[Recognized]: ...

    def idle(self) -> bool:
        """No words heard since the last final (nothing would be lost by not feeding silence now)."""
        ...

    def skip(self, ms: int) -> None:
        """``ms`` of the stream pass without being decoded (silence held back by asr.gate)."""
        ...


class VoskRecognizer:
    """One Kaldi stream on a shared ``vosk.Model`` (the model is read-only and safe to share across threads;
    one KaldiRecognizer must only be fed by one thread at a time)."""

    engine = "vosk"

    def __init__(self, model: Any, *, sample_rate: int = SAMPLE_RATE, partial_words: bool = False) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(model, sample_rate)
        # Word times give each final its start/end. Word times on partials would give partials an exact
        # start too, but Vosk then builds, word-aligns and MBR-decodes the utterance's lattice on every
        # PartialResult call instead of reading the best path: measured 4.9x the CPU of plain partials
        # with 20 ms feeds, 2.2x with 100 ms. Partials are shown, never stored, so they start where the
        # utterance started (the previous final's end).
        self._rec.SetWords(True)
        self._rec.SetPartialWords(partial_words)
        self._received_ms = 0
        self._utterance_start_ms = 0
        self._last_partial = ""
        self._offset_ms = 0  # Vosk's word times keep counting across Reset(); ours restart per call

    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        # Kaldi checks its endpoint rules once per AcceptWaveform call, at the end of the chunk; with
        # chunks of half a second it was seen to miss endpoints that 20–200 ms chunks found. A backlog
        # handed over at once is therefore fed in pieces of at most FEED_MS.
        events: list[Recognized] = []
        step = FEED_MS * BYTES_PER_MS
        for i in range(0, len(pcm16le), step):
            piece = pcm16le[i : i + step]
            self._received_ms += len(piece) // BYTES_PER_MS
            if self._rec.AcceptWaveform(piece):
                events += self._final(json.loads(self._rec.Result()))
        if not partial:
            return events
        result = json.loads(self._rec.PartialResult())
        text = _clean(result.get("partial", ""))
        if not text or text == self._last_partial:
            return events
        self._last_partial = text
        start, _ = _span(
            result.get("partial_result"), self._offset_ms, self._utterance_start_ms, self._received_ms
        )
        return [*events, Recognized("partial", text, start, self._received_ms)]

    def finish(self) -> list[Recognized]:
        return self._final(json.loads(self._rec.FinalResult()))

    def idle(self) -> bool:
        return not _clean(json.loads(self._rec.PartialResult()).get("partial", ""))

    def skip(self, ms: int) -> None:
        # Kaldi's clock only counts audio it was fed: the offset carries the skipped stretch so that word
        # times still map onto the call's time line.
        self._received_ms += ms
        self._offset_ms -= ms

    def reset(self) -> None:
        """Ready for a new call, keeping the decoding graph this stream has already expanded."""
        self._rec.Reset()
        self._offset_ms += self._received_ms
        self._received_ms = self._utterance_start_ms = 0
        self._last_partial = ""

    def _final(self, result: dict[str, Any]) -> list[Recognized]:
        text = _clean(result.get("text", ""))
        start, end = _span(result.get("result"), self._offset_ms, self._utterance_start_ms, self._received_ms)
        self._utterance_start_ms = self._received_ms
        self._last_partial = ""
        return [Recognized("final", text, start, end)] if text else []


def _clean(text: str) -> str:
    # Vosk's Chinese models put a space between words; "[unk]"-style tokens are not speech.
    words = [w for w in text.split() if not (w.startswith("[") and w.endswith("]"))]
    return " ".join(words)


def _span(
    words: list[dict[str, Any]] | None, offset_ms: int, fallback_start: int, fallback_end: int
) -> tuple[int, int]:
    if not words:
        return fallback_start, fallback_end
    return round(words[0]["start"] * 1000) - offset_ms, round(words[-1]["end"] * 1000) - offset_ms


class FakeRecognizer:
    """A scripted recognizer for tests: every ``words_every_ms`` of non-silent audio adds one word to the
    partial; ``endpoint_ms`` of digital silence after speech ends the utterance, like Kaldi's rule 2."""

    engine = "fake"

    def __init__(
        self, words: list[str] | None = None, *, words_every_ms: int = 200, endpoint_ms: int = 500
    ) -> None:
        self._words = words or ["你好", "我要", "反映", "问题"]
        self._every = words_every_ms
        self._endpoint = endpoint_ms
        self._received_ms = 0
        self._speech_ms = 0
        self._silence_ms = 0
        self._start_ms: int | None = None
        self._last_voice_ms = 0
        self._said: list[str] = []

    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        frame = 20 * BYTES_PER_MS  # judge speech per 20 ms frame, whatever the chunk size
        events: list[Recognized] = []
        for i in range(0, len(pcm16le), frame):
            events += self._frame(pcm16le[i : i + frame])
        return events if partial else [e for e in events if e.kind == "final"]

    def _frame(self, pcm16le: bytes) -> list[Recognized]:
        chunk_ms = len(pcm16le) // BYTES_PER_MS
        begin = self._received_ms
        self._received_ms += chunk_ms
        if any(pcm16le):
            if self._start_ms is None:
                self._start_ms = begin
            self._silence_ms = 0
            self._speech_ms += chunk_ms
            self._last_voice_ms = self._received_ms
            want = min(self._speech_ms // self._every + 1, 1000)
            if want > len(self._said):
                while len(self._said) < want:
                    self._said.append(self._words[len(self._said) % len(self._words)])
                return [Recognized("partial", " ".join(self._said), self._start_ms, self._received_ms)]
            return []
        self._silence_ms += chunk_ms
        if self._said and self._silence_ms >= self._endpoint:
            return self._final()
        return []

    def finish(self) -> list[Recognized]:
        return self._final() if self._said else []

    def idle(self) -> bool:
        return not self._said

    def skip(self, ms: int) -> None:
        self._received_ms += ms
        self._silence_ms += ms

    def _final(self) -> list[Recognized]:
        start = self._start_ms or 0
        event = Recognized("final", " ".join(self._said), start, self._last_voice_ms)
        self._said, self._speech_ms, self._start_ms = [], 0, None
        return [event]


RecognizerFactory = Callable[[], Recognizer]
