"""``hotline ivr``: build prompts, check menus and announcements, serve FastAGI."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

app = typer.Typer(help="语音导航 / IVR: prompts, menus, FastAGI server", no_args_is_help=True)
console = Console(soft_wrap=True)


def _announcements_file(path: Path | None) -> Path:
    if path is not None:
        return path
    from ivr.announcements import default_announcements_path
    from kernel.settings import load_settings

    return default_announcements_path(load_settings().data_dir)


@app.command()
def prompts(
    out: Annotated[Path, typer.Option("--out", help="directory to fill with <lang>/<name>.wav")],
    recordings: Annotated[
        Path | None, typer.Option(help="real recordings <lang>/<name>.<ext> that win")
    ] = None,
    announcements: Annotated[Path | None, typer.Option(help="announcements YAML (default: data dir)")] = None,
) -> None:
    """Generate the Mandarin and English prompts (espeak-ng + sox, 8 kHz mono WAV)."""
    from ivr.announcements import read_announcements
    from ivr.prompts import build_prompts, prompt_texts
    from ivr.service import MenuSource, menu_dir

    menus = [MenuSource(menu_dir() / f"{name}.yaml").current() for name in ("hotline", "survey")]
    items = read_announcements(_announcements_file(announcements))
    total = 2 * len(prompt_texts(menus, items))
    with Progress(console=console) as progress:
        task = progress.add_task("prompts", total=total)
        files = build_prompts(
            out,
            menus=menus,
            announcements=items,
            override_dir=recordings,
            progress=lambda key: progress.update(task, advance=1, description=key),
        )
    console.print(f"[green]{len(files)} prompt files[/green] in {out}")


@app.command()
def check(
    menus: Annotated[list[Path] | None, typer.Argument(help="menu files (default: the ones in use)")] = None,
    announcements: Annotated[Path | None, typer.Option(help="announcements YAML (default: data dir)")] = None,
) -> None:
    """Validate menu files and the announcements file; exit 1 with the faults when one is bad."""
    from pydantic import ValidationError

    from ivr.announcements import read_announcements
    from ivr.model import MenuError, load_menu
    from ivr.service import menu_dir

    failed = False
    for path in menus or sorted(menu_dir().glob("*.yaml")):
        try:
            menu = load_menu(path)
            console.print(f"[green]ok[/green] {path}: {len(menu.nodes)} nodes, {len(menu.prompts)} prompts")
        except MenuError as exc:
            console.print(f"[red]{exc}[/red]")
            failed = True
    ann_path = _announcements_file(announcements)
    try:
        items = read_announcements(ann_path)
        console.print(f"[green]ok[/green] {ann_path}: {len(items)} announcements")
    except (ValidationError, ValueError, OSError) as exc:
        console.print(f"[red]{ann_path}: {exc}[/red]")
        failed = True
    if failed:
        raise typer.Exit(1)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="default: HOTLINE_FASTAGI_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: HOTLINE_FASTAGI_PORT (4573)")] = None,
) -> None:
    """Serve FastAGI for Asterisk (agi://HOST:PORT/ivr and /survey) with the real work-order lookup."""
    from ivr.fastagi import start_server
    from ivr.service import IvrServices
    from kernel.cli import parts
    from kernel.core import Core

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = parts(ctx, Core).settings
    handle = start_server(
        host or settings.fastagi_host,
        port or settings.fastagi_port,
        services=parts(ctx, IvrServices),
    )
    console.print(f"FastAGI on {handle.host}:{handle.port} (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
