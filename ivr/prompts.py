"""Prompts: Mandarin and English sound files that Asterisk plays, generated at build time.

Each prompt's text is in the menu files (and the announcements file). ``build_prompts(out_dir)`` speaks every
text with espeak-ng (voice ``cmn-latn-pinyin`` for Mandarin, ``en`` for English) and converts it with sox to 8 kHz mono
16-bit WAV, the format Asterisk plays without transcoding on a narrow-band call. The layout is the one the
dialplan expects: ``<out_dir>/<lang>/<name>.wav``, played as ``hotline/<lang>/<name>`` once the directory is
installed as ``/usr/share/asterisk/sounds/hotline``.

Real recordings win: a file ``<override_dir>/<lang>/<name>.{wav,gsm,sln,...}`` is copied instead of the
generated one (``$HOTLINE_IVR_RECORDINGS`` by default). Unchanged prompts are not generated again (a manifest
keeps the hash of each text), so rebuilding after an announcement change takes a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ivr.announcements import Announcement
from ivr.model import LANGUAGES, Language, Menu

# espeak-ng's plain "cmn" voice reads its own pinyin with English rules ("nin two"); "cmn-latn-pinyin" does not.
VOICES: dict[Language, str] = {"zh": "cmn-latn-pinyin", "en": "en"}
DIGIT_WORDS: dict[Language, tuple[str, ...]] = {
    "zh": ("零", "幺", "二", "三", "四", "五", "六", "七", "八", "九"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
# Formats Asterisk can play; a recording in any of them replaces the generated WAV.
RECORDING_EXTENSIONS = (".wav", ".gsm", ".sln", ".sln16", ".ulaw", ".alaw", ".g722")
MANIFEST = ".manifest.json"
ENGINE_VERSION = "espeak-ng+sox 8k/16bit/mono norm-3 v1"


class PromptToolMissing(RuntimeError):
    pass


def prompt_texts(
    menus: Iterable[Menu], announcements: Iterable[Announcement] = ()
) -> dict[str, dict[Language, str]]:
    """Every prompt to build, by name (``welcome``, ``digits/3``, ``ann-<id>``) and language."""
    texts: dict[str, dict[Language, str]] = {}
    for menu in menus:
        for name, by_lang in menu.prompts.items():
            texts[name] = dict(by_lang)
    for digit in range(10):
        texts[f"digits/{digit}"] = {lang: DIGIT_WORDS[lang][digit] for lang in LANGUAGES}
    for item in announcements:
        texts[item.prompt] = dict(item.text)
        texts[item.detail_prompt] = dict(item.detail)
    return texts


def _tools() -> tuple[str, str]:
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if espeak is None or sox is None:
        raise PromptToolMissing("prompts need espeak-ng and sox (apt-get install espeak-ng sox)")
    return espeak, sox


def synthesize(text: str, language: Language, out: Path) -> None:
    """Speak ``text`` into ``out``: 8 kHz, mono, 16-bit signed WAV, normalised to -3 dBFS."""
    espeak, sox = _tools()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hotline-tts-") as tmp:
        raw = Path(tmp) / "tts.wav"
        subprocess.run(
            [espeak, "-v", VOICES[language], "-s", "150", "-w", str(raw), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        subprocess.run(
            [
                sox,
                str(raw),
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(out),
                "channels",
                "1",
                "rate",
                "8000",
                "norm",
                "-3",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )


def _recording(override_dir: Path | None, language: Language, name: str) -> Path | None:
    if override_dir is None:
        return None
    for ext in RECORDING_EXTENSIONS:
        candidate = override_dir / language / f"{name}{ext}"
        if candidate.is_file():
            return candidate
    return None


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _remove_other_formats(out_dir: Path, language: Language, name: str, keep: Path) -> None:
    """Asterisk picks among same-named files by format cost: leave exactly one per prompt."""
    for ext in RECORDING_EXTENSIONS:
        other = out_dir / language / f"{name}{ext}"
        if other != keep and other.exists():
            other.unlink()


def build_prompts(
    out_dir: Path,
    *,
    menus: Iterable[Menu] | None = None,
    announcements: Iterable[Announcement] | None = None,
    override_dir: Path | None = None,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Build (or refresh) every prompt under ``out_dir``; returns the files, one per prompt and language."""
    if menus is None:
        from ivr.model import builtin_menu

        menus = [builtin_menu("hotline"), builtin_menu("survey")]
    if override_dir is None and os.environ.get("HOTLINE_IVR_RECORDINGS"):
        override_dir = Path(os.environ["HOTLINE_IVR_RECORDINGS"])
    texts = prompt_texts(menus, announcements or ())
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    manifest: dict[str, str] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}

    def one(name: str, language: Language) -> tuple[Path, str, str]:
        key = f"{language}/{name}"
        recording = _recording(override_dir, language, name)
        if recording is not None:
            target = out_dir / language / f"{name}{recording.suffix}"
            digest = _digest("recording", str(recording.stat().st_mtime_ns), str(recording.stat().st_size))
            if manifest.get(key) != digest or not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(recording, target)
        else:
            target = out_dir / language / f"{name}.wav"
            digest = _digest(ENGINE_VERSION, VOICES[language], texts[name][language])
            if manifest.get(key) != digest or not target.exists():
                synthesize(texts[name][language], language, target)
        _remove_other_formats(out_dir, language, name, target)
        if progress is not None:
            progress(key)
        return target, key, digest

    work = [(name, lang) for name in sorted(texts) for lang in LANGUAGES]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        built = list(pool.map(lambda item: one(*item), work))
    manifest_path.write_text(json.dumps({key: digest for _, key, digest in built}, indent=0, sort_keys=True))
    return [path for path, _, _ in built]
