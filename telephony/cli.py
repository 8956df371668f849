"""``hotline asterisk provision|up|down|status``: the switch of the hotline."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hotline.bootstrap import bootstrap
from telephony.provision import ProvisionError, provision
from telephony.setup import asterisk_root, ivr_sounds, load_agents, main_switch
from telephony.switch import SwitchError

app = typer.Typer(help="电话交换机 Asterisk / the Asterisk switch", no_args_is_help=True)
console = Console()


@app.command("provision")
def provision_cmd(
    rebuild: Annotated[bool, typer.Option(help="build the chroot again even if cached")] = False,
) -> None:
    """准备 Asterisk / Build or unpack the Asterisk chroot (cached tarball; CI caches its directory)."""
    from hotline.settings import load_settings

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
def up() -> None:
    """启动 / Provision if needed, render the configuration from the database, start and wait until booted."""
    hot = bootstrap()
    settings = hot.settings
    try:
        result = provision(settings.asterisk_root, settings.asterisk_cache_dir)
        from hotline.migrate import upgrade

        upgrade(hot.engine)
        switch = main_switch(settings, load_agents(hot.session_factory))
        switch.write_config(sounds=ivr_sounds())
        seconds = switch.start()
    except (ProvisionError, SwitchError) as exc:
        console.print(f"[red]启动失败 / start failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    cfg = switch.config
    console.print(
        f"[green]Asterisk {result.version} 已启动 / up[/green] in {seconds:.1f} s "
        f"(pid {switch.pid()}): SIP udp {cfg.sip_host}:{cfg.sip_port}, "
        f"ARI http://{cfg.http_host}:{cfg.http_port}/ari app '{cfg.ari_app}', "
        f"{len(cfg.agents)} agent account(s)"
    )


@app.command()
def down() -> None:
    """停止 / Stop Asterisk (core stop now)."""
    hot = bootstrap()
    switch = main_switch(hot.settings, [])
    if switch.stop():
        console.print("[green]Asterisk 已停止 / stopped[/green]")
    else:
        console.print("Asterisk 未运行 / was not running")


@app.command()
def status() -> None:
    """状态 / Is Asterisk running, which version, which ports, queues."""
    hot = bootstrap()
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
