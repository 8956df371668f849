"""The optional Whisper second pass on real Mandarin clips (needs the ``whisper`` extra and model parts)."""

from __future__ import annotations

import csv
import unicodedata
import wave
from pathlib import Path

import pytest

from asr.whisper import WhisperSecondPass, is_model_dir, missing_requirements, prepare_model

AUDIO = Path(__file__).resolve().parents[3] / "shared" / "audio"
REASON = missing_requirements()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(REASON is not None, reason=f"whisper second pass: {REASON}"),
]


def _references() -> dict[str, str]:
    path = AUDIO / "references.tsv"
    if not path.is_file():
        pytest.skip(f"references missing: {path}")
    with path.open(encoding="utf-8") as f:
        return {
            row["file"]: row["reference"] for row in csv.DictReader(f, delimiter="\t") if row["lang"] == "zh"
        }


def _pcm(name: str) -> bytes:
    with wave.open(str(AUDIO / name), "rb") as w:
        return w.readframes(w.getnframes())


def _chars(text: str) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def cer(hypothesis: str, reference: str) -> float:
    hyp, ref = _chars(hypothesis), _chars(reference)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


@pytest.fixture(scope="module")
def second_pass(tmp_path_factory: pytest.TempPathFactory) -> WhisperSecondPass:
    cache = tmp_path_factory.mktemp("models") / "whisper-base"
    path = prepare_model(cache)
    assert is_model_dir(path) and prepare_model(cache) == path  # joined once, then reused
    return WhisperSecondPass(path)


def test_mandarin_clips_are_accurate_and_simplified(second_pass: WhisperSecondPass) -> None:
    refs = _references()
    rates = {}
    for name, reference in refs.items():
        text = second_pass.transcribe(_pcm(name))
        rates[name] = cer(text, reference)
        assert not any(c in text for c in "這說為們個來時會國"), f"traditional characters left in {text!r}"
    mean = sum(rates.values()) / len(rates)
    assert mean <= 0.15, rates  # measured 5.7% with beam 5; a broken model or conversion is far above
    assert all(rate <= 0.3 for rate in rates.values()), rates


def test_silence_and_noise_give_no_text(second_pass: WhisperSecondPass) -> None:
    import numpy as np

    noise = (np.random.default_rng(1).normal(0, 30, 16000 * 4)).astype("<i2").tobytes()
    assert second_pass.transcribe(bytes(16000 * 2 * 4)) == ""
    assert second_pass.transcribe(noise) == ""


def test_cer() -> None:
    assert cer("广州市房地产中介协会分析", "广州市房地产中介协会分析") == 0
    assert cer("广州市 佛地产，中间协会分析", "广州市房地产中介协会分析") == pytest.approx(2 / 12)
