"""``hotline ivr check``: validates the menus and the announcements file, exit 1 with the faults."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ivr.cli import app
from ivr.model import MENU_DIR

runner = CliRunner()


def test_check_passes_on_the_shipped_menus(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "--announcements", str(tmp_path / "none.yaml")])
    assert result.exit_code == 0, result.output
    assert "hotline.yaml" in result.output
    assert "0 announcements" in result.output


def test_check_names_the_faults(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (MENU_DIR / "hotline.yaml").read_text("utf-8").replace("goto: order_query", "goto: nowhere"), "utf-8"
    )
    announcements = tmp_path / "announcements.yaml"
    announcements.write_text("announcements:\n  - id: x\n    text: {zh: 停电}\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad), "--announcements", str(announcements)])
    assert result.exit_code == 1
    assert "goto 'nowhere' is not defined" in result.output
    assert "detail" in result.output  # the announcement misses its detail text
