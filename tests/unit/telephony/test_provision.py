from __future__ import annotations

from pathlib import Path

import pytest

from telephony.provision import ProvisionError, debian_mirror
from telephony.secrets import load_or_create


def test_mirror_is_read_from_deb822_sources_skipping_security(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list.d"
    sources.mkdir()
    (sources / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example.org/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\n# a comment\nURIs: http://mirror.example.org/debian/\nSuites: bookworm\n",
        encoding="utf-8",
    )
    assert debian_mirror(sources, tmp_path / "none") == "http://mirror.example.org/debian"


def test_mirror_from_one_line_format(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text("deb [arch=amd64] http://ftp.example.cn/debian bookworm main\n", encoding="utf-8")
    assert debian_mirror(tmp_path / "none", listing) == "http://ftp.example.cn/debian"


def test_no_mirror_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError):
        debian_mirror(tmp_path / "none", tmp_path / "none.list")


def test_ari_password_is_generated_once_and_private(tmp_path: Path) -> None:
    first = load_or_create(tmp_path)
    second = load_or_create(tmp_path)
    assert first.ari_password == second.ari_password
    assert len(first.ari_password) >= 32
    assert (tmp_path / "telephony-secrets.json").stat().st_mode & 0o777 == 0o600
    assert load_or_create(tmp_path, ari_password_override="from-env").ari_password == "from-env"
    assert load_or_create(tmp_path / "other").ari_password != first.ari_password
