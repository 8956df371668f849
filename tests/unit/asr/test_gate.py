"""The silence gate: quiet audio after an utterance is not decoded, and times stay the call's."""

from __future__ import annotations

from asr.engine import BYTES_PER_MS, FakeRecognizer
from asr.events import Recognized
from asr.gate import GATE_AFTER_MS, PREROLL_MS, SilenceGate, rms

LOUD = b"\x00\x08" * 16 * 100  # 100 ms at sample value 2048
QUIET = bytes(100 * BYTES_PER_MS)
HISS = (b"\x20\x00\xe0\xff") * 8 * 100  # ±32: line noise, -60 dBFS


class Counting(FakeRecognizer):
    def __init__(self) -> None:
        super().__init__(["你好"], words_every_ms=100, endpoint_ms=500)
        self.fed_ms = 0

    def accept(self, pcm16le: bytes, partial: bool = True) -> list[Recognized]:
        self.fed_ms += len(pcm16le) // BYTES_PER_MS
        return super().accept(pcm16le, partial)


def _feed(gate: SilenceGate, chunks: list[bytes]) -> list[Recognized]:
    return [e for chunk in chunks for e in gate.accept(chunk)]


def test_rms_tells_speech_from_line_noise() -> None:
    assert rms(LOUD) > 1000 and rms(HISS) < 100 and rms(QUIET) == 0 and rms(b"") == 0


def test_quiet_audio_after_a_final_is_held_back_and_times_stay_on_the_call() -> None:
    rec = Counting()
    gate = SilenceGate(rec)
    first = _feed(gate, [LOUD] * 4 + [QUIET] * 30)  # 0.4 s of speech, 3 s of silence
    second = _feed(gate, [LOUD] * 4 + [QUIET] * 6) + gate.finish()
    finals = [e for e in first + second if e.kind == "final"]
    assert [(f.start_ms, f.end_ms) for f in finals] == [(0, 400), (3400, 3800)]
    # Fed: each utterance and the quiet before the gate closed (the fake's endpoint comes after 500 ms,
    # the gate closes at 600), and the pre-roll before the second; the rest of the silence is skipped.
    quiet_fed = GATE_AFTER_MS - 100
    assert rec.fed_ms == 400 + quiet_fed + PREROLL_MS + 400 + quiet_fed
    assert gate.skipped_ms == (3000 - quiet_fed - PREROLL_MS) + (600 - quiet_fed)
    assert rec.fed_ms + gate.skipped_ms == 400 + 3000 + 400 + 600


def test_the_gate_stays_open_while_words_are_pending() -> None:
    rec = Counting()
    rec._endpoint = 10_000  # an engine whose endpoint has not fired yet
    gate = SilenceGate(rec)
    _feed(gate, [LOUD] * 4 + [QUIET] * 20)
    assert gate.skipped_ms == 0 and rec.fed_ms == 2400


def test_a_soft_onset_is_fed_with_its_pre_roll() -> None:
    rec = Counting()
    gate = SilenceGate(rec)
    _feed(gate, [QUIET] * 20)  # nothing said yet: idle from the start
    before = rec.fed_ms
    _feed(gate, [LOUD])
    assert rec.fed_ms - before == PREROLL_MS + 100
