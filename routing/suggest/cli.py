"""``hotline suggest``: classify text from stdin (the measured interface), retrain the model."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from kernel.cli import parts
from kernel.core import Core
from kernel.settings import load_settings

T = TypeVar("T")


def _checked(target: Path, load: Callable[[Path], T], refused: type[Exception]) -> T:
    """A data file the hotline edits, loaded, or the command ends with its first bad line (exit 1)."""
    try:
        return load(target)
    except refused as exc:
        console.print(f"[red]refused[/red] {exc}")
        raise typer.Exit(1) from exc
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]cannot read[/red] {target}: {exc.__class__.__name__}")
        raise typer.Exit(1) from exc


app = typer.Typer(help="坐席辅助：分类与承办单位建议 / category and unit suggestions", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def classify(
    articles: Annotated[int, typer.Option(help="knowledge-base articles per line (0: none)")] = 0,
) -> None:
    """One message a line on stdin → one JSON object a line: {"categories": [...], "units": [...]}."""
    from routing.suggest.factory import engine_from_files

    started = time.perf_counter()
    engine = engine_from_files(load_settings().data_dir, with_kb=articles > 0)
    console.print(f"model ready in {(time.perf_counter() - started) * 1000:.0f} ms")
    for line in sys.stdin:
        text = line.strip()
        result = engine.suggest(text, articles=articles)
        out = {
            "categories": [c.to_dict() for c in result.categories],
            "units": [u.to_dict() for u in result.units],
            "leaves": [c.to_dict() for c in result.leaves],
        }
        if articles:
            out["articles"] = [
                {"key": a["key"], "title": a["title"], "score": a["score"]} for a in result.articles
            ]
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@app.command()
def train(
    ctx: typer.Context,
    no_history: Annotated[bool, typer.Option(help="ignore closed work orders and agents' feedback")] = False,
    output: Annotated[Path | None, typer.Option(help="where to write the model")] = None,
) -> None:
    """Retrain from the training file + closed work orders + agents' feedback; write the model file."""
    from routing.suggest.classifier import DEFAULT_MODEL
    from routing.suggest.dataset import read_messages
    from routing.suggest.model_store import model_path, save
    from routing.suggest.model_store import train as train_model

    settings = load_settings()
    base = read_messages()
    extra = []
    if not no_history:
        from routing.suggest.factory import history_messages

        try:
            with parts(ctx, Core).session_factory() as session:
                extra = history_messages(session, {m.category for m in base})
        except Exception as exc:  # no schema yet: train from the file alone
            console.print(
                f"[yellow]history not read ({type(exc).__name__}); training from the file only[/yellow]"
            )
    with console.status(f"training {DEFAULT_MODEL} on {len(base)} + {len(extra)} messages"):
        started = time.perf_counter()
        classifier = train_model(extra, base=base)
    path = save(classifier, output or model_path(settings.data_dir))
    console.print(
        f"[green]model written[/green] {path} ({path.stat().st_size / 1e6:.1f} MB, "
        f"{time.perf_counter() - started:.0f} s)"
    )


@app.command("gazetteer")
def gazetteer(
    path: Annotated[Path | None, typer.Argument(help="a gazetteer CSV (default: the packaged one)")] = None,
) -> None:
    """Check a Haikou gazetteer file (智能填单的地名库): counts per district, or the first bad line."""
    from routing.assist.gazetteer import DISTRICTS, Gazetteer, GazetteerError, default_gazetteer_path

    target = path or default_gazetteer_path()
    places = _checked(target, Gazetteer.load, GazetteerError).places
    counts = ", ".join(f"{d} {sum(d in p.districts for p in places)}" for d in DISTRICTS)
    console.print(f"[green]ok[/green] {target}: {len(places)} places ({counts})")


@app.command("terms")
def terms(
    path: Annotated[Path | None, typer.Argument(help="a duty terms file (default: the packaged one)")] = None,
    text: Annotated[str | None, typer.Option(help="show how this request is read")] = None,
) -> None:
    """Check a citizen-word terms file (群众说法 → 职责用语): counts, or the first bad line."""
    from routing.reference import data_file
    from routing.suggest.duty_terms import DutyTerms, DutyTermsError

    target = path or data_file("duty_terms.yaml")
    loaded = _checked(target, DutyTerms.load, DutyTermsError)
    words = sum(len(t.said) for t in loaded.terms)
    console.print(f"[green]ok[/green] {target}: {len(loaded.terms)} lines, {words} citizen words")
    if text is not None:
        for official, said in loaded.found(text).items():
            console.print(f"「{said}」即「{official}」")


@app.command("aliases")
def aliases(
    path: Annotated[Path | None, typer.Argument(help="a unit names file (default: the packaged one)")] = None,
    text: Annotated[str | None, typer.Option(help="show which units this request names")] = None,
) -> None:
    """Check a file of the names callers use for units (单位俗称): counts, or the first bad line."""
    from routing.reference import data_file
    from routing.suggest.unit_aliases import UnitAliases, UnitAliasesError
    from routing.suggest.unit_model import leading_units

    target = path or data_file("unit_aliases.yaml")
    loaded = _checked(target, lambda file: UnitAliases.load(file, leading_units()), UnitAliasesError)
    console.print(
        f"[green]ok[/green] {target}: {len(loaded.names)} names of {len(set(loaded.names.values()))} units"
    )
    if text is not None:
        for code, name in loaded.named(text).items():
            console.print(f"「{name}」→ {code}")
