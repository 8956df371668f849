from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kernel.settings import DEFAULT_SECRET, Settings


def test_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="HOTLINE_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="a-real-secret").secret_key == "a-real-secret"
    assert Settings(environment="development").secret_key == DEFAULT_SECRET


def test_sqlite_file_under_the_data_dir_is_the_default(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'hotline.sqlite3'}" and s.is_sqlite


def test_environment_and_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hotline.toml"
    cfg.write_text('site_name = "测试热线"\nhttp_port = 9000\n', encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(cfg))
    monkeypatch.setenv("HOTLINE_HTTP_PORT", "9100")
    s = Settings()
    assert s.site_name == "测试热线"  # from the file
    assert s.http_port == 9100  # the environment wins over the file
