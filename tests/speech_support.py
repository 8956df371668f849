"""Speech for recognition tests: the real clips in ../shared/audio and Korean synthesised with espeak-ng."""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import unicodedata
import wave
from pathlib import Path

import pytest

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"
MANDARIN_CLIP = AUDIO / "zh_aishell_BAC009S0724W0121.wav"
KOREAN = ("안녕하세요 저는 서울에 살고 있습니다", "오늘 날씨가 정말 좋습니다")


def clip_pcm(path: Path = MANDARIN_CLIP) -> bytes:
    if not path.is_file():
        pytest.skip(f"real clip missing: {path}")
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        return w.readframes(w.getnframes())


def mandarin_references() -> dict[str, str]:
    path = AUDIO / "references.tsv"
    if not path.is_file():
        pytest.skip(f"references missing: {path}")
    with path.open(encoding="utf-8") as f:
        return {r["file"]: r["reference"] for r in csv.DictReader(f, delimiter="\t") if r["lang"] == "zh"}


def korean_speech(text: str) -> bytes:
    """16 kHz PCM of ``text`` spoken by espeak-ng's Korean voice (22.05 kHz, resampled by soxr)."""
    from asr.audio import read_pcm16k

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/system-deps.sh)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ko.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(out), text], check=True, capture_output=True)
        return read_pcm16k(out)


def hangul(text: str) -> bool:
    return any("HANGUL" in unicodedata.name(c, "") for c in text)


def only_chinese(text: str) -> bool:
    """CJK ideographs, punctuation and spaces only (no Hangul, no Latin letters)."""
    return all(
        unicodedata.category(c)[0] in "PZ" or "CJK" in unicodedata.name(c, "") or c.isdigit() for c in text
    )
