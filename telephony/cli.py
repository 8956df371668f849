"""``hotline asterisk provision|up|down|status``: the switch of the hotline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from kernel.cli import parts
from kernel.core import Core
from kernel.settings import Settings
from telephony.agents import SKILLS, AgentDesk, AgentError, QueueCli, RecordingCli
from telephony.provision import ProvisionError, provision
from telephony.setup import (
    asterisk_root,
    dial_in_text,
    ivr_sounds,
    load_agents,
    main_switch,
    reload_if_running,
)
from telephony.switch import SwitchError

app = typer.Typer(help="电话交换机 Asterisk / the Asterisk switch", no_args_is_help=True)
console = Console()


@app.command("provision")
def provision_cmd(
    rebuild: Annotated[bool, typer.Option(help="build the chroot again even if cached")] = False,
) -> None:
    """准备 Asterisk / Build or unpack the Asterisk chroot (cached tarball; CI caches its directory)."""
    from kernel.settings import load_settings

    settings = load_settings()
    try:
        with console.status("provisioning Asterisk …") as status:
            result = provision(
                settings.asterisk_root,
                settings.asterisk_cache_dir,
                rebuild=rebuild,
                step=lambda msg: status.update(msg),
            )
    except ProvisionError as exc:
        console.print(f"[red]无法准备 Asterisk / cannot provision Asterisk:[/red] {exc}")
        raise typer.Exit(1) from exc
    where = result.root or "host (/usr/sbin/asterisk)"
    console.print(f"asterisk {result.version} — {where} — {result.how} in {result.seconds:.1f} s")


@app.command()
def up(ctx: typer.Context) -> None:
    """启动 / Provision if needed, render the configuration from the database, start and wait until booted."""
    hot = parts(ctx, Core)
    settings = hot.settings
    try:
        result = provision(settings.asterisk_root, settings.asterisk_cache_dir)
        switch = main_switch(settings, load_agents(hot.session_factory))
        switch.write_config(sounds=ivr_sounds())
        if switch.is_running():
            # An earlier run left it behind (or another terminal started it): adopt it, with this run's
            # configuration, rather than fail and run without telephony.
            switch.reload()
            console.print(
                f"[green]Asterisk 已在运行，已接管并重新加载配置 / already running: adopted[/green] "
                f"(pid {switch.pid()}; configuration reloaded)"
            )
            return
        seconds = switch.start()
    except (ProvisionError, SwitchError) as exc:
        console.print(f"[red]启动失败 / start failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    cfg = switch.config
    console.print(
        f"[green]Asterisk {result.version} 已启动 / up[/green] in {seconds:.1f} s "
        f"(pid {switch.pid()}): SIP udp {cfg.sip_host}:{cfg.sip_port}, "
        f"ARI http://{cfg.http_host}:{cfg.http_port}/ari app '{cfg.ari_app}', "
        + (
            f"{len(cfg.agents)} agent SIP account(s)"
            if cfg.agents
            else "no agent SIP accounts yet (`hotline asterisk agent add`, or `demo-agents` for the demo desk)"
        )
    )


@app.command()
def down(ctx: typer.Context) -> None:
    """停止 / Stop Asterisk (core stop now)."""
    hot = parts(ctx, Core)
    switch = main_switch(hot.settings, [])
    if switch.stop():
        console.print("[green]Asterisk 已停止 / stopped[/green]")
    else:
        console.print("Asterisk 未运行 / was not running")


@app.command()
def status(ctx: typer.Context) -> None:
    """状态 / Is Asterisk running, which version, which ports, queues."""
    hot = parts(ctx, Core)
    settings = hot.settings
    root = asterisk_root(settings)
    switch = main_switch(settings, [])
    table = Table(show_header=False)
    table.add_row("root", str(root or "host"))
    version_file = settings.asterisk_cache_dir / "asterisk-root.version"
    if root and version_file.exists():
        table.add_row("cached version", version_file.read_text().strip())
    running = switch.is_running()
    table.add_row("running", f"yes (pid {switch.pid()})" if running else "no")
    if running:
        table.add_row("uptime", switch.rx("core show uptime seconds").strip().replace("\n", "; "))
        table.add_row("SIP", f"udp {switch.config.sip_host}:{switch.config.sip_port}")
        table.add_row("ARI", f"http://{switch.config.http_host}:{switch.config.http_port}/ari")
        queues = [
            line.split(" has ")[0] + ": " + line.split(" has ")[1].split(" in ")[0]
            for line in switch.rx("queue show").splitlines()
            if " has " in line and "calls" in line
        ]
        table.add_row("queues", "; ".join(queues))
    console.print(table)
    if not running:
        raise typer.Exit(3)


agent_app = typer.Typer(help="坐席账号 / agents' SIP accounts", no_args_is_help=True)
app.add_typer(agent_app, name="agent")


def _desk_and_switch(ctx: typer.Context) -> tuple[AgentDesk, Settings, sessionmaker[Session]]:
    hot = parts(ctx, Core)
    settings = hot.settings
    switch = main_switch(settings, load_agents(hot.session_factory))
    cli: QueueCli = switch if switch.is_running() else RecordingCli([])
    return AgentDesk(hot.session_factory, cli), settings, hot.session_factory


@agent_app.command("add")
def agent_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="SIP user = web desk user, e.g. agent1001")],
    name: Annotated[str, typer.Option(help="display name, e.g. 话务员 小林")],
    skills: Annotated[str, typer.Option(help="comma-separated: consultation,complaint,urgent")] = ",".join(
        SKILLS
    ),
    contact: Annotated[str | None, typer.Option(help="fixed SIP URI instead of registration")] = None,
    login: Annotated[bool, typer.Option(help="a queue member at once")] = True,
) -> None:
    """新增坐席 / Create an agent's SIP account; the password is printed once."""
    desk, settings, factory = _desk_and_switch(ctx)
    try:
        row = desk.create(
            username, name, [s.strip() for s in skills.split(",") if s.strip()], contact=contact
        )
    except AgentError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    reloaded = reload_if_running(settings, factory)
    if login:
        desk.login(username, datetime.now(UTC))
    console.print(f"坐席 / agent [bold]{row.username}[/bold] ({row.name}): skills {', '.join(row.skills)}")
    console.print(f"SIP 密码 / password (shown once): [bold]{row.sip_password}[/bold]")
    typer.echo(dial_in_text(settings, [(row.username, row.sip_password)]))
    if not reloaded:
        console.print("Asterisk 未运行 / not running: the account is rendered by `hotline asterisk up`.")


@agent_app.command("list")
def agent_list(ctx: typer.Context) -> None:
    """坐席列表 / Agents, skills and states (no passwords)."""
    desk, _settings, _factory = _desk_and_switch(ctx)
    table = Table("username", "name", "skills", "state", "since")
    for row in desk.all():
        since = row.state_changed_at.isoformat(timespec="seconds") if row.state_changed_at else ""
        state = f"{row.state} ({row.pause_reason})" if row.pause_reason else row.state
        table.add_row(row.username, row.name, ",".join(row.skills), state, since)
    console.print(table)


@agent_app.command("remove")
def agent_remove(ctx: typer.Context, username: str) -> None:
    """删除坐席 / Remove an agent's SIP account (they leave their queues first)."""
    desk, settings, factory = _desk_and_switch(ctx)
    try:
        desk.remove(username)
    except AgentError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    reload_if_running(settings, factory)
    console.print(f"坐席 / agent {username} removed")
