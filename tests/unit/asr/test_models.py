from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from asr import models
from asr.pool import ModelNotFound


def _archive(tmp_path: Path, name: str = "vosk-model-tiny-test") -> Path:
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"{name}/am/final.mdl", b"not a real model")
        z.writestr(f"{name}/conf/model.conf", "--beam=10.0\n")
    return archive


def test_install_checks_sha256_then_select_and_resolve(tmp_path: Path) -> None:
    data = tmp_path / "var"
    archive = _archive(tmp_path)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(models.ChecksumMismatch):
        models.install_archive(data, archive, sha256="0" * 64)
    installed = models.install_archive(data, archive, sha256=digest.upper())
    assert installed.name == "vosk-model-tiny-test" and (installed.path / "am" / "final.mdl").is_file()
    models.select(data, "vosk-model-tiny-test")
    assert models.resolve_model_path(data, None) == installed.path
    names = [(m.name, m.selected) for m in models.installed(data)]
    assert ("vosk-model-tiny-test", True) in names
    assert (
        models.resolve_model_path(data, tmp_path / "var/models/vosk/vosk-model-tiny-test") == installed.path
    )


def test_unsafe_or_empty_archives_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../escape/am/final.mdl", b"x")
    with pytest.raises(ValueError, match="unsafe"):
        models.install_archive(tmp_path / "var", evil)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", b"x")
    with pytest.raises(ModelNotFound):
        models.install_archive(tmp_path / "var", empty)
    with pytest.raises(ModelNotFound):
        models.select(tmp_path / "var", "nothing-here")
