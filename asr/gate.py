"""Silence is not decoded: a leg that has been quiet for a while, with no words pending, stops feeding Kaldi.

On a call the two parties take turns, so each leg is silent much of the time (the agent's leg while the
citizen explains, and the reverse), and Kaldi spends about as much CPU on a second of silence as on a
second of speech. The gate sits in front of a recognizer: once ``GATE_AFTER_MS`` of quiet audio (RMS under
``SILENCE_RMS``, about -50 dBFS: telephone line noise is quieter, speech far louder) has passed and the
recognizer has no words pending (Kaldi's endpointing already ended the utterance: its longest rule waits
2 s, but an utterance with words ends after 0.5–1 s of silence), further quiet audio is held back, only the
last ``PREROLL_MS`` kept; the first loud batch is fed with that pre-roll in front, so a soft onset is not
cut. The recognizer's clock is moved on past what was skipped, so segment times stay those of the call.
"""

from __future__ import annotations

import numpy as np

from asr.engine import BYTES_PER_MS, Recognizer
from asr.events import Recognized

SILENCE_RMS = 100.0  # 16-bit sample RMS under which 100 ms counts as quiet (-50 dBFS)
GATE_AFTER_MS = 600  # quiet this long (longer than Kaldi's 0.5 s rule for an utterance with words) …
PREROLL_MS = 300  # … then hold back quiet audio, keeping this much to feed before the next speech
RECHECK_MS = 500  # while words stay pending in the quiet, ask the recognizer again after this much


def rms(pcm16le: bytes) -> float:
    samples = np.frombuffer(pcm16le[: len(pcm16le) & ~1], dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if samples.size else 0.0


class SilenceGate:
    """A Recognizer in front of a Recognizer that has ``idle()`` and ``skip(ms)`` (Vosk's and the fake)."""

    def __init__(
        self,
        recognizer: Recognizer,
        *,
        silence_rms: float = SILENCE_RMS,
        gate_after_ms: int = GATE_AFTER_MS,
        preroll_ms: int = PREROLL_MS,
    ) -> None:
        self.recognizer = recognizer
        self.engine = recognizer.engine
        self.silence_rms = silence_rms
        self.gate_after_ms = gate_after_ms
        self.preroll_bytes = preroll_ms * BYTES_PER_MS
        self.quiet_ms = 0
        self.check_at_ms = gate_after_ms  # quiet time at which to ask the recognizer whether it is idle
        self.closed = False  # holding quiet audio back
        self.held = bytearray()
        self.skipped_ms = 0  # audio never decoded, for the benches

    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        if rms(pcm16le) >= self.silence_rms:
            self.quiet_ms = 0
            self.check_at_ms = self.gate_after_ms
            if self.closed:
                self.closed = False
                pcm16le = bytes(self.held) + pcm16le
                self.held.clear()
            return self.recognizer.accept(pcm16le, partial)
        self.quiet_ms += len(pcm16le) // BYTES_PER_MS
        if not self.closed and self.quiet_ms >= self.check_at_ms:
            # idle() costs a partial result: asked once per RECHECK_MS while the engine has words pending
            # (an endpoint that has not fired yet, or an engine that hears words in the noise).
            self.closed = self.recognizer.idle()
            self.check_at_ms = self.quiet_ms + RECHECK_MS
        if not self.closed:
            return self.recognizer.accept(pcm16le, partial)
        self.held += pcm16le
        excess = len(self.held) - self.preroll_bytes
        excess -= excess % BYTES_PER_MS
        if excess > 0:
            self._skip(excess)
        return []

    def finish(self) -> list[Recognized]:
        self._skip(len(self.held) - len(self.held) % BYTES_PER_MS)
        self.held.clear()
        self.closed = False
        self.quiet_ms = 0
        self.check_at_ms = self.gate_after_ms
        return self.recognizer.finish()

    def idle(self) -> bool:
        return self.recognizer.idle()

    def skip(self, ms: int) -> None:
        self.recognizer.skip(ms)

    def _skip(self, nbytes: int) -> None:
        if nbytes <= 0:
            return
        self.recognizer.skip(nbytes // BYTES_PER_MS)
        self.skipped_ms += nbytes // BYTES_PER_MS
        del self.held[:nbytes]
