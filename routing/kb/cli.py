"""``hotline kb``: load the seed articles (or your own YAML files) and search from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kernel.cli import parts
from routing.parts import RoutingParts

app = typer.Typer(help="知识库 / knowledge base", no_args_is_help=True)
console = Console()


@app.command()
def load(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(help="a folder of article YAML files")] = None,
) -> None:
    """Create new articles and add a version to changed ones (by key); unchanged ones are left alone."""
    from kernel.db import transaction
    from routing.kb import repository
    from routing.kb.seed import read_seed

    hot = parts(ctx, RoutingParts)
    articles = read_seed(directory)
    with console.status(f"loading {len(articles)} articles"), transaction(hot.session_factory) as session:
        created, revised, same = repository.load(session, articles, hot.clock.now(), "cli")
    console.print(f"[green]{created} created, {revised} revised, {same} unchanged[/green]")


@app.command()
def search(
    ctx: typer.Context,
    query: str,
    k: Annotated[int, typer.Option("-k", "--top", help="how many answers")] = 5,
) -> None:
    """Search the articles in force today."""
    hits = parts(ctx, RoutingParts).kb.search(query, k)
    if not hits:
        console.print("没有找到相关条目 / no article found")
    for hit in hits:
        a = hit.article
        console.print(f"[bold]{a.title}[/bold]  (#{a.id} v{a.version}, {hit.score:.2f}, {a.unit_name})")
        console.print(f"  匹配: {'、'.join(hit.matched)}")
        console.print(f"  {a.body[:120]}…", markup=False)
