"""VAD endpointing and Whisper finals as a Recognizer, with a stand-in VAD (energy) and transcriber."""

from __future__ import annotations

import numpy as np
import pytest

from asr.endpoint import Endpointer, EndpointOptions
from asr.engine import BYTES_PER_MS, FakeRecognizer, Recognizer
from asr.events import Recognized
from asr.utterances import PLACEHOLDER, PartialBudget, UtteranceOptions, VadWhisperRecognizer, WhisperFinals
from asr.vad import WINDOW_MS, EnergyDetector


class Transcriber:
    engine = "fake-whisper"

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []  # (ms of audio, beam)

    def transcribe(self, pcm16le: bytes, *, beam_size: int | None = None) -> str:
        self.calls.append((len(pcm16le) // BYTES_PER_MS, beam_size))
        ms = np.abs(np.frombuffer(pcm16le, dtype="<i2")).reshape(-1, 16).max(axis=1)
        loud = int((ms > 1000).sum())  # milliseconds with sound in them
        return f"说了{loud}毫秒" if loud else ""


def tone(ms: int) -> bytes:
    t = np.arange(ms * 16) / 16000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(ms * BYTES_PER_MS)


AUDIO = silence(1024) + tone(1504) + silence(2016) + tone(992) + silence(1504)


def vad_whisper(partials: str = "placeholder", slots: int = 1) -> tuple[VadWhisperRecognizer, Transcriber]:
    finals = Transcriber()
    options = UtteranceOptions(partials=partials)  # type: ignore[arg-type]
    rec = VadWhisperRecognizer(EnergyDetector(), finals, options=options, budget=PartialBudget(slots))
    return rec, finals


def feed(rec: Recognizer, pcm: bytes, chunk_ms: int) -> list[Recognized]:
    step = chunk_ms * BYTES_PER_MS
    return [e for i in range(0, len(pcm), step) for e in rec.accept(pcm[i : i + step])] + rec.finish()


def test_two_tones_apart_by_two_seconds_are_two_utterances_at_their_times() -> None:
    rec, finals = vad_whisper()
    events = feed(rec, AUDIO, 20)
    got = [e for e in events if e.kind == "final"]
    assert [(e.start_ms, e.end_ms) for e in got] == [(1024, 2528), (4544, 5536)]
    assert [e.text for e in got] == ["说了1504毫秒", "说了992毫秒"]
    # Each utterance was decoded whole with the margin before it and up to 600 ms of silence after it.
    margin = UtteranceOptions().margin_ms
    assert [ms for ms, beam in finals.calls] == [margin + 1504 + 608, margin + 992 + 608]
    assert all(beam is None for _, beam in finals.calls), "finals use the configured beam"
    assert events[0] == Recognized("partial", PLACEHOLDER, 1024, events[0].end_ms)
    assert [e.kind for e in events] == ["partial", "final", "partial", "final"]


@pytest.mark.parametrize("chunk_ms", [20, 100, 640, 3000])
def test_finals_do_not_depend_on_how_audio_is_chunked(chunk_ms: int) -> None:
    reference, ref_calls = vad_whisper()
    want = [e for e in feed(reference, AUDIO, 20) if e.kind == "final"]
    rec, calls = vad_whisper()
    assert [e for e in feed(rec, AUDIO, chunk_ms) if e.kind == "final"] == want
    assert calls.calls == ref_calls.calls


def test_partials_are_greedy_decodes_at_a_bounded_cadence_or_the_placeholder() -> None:
    rec, finals = vad_whisper("decode")
    events = feed(rec, silence(500) + tone(3500) + silence(1000), 100)
    partials = [e for e in events if e.kind == "partial"]
    decodes = [c for c in finals.calls if c[1] == 1]
    assert 2 <= len(decodes) <= 3, "one greedy decode per second of speech, none for the first 0.8 s"
    assert partials[0].text == PLACEHOLDER and all(p.text.startswith("说了") for p in partials[1:])
    busy, busy_calls = vad_whisper("decode", slots=0)  # no CPU to spare: the placeholder only
    assert next(e.text for e in feed(busy, silence(500) + tone(3500) + silence(1000), 100)) == PLACEHOLDER
    assert all(beam is None for _, beam in busy_calls.calls)


def test_silence_and_clicks_say_nothing() -> None:
    rec, finals = vad_whisper()
    assert feed(rec, silence(3000) + tone(96) + silence(3000), 100) == []
    assert finals.calls == [], "a 96 ms click is shorter than the 250 ms minimum: never decoded"
    assert rec.idle()


def test_a_long_monologue_is_cut_within_whispers_window() -> None:
    ends = []
    ep = Endpointer(EndpointOptions(max_utterance_ms=10_000))
    for _ in range(30_000 // WINDOW_MS):
        if (u := ep.push(1.0)) is not None:
            ends.append(u)
    assert ends and all(u.end_ms - u.start_ms <= 10_000 for u in ends)


def test_whisper_finals_replace_a_streaming_engines_text_and_keep_its_times() -> None:
    finals = Transcriber()
    rec = WhisperFinals(FakeRecognizer(), finals, margin_ms=300)
    events = feed(rec, silence(1000) + tone(1000) + silence(1000), 20)
    final = next(e for e in events if e.kind == "final")
    assert final.text == "说了1000毫秒" and (final.start_ms, final.end_ms) == (1000, 2000)
    assert any(e.kind == "partial" for e in events)


@pytest.mark.parametrize("make", ["fake", "vad"])
def test_recognizer_contract_with_fakes(make: str) -> None:
    """The event shape session.py relies on: partials before each final, non-empty text, ordered times."""
    rec: Recognizer = FakeRecognizer() if make == "fake" else vad_whisper()[0]
    events = feed(rec, AUDIO, 20)
    finals = [e for e in events if e.kind == "final"]
    assert len(finals) == 2 and events[0].kind == "partial"
    assert all(e.text.strip() and 0 <= e.start_ms <= e.end_ms for e in events)
    assert finals[0].end_ms <= finals[1].start_ms
