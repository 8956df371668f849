"""The ``hotline`` command. Component commands (asterisk, ivr, asr, suggest, kb, recordings) plug in below."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from hotline.bootstrap import bootstrap
from kernel.settings import load_settings

app = typer.Typer(help="海口12345 热线系统 / Haikou 12345 hotline", no_args_is_help=True)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()

# (command name, module with a Typer ``app``) for each component that adds commands of its own.
COMPONENT_COMMANDS = (
    ("asterisk", "telephony.cli"),
    ("ivr", "ivr.cli"),
    ("asr", "asr.cli"),
    ("suggest", "routing.suggest.cli"),
    ("kb", "routing.kb.cli"),
    ("recordings", "recordings.cli"),
    ("users", "agent_ui.cli"),
    ("callbacks", "routing.callback_cli"),
)


def _register_components() -> None:
    for name, module in COMPONENT_COMMANDS:
        parent = module.rsplit(".", 1)[0]
        if importlib.util.find_spec(parent) is None or importlib.util.find_spec(module) is None:
            continue
        sub = importlib.import_module(module)
        app.add_typer(sub.app, name=name)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema (SQLite file by default, or HOTLINE_DATABASE_URL)."""
    from hotline.migrate import upgrade

    hot = bootstrap()
    upgrade(hot.engine)
    console.print(f"[green]schema up to date[/green] ({hot.engine.url.render_as_string(hide_password=True)})")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message")],
    branch: Annotated[str, typer.Option(help="component branch label, e.g. routing, telephony")] = "routing",
) -> None:
    """Autogenerate a migration for one component's branch."""
    from alembic import command

    from hotline.migrate import alembic_config

    hot = bootstrap()
    command.revision(
        alembic_config(hot.settings.resolved_database_url),
        message=message,
        autogenerate=True,
        head=f"{branch}@head",
    )


@app.command()
def seed() -> None:
    """Load the Haikou departments, duties, taxonomy, dispatch rules and urgent classes."""
    from hotline.migrate import upgrade
    from routing.reference import seed_all

    hot = bootstrap()
    upgrade(hot.engine)
    with Progress(console=console) as progress:
        task = progress.add_task("seeding", total=4)

        def step(what: str) -> None:
            progress.update(task, advance=1, description=f"loading {what}")

        with hot.session_factory() as session, session.begin():
            report = seed_all(session, progress=step)
    console.print(
        f"units {report.units}, duties {report.duties}, categories {report.categories}, "
        f"dispatch rules {report.dispatch_rules}, urgent classes {report.urgent_classes}"
    )


@app.command()
def scheduler() -> None:
    """Run the SLA scheduler (several may run at once on PostgreSQL)."""
    logging.basicConfig(level=logging.INFO)
    hot = bootstrap()
    stop = threading.Event()
    try:
        hot.scheduler.run_forever(stop, hot.settings.scheduler_poll_seconds)
    except KeyboardInterrupt:
        stop.set()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    with_scheduler: Annotated[bool, typer.Option("--scheduler/--no-scheduler")] = True,
) -> None:
    """Serve the web desk and the APIs (with the SLA scheduler in the same process by default)."""
    import uvicorn

    from hotline.web import create_web_app

    logging.basicConfig(level=logging.INFO)
    settings = load_settings()
    hot = bootstrap(settings)
    web = create_web_app(hot, run_scheduler=with_scheduler)
    uvicorn.run(web, host=host or settings.http_host, port=port or settings.http_port, log_level="info")


def main() -> None:
    _register_components()
    app()


if __name__ == "__main__":
    main()
