"""Prompts generated with the real espeak-ng and sox: Asterisk's 8 kHz mono 16-bit WAV, recordings win."""

from __future__ import annotations

import shutil
import wave
from array import array
from pathlib import Path

import pytest

from ivr.announcements import Announcement
from ivr.model import builtin_menu
from ivr.prompts import build_prompts, prompt_texts

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are not installed (apt-get install espeak-ng sox)",
)

ANNOUNCEMENT = Announcement.model_validate(
    {
        "id": "water-meilan",
        "text": {
            "zh": "美兰区今天停水，如果您是反映此事，请按1。",
            "en": "About the water cut in Meilan, press 1.",
        },
        "detail": {"zh": "预计晚上八点恢复供水。", "en": "Water is back by eight p m."},
    }
)


def loudness(path: Path) -> float:
    with wave.open(str(path)) as wav:
        samples = array("h", wav.readframes(wav.getnframes()))
    return float(max(abs(s) for s in samples)) / 32768


def test_every_prompt_of_both_menus_in_both_languages(tmp_path: Path) -> None:
    menus = [builtin_menu("hotline"), builtin_menu("survey")]
    files = build_prompts(tmp_path / "sounds", menus=menus, announcements=[ANNOUNCEMENT])
    names = prompt_texts(menus, [ANNOUNCEMENT])
    assert len(files) == 2 * len(names)
    for lang in ("zh", "en"):
        for name in ("welcome", "main_menu", "state_in_progress", "digits/7", "ann-water-meilan-detail"):
            path = tmp_path / "sounds" / lang / f"{name}.wav"
            assert path in files
            with wave.open(str(path)) as wav:
                assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
                assert wav.getnframes() > 8000 * 0.3  # at least 0.3 s of speech
            assert loudness(path) > 0.5  # normalised speech, not silence


def test_recordings_win_and_unchanged_prompts_are_kept(tmp_path: Path) -> None:
    menus = [builtin_menu("survey")]
    out = tmp_path / "sounds"
    build_prompts(out, menus=menus)
    generated = out / "zh" / "survey_thanks.wav"

    recordings = tmp_path / "recordings" / "zh"
    recordings.mkdir(parents=True)
    (recordings / "survey_thanks.gsm").write_bytes(b"\xd0" * 330)  # a real GSM frame sequence in production
    files = build_prompts(out, menus=menus, override_dir=tmp_path / "recordings")

    assert out / "zh" / "survey_thanks.gsm" in files
    assert not generated.exists()  # one file per prompt, so Asterisk cannot pick the wrong one
    assert (out / "en" / "survey_thanks.wav").exists()  # no English recording: generated
    intro = out / "zh" / "survey_intro.wav"
    before = intro.stat().st_mtime_ns
    build_prompts(out, menus=menus, override_dir=tmp_path / "recordings")
    assert intro.stat().st_mtime_ns == before  # not spoken again


def test_cli_builds_prompts_with_announcements(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ivr.cli import app

    announcements = tmp_path / "announcements.yaml"
    announcements.write_text(
        'announcements:\n  - id: power-longhua\n    text: {zh: 龙华区停电，请按1。, en: "Power cut in Longhua, press 1."}\n'
        "    detail: {zh: 预计六点恢复。, en: Back by six.}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["prompts", "--out", str(tmp_path / "out"), "--announcements", str(announcements)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "zh" / "ann-power-longhua.wav").exists()
    assert (tmp_path / "out" / "en" / "digits" / "9.wav").exists()
