"""Recognition profiles: per call language, which endpointing, streaming engine and finals engine run.

- A Vosk model of the language is installed (``HOTLINE_VOSK_MODEL_PATH``, or installed with ``hotline asr
  models install``; vosk-model-cn-0.22 and vosk-model-small-cn-0.22 are Mandarin): Kaldi endpointing and
  Vosk partials; finals by Vosk, or re-decoded by Whisper base with ``HOTLINE_ASR_SECOND_PASS=true``.
- Otherwise (these machines, for Mandarin): Silero VAD endpointing, Whisper base int8 finals (beam 5, the
  whole utterance with 300 ms each side, OpenCC t2s), partials by bounded greedy re-decodes or a
  "正在说话…" line (asr.utterances).

A model of another language is never used: a profile whose model is missing or of another language refuses
to start with one line naming the model and the language (``ProfileRefused``). The Korean model from PyPI
serves only the ``ko`` profile (tests of Vosk's mechanics on Korean speech).

The service builds its recognizers with ``recognizer_factory(settings, language)`` (or ``build_engines``
when it also recycles Vosk streams with ``Engines.release``). Every recognizer takes 16 kHz 16-bit
little-endian mono PCM.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asr import models as model_store
from asr.engine import Recognizer, RecognizerFactory
from asr.pool import ModelNotFound, ModelPool, check_vosk_model_dir
from asr.utterances import PartialBudget, PartialMode, UtteranceOptions, VadWhisperRecognizer, WhisperFinals
from kernel.settings import Settings

WHISPER_FINALS = "whisper-base int8, beam 5"


class ProfileRefused(RuntimeError):
    """The profile cannot start; the message is one line naming the model and the language."""


@dataclass(frozen=True)
class Profile:
    language: str
    endpointing: str  # "kaldi" (the Vosk model's rules) | "silero-vad"
    streaming: str  # "vosk" | "whisper-greedy" | "placeholder"
    finals: str  # "vosk" | WHISPER_FINALS
    vosk_model: Path | None = None

    def describe(self) -> str:
        model = f" ({self.vosk_model.name})" if self.vosk_model else ""
        return (
            f"ASR {self.language}: endpointing {self.endpointing}, partials {self.streaming}{model}, "
            f"finals {self.finals}"
        )


@dataclass
class Engines:
    profile: Profile
    factory: RecognizerFactory
    release: Callable[[Recognizer], None] | None = None


_POOL = ModelPool()
_WHISPER: dict[tuple[Path, str], Any] = {}
_LOCK = threading.Lock()
_BUDGET = PartialBudget(max(1, (os.cpu_count() or 2) // 2))


def _refuse(language: str, what: str) -> ProfileRefused:
    return ProfileRefused(f"ASR profile {language} ({model_store.language_name(language)}): {what}")


def _vosk_model(
    settings: Settings, language: str, model: Path | None, model_language: str | None
) -> Path | None:
    """The Vosk model the profile uses, None for none; refuses a configured model that cannot serve."""
    configured = model or settings.vosk_model_path
    if configured is not None:
        try:
            check_vosk_model_dir(configured)
        except ModelNotFound:
            raise _refuse(
                language, f"Vosk model {configured} is missing (no am/final.mdl, conf/model.conf)"
            ) from None
        lang = model_language or settings.vosk_model_language or model_store.model_language(configured)
        if lang is None:
            raise _refuse(
                language,
                f"the language of Vosk model {configured} is unknown: set HOTLINE_VOSK_MODEL_LANGUAGE",
            )
        if lang != language:
            raise _refuse(
                language,
                f"Vosk model {configured.name} is {model_store.language_name(lang)} ({lang}), not {language}; "
                "configure a model of this language or unset HOTLINE_VOSK_MODEL_PATH",
            )
        return configured
    candidates = sorted(model_store.installed(settings.data_dir), key=lambda m: not m.selected)
    for m in candidates:
        if m.source != "pip package" and model_store.model_language(m.path) == language:
            return m.path
    ko = model_store.packaged_ko_model()
    return ko if language == "ko" and ko is not None else None


def choose_profile(
    settings: Settings,
    language: str | None = None,
    *,
    vosk_model: Path | None = None,
    vosk_language: str | None = None,
    partials: PartialMode | None = None,
) -> Profile:
    language = language or settings.asr_language
    mode = settings.asr_streaming
    path = None if mode == "vad" else _vosk_model(settings, language, vosk_model, vosk_language)
    if path is not None:
        finals = WHISPER_FINALS if settings.asr_second_pass else "vosk"
        if finals != "vosk":
            _check_whisper(language)
        return Profile(language, "kaldi", "vosk", finals, path)
    if mode == "vosk":
        raise _refuse(language, "no Vosk model of this language is installed (hotline asr models install …)")
    _check_whisper(language)
    streaming = "whisper-greedy" if (partials or settings.asr_partials) == "decode" else "placeholder"
    return Profile(language, "silero-vad", streaming, WHISPER_FINALS)


def _check_whisper(language: str) -> None:
    from asr.vad import silero_path
    from asr.whisper import missing_requirements

    reason = missing_requirements()
    if reason is None and silero_path() is None:
        reason = "Silero VAD (faster_whisper/assets/silero_vad_v6.onnx) is missing"
    if reason is not None:
        raise _refuse(language, f"Whisper base model unavailable: {reason}")


def _whisper(settings: Settings, language: str) -> Any:
    from asr.whisper import WhisperOptions, WhisperSecondPass, default_cache_dir, prepare_model

    path = settings.whisper_model_path or default_cache_dir(settings.data_dir)
    with _LOCK:
        key = (path, language)
        if key not in _WHISPER:
            model_dir = settings.whisper_model_path or prepare_model(path)
            _WHISPER[key] = WhisperSecondPass(model_dir, WhisperOptions(language=language))
        return _WHISPER[key]


def build_engines(
    settings: Settings,
    language: str | None = None,
    *,
    vosk_model: Path | None = None,
    vosk_language: str | None = None,
    partials: PartialMode | None = None,
) -> Engines:
    """Load the profile's models once (per process) and return how to make one stream's recognizer."""
    profile = choose_profile(
        settings, language, vosk_model=vosk_model, vosk_language=vosk_language, partials=partials
    )
    if profile.vosk_model is not None:
        vosk = _POOL.factory(profile.vosk_model)
        if profile.finals == "vosk":
            return Engines(profile, vosk, _POOL.release)
        whisper = _whisper(settings, profile.language)

        def release(rec: Recognizer) -> None:
            _POOL.release(rec.streaming if isinstance(rec, WhisperFinals) else rec)

        return Engines(profile, lambda: WhisperFinals(vosk(), whisper), release)
    from asr.vad import SileroModel

    finals = _whisper(settings, profile.language)
    vad = SileroModel.shared()
    options = UtteranceOptions(partials="decode" if profile.streaming == "whisper-greedy" else "placeholder")
    return Engines(
        profile, lambda: VadWhisperRecognizer(vad.stream(), finals, options=options, budget=_BUDGET)
    )


def recognizer_factory(settings: Settings, language: str | None = None) -> RecognizerFactory:
    """One recognizer per call leg for ``language`` (default ``settings.asr_language``); raises
    ``ProfileRefused`` (one line) when the profile cannot start."""
    return build_engines(settings, language).factory
