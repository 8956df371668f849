"""The ``hotline`` command. Component commands (asterisk, ivr, asr, suggest, kb, recordings, users, callbacks)
plug in below; each receives what it works on from this root through Typer's context (``kernel.cli.parts``),
built on first use, so commands that need no database never open one."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

import agent_ui.cli
import analytics.cli
import analytics.demo.cli
import asr.cli
import ivr.cli
import recordings.cli
import routing.apikeys_cli
import routing.callback_cli
import routing.catalogue_cli
import routing.kb.cli
import routing.suggest.cli
import telephony.cli
from analytics.wiring import AnalyticsParts
from hotline import campaign
from hotline.bootstrap import App, bootstrap
from hotline.logs import configure_logging
from hotline.roles import ROLES, run_from_cli
from hotline.wiring import analytics_parts
from ivr.service import IvrServices
from kernel.cli import PartsProvider, parts
from kernel.core import Core
from kernel.settings import load_settings
from recordings.parts import RecordingsParts
from routing.parts import RoutingParts

app = typer.Typer(help="海口12345 热线系统 / Haikou 12345 hotline", no_args_is_help=True)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()

app.add_typer(telephony.cli.app, name="asterisk")
app.add_typer(ivr.cli.app, name="ivr")
app.add_typer(asr.cli.app, name="asr")
app.add_typer(routing.suggest.cli.app, name="suggest")
app.add_typer(routing.kb.cli.app, name="kb")
app.add_typer(recordings.cli.app, name="recordings")
app.add_typer(agent_ui.cli.app, name="users")
app.add_typer(routing.callback_cli.app, name="callbacks")
app.add_typer(routing.apikeys_cli.app, name="apikeys")
app.add_typer(routing.catalogue_cli.app, name="catalogue")
app.add_typer(analytics.cli.app, name="analytics")
app.add_typer(analytics.demo.cli.app, name="demo")
campaign.add_commands(routing.callback_cli.app)


@app.callback()
def root(ctx: typer.Context) -> None:
    """Everything a command may ask for, built on first use and closed when the command ends."""
    holder: dict[str, App] = {}

    def the_app() -> App:
        if "app" not in holder:
            settings = load_settings()
            configure_logging(settings)
            holder["app"] = bootstrap(settings)
        return holder["app"]

    def ivr_services() -> IvrServices:
        from hotline.wiring import ivr_services

        return ivr_services(the_app())

    ctx.obj = PartsProvider(
        {
            App: the_app,
            Core: lambda: the_app().core,
            RoutingParts: lambda: the_app().routing,
            RecordingsParts: lambda: the_app().recordings,
            AnalyticsParts: lambda: analytics_parts(the_app()),
            IvrServices: ivr_services,
        }
    )
    ctx.call_on_close(lambda: holder["app"].close() if "app" in holder else None)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the schema (SQLite file by default, or HOTLINE_DATABASE_URL)."""
    from hotline.migrate import upgrade

    hot = parts(ctx, Core)
    upgrade(hot.engine)
    console.print(f"[green]schema up to date[/green] ({hot.engine.url.render_as_string(hide_password=True)})")


@db_app.command("revision")
def db_revision(
    ctx: typer.Context,
    message: Annotated[str, typer.Option("-m", "--message")],
    branch: Annotated[str, typer.Option(help="component branch label, e.g. routing, telephony")] = "routing",
) -> None:
    """Autogenerate a migration for one component's branch."""
    from alembic import command

    from hotline.migrate import alembic_config

    command.revision(
        alembic_config(parts(ctx, Core).settings.resolved_database_url),
        message=message,
        autogenerate=True,
        head=f"{branch}@head",
    )


@app.command()
def seed(ctx: typer.Context) -> None:
    """Load the Haikou departments, duties, taxonomy, dispatch rules and urgent classes."""
    from hotline.migrate import upgrade
    from routing.reference import seed_all

    hot = parts(ctx, App)
    upgrade(hot.engine)
    with Progress(console=console) as progress:
        task = progress.add_task("seeding", total=4)

        def step(what: str) -> None:
            progress.update(task, advance=1, description=f"loading {what}")

        with hot.session_factory() as session, session.begin():
            report = seed_all(session, progress=step)
    console.print(
        f"units {report.units}, duties {report.duties}, categories {report.categories}, "
        f"dispatch rules {report.dispatch_rules}, urgent classes {report.urgent_classes}, "
        f"dispatch catalogue {report.catalogue_version or '-'}"
    )


@app.command("run")
def run(
    ctx: typer.Context,
    roles: Annotated[list[str], typer.Argument(help=f"{', '.join(ROLES)}, or all")],
) -> None:
    """Run process roles: `all` in one process, or some here and the rest elsewhere (needs the broker)."""
    run_from_cli(ctx, roles)


@app.command()
def scheduler(ctx: typer.Context) -> None:
    """Run the SLA scheduler (the scheduler role; several may run at once on PostgreSQL)."""
    run_from_cli(ctx, ["scheduler"], alone=True)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    with_scheduler: Annotated[bool, typer.Option("--scheduler/--no-scheduler")] = True,
) -> None:
    """Serve the web desk and the APIs (the web role; with the scheduler in the same process by default,
    and with telephony and the outbound campaign when HOTLINE_TELEPHONY_ENABLED is set)."""
    hot = parts(ctx, App)
    s = hot.settings
    if host:
        s.http_host = host
    if port:
        s.http_port = port
    names = ["web"] + (["scheduler"] if with_scheduler else [])
    if s.telephony_enabled:
        names += ["telephony"] + (["campaign"] if s.outbound_enabled else [])
    run_from_cli(ctx, names, alone=bool(s.broker_url))


@telephony.cli.app.command("demo-agents")
def demo_agents(ctx: typer.Context) -> None:
    """演示坐席 / SIP accounts for the web desk's demo agents, and how to dial in (``make run``)."""
    from agent_ui.roles import Role
    from agent_ui.users import DEMO_ACCOUNTS
    from telephony.setup import dial_in_text, ensure_demo_agents, reload_if_running

    hot = parts(ctx, Core)
    agents = [(username, name) for username, name, role in DEMO_ACCOUNTS if role == Role.AGENT]
    accounts = ensure_demo_agents(hot.session_factory, agents)
    reload_if_running(hot.settings, hot.session_factory)
    typer.echo(dial_in_text(hot.settings, accounts))


def main() -> None:
    logging.captureWarnings(True)
    app()


if __name__ == "__main__":
    main()
