"""``hotline kb``: load the seed articles (or your own YAML files) and search from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="知识库 / knowledge base", no_args_is_help=True)
console = Console()


@app.command()
def load(
    directory: Annotated[Path | None, typer.Argument(help="a folder of article YAML files")] = None,
) -> None:
    """Create new articles and add a version to changed ones (by key); unchanged ones are left alone."""
    from hotline.bootstrap import bootstrap
    from hotline.migrate import upgrade
    from kernel.db import transaction
    from routing.kb import repository
    from routing.kb.seed import read_seed

    hot = bootstrap()
    upgrade(hot.engine)
    articles = read_seed(directory)
    with console.status(f"loading {len(articles)} articles"), transaction(hot.session_factory) as session:
        created, revised, same = repository.load(session, articles, hot.clock.now(), "cli")
    console.print(f"[green]{created} created, {revised} revised, {same} unchanged[/green]")


@app.command()
def search(query: str, k: Annotated[int, typer.Option("-k", "--top", help="how many answers")] = 5) -> None:
    """Search the articles in force today."""
    from hotline.bootstrap import bootstrap
    from routing.kb.service import KnowledgeBase

    hot = bootstrap()
    kb = KnowledgeBase(hot.session_factory, hot.clock)
    hits = kb.search(query, k)
    if not hits:
        console.print("没有找到相关条目 / no article found")
    for hit in hits:
        a = hit.article
        console.print(f"[bold]{a.title}[/bold]  (#{a.id} v{a.version}, {hit.score:.2f}, {a.unit_name})")
        console.print(f"  匹配: {'、'.join(hit.matched)}")
        console.print(f"  {a.body[:120]}…", markup=False)
