"""Utterance endpointing on per-window speech probabilities (Silero VAD's own hysteresis rule).

An utterance starts at the first window whose probability reaches ``threshold`` and ends where the
probability fell under ``neg_threshold`` and stayed there ``min_silence_ms``; one shorter than
``min_speech_ms`` (a click, a cough) is dropped; one that reaches ``max_utterance_ms`` is cut there
(Whisper's window is 30 s). Decisions depend on the probabilities alone, never on chunking or wall time.
"""

from __future__ import annotations

from dataclasses import dataclass

from asr.vad import WINDOW_MS


@dataclass(frozen=True)
class EndpointOptions:
    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_speech_ms: int = 250
    min_silence_ms: int = 600  # a pause inside a sentence is shorter; turn-taking is longer
    max_utterance_ms: int = 25_000


@dataclass(frozen=True)
class Utterance:
    start_ms: int
    end_ms: int
    seen_ms: int  # audio judged when the end was decided: the audio after end_ms that may go to the model


class Endpointer:
    def __init__(self, options: EndpointOptions | None = None) -> None:
        self.options = options or EndpointOptions()
        self._at_ms = 0  # stream time of the next window
        self.start_ms: int | None = None  # the open utterance's start
        self._quiet_since: int | None = None
        self.voiced_until_ms = 0  # end of the last window at or above the threshold

    @property
    def open(self) -> bool:
        return self.start_ms is not None

    def push(self, probability: float) -> Utterance | None:
        """One window's probability; returns the utterance that this window ended, if any."""
        opts = self.options
        begin, self._at_ms = self._at_ms, self._at_ms + WINDOW_MS
        if self.start_ms is None:
            if probability >= opts.threshold:
                self.start_ms, self._quiet_since, self.voiced_until_ms = begin, None, self._at_ms
            return None
        if probability >= opts.threshold:
            self._quiet_since, self.voiced_until_ms = None, self._at_ms
        elif probability < opts.neg_threshold and self._quiet_since is None:
            self._quiet_since = begin
        if self._quiet_since is not None and self._at_ms - self._quiet_since >= opts.min_silence_ms:
            return self._close(self._quiet_since)
        if self._at_ms + WINDOW_MS - self.start_ms > opts.max_utterance_ms:  # one more window: too long
            return self._close(self._at_ms)
        return None

    def flush(self) -> Utterance | None:
        """The stream ended: the open utterance ends where speech was last heard."""
        if self.start_ms is None:
            return None
        return self._close(self._quiet_since if self._quiet_since is not None else self._at_ms)

    def _close(self, end_ms: int) -> Utterance | None:
        start, self.start_ms, self._quiet_since = self.start_ms, None, None
        assert start is not None
        if end_ms - start < self.options.min_speech_ms:
            return None
        return Utterance(start, end_ms, self._at_ms)
