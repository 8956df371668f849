"""Issue 11, item 12: ``hotline apikeys create|list|revoke`` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.cli import app as hotline_app
from kernel.db import make_engine, make_session_factory
from routing import apikeys


def test_12_create_list_and_revoke(
    seeded_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", seeded_db_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    runner = CliRunner()

    def invoke(args: list[str]) -> Any:
        return runner.invoke(hotline_app, ["apikeys", *args])

    made = invoke(["create", "housing-system", "--role", "department", "--unit", "city.housing"])
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    assert key.startswith("hk_") and len(key) > 40
    engine = make_engine(seeded_db_url)
    factory = make_session_factory(engine)
    client = apikeys.authenticate(factory, key)
    assert client is not None and (client.role, client.unit_code) == ("department", "city.housing")

    listed = invoke(["list"])
    assert listed.exit_code == 0 and "housing-system" in listed.output and key not in listed.output
    bad = invoke(["create", "x", "--role", "department"])  # a unit key needs its unit
    assert bad.exit_code == 1
    assert invoke(["create", "housing-system", "--role", "agent"]).exit_code == 1  # name taken

    assert invoke(["revoke", "housing-system"]).exit_code == 0
    assert apikeys.authenticate(factory, key) is None  # this process's cache was cleared
    assert invoke(["revoke", "housing-system"]).exit_code == 1
    engine.dispose()
