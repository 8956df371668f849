from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asr.cli import app


def test_models_install_select_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HOTLINE_VOSK_MODEL_PATH", raising=False)
    archive = tmp_path / "vosk-model-small-cn-0.22.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("vosk-model-small-cn-0.22/am/final.mdl", b"x")
        z.writestr("vosk-model-small-cn-0.22/conf/model.conf", "--beam=10.0\n")
    runner = CliRunner()
    bad = runner.invoke(app, ["models", "install", str(archive), "--sha256", "0" * 64])
    assert bad.exit_code == 1 and "SHA-256" in bad.output
    ok = runner.invoke(app, ["models", "install", str(archive), "--select"])
    assert ok.exit_code == 0, ok.output
    listed = runner.invoke(app, ["models", "list"], env={"COLUMNS": "200"})
    assert "vosk-model-small-cn-0.22" in listed.output and "selected" in listed.output
    missing = runner.invoke(app, ["models", "install", "vosk-model-cn-0.22"])
    assert missing.exit_code == 2 and "--sha256" in missing.output
