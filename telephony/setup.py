"""From settings and the database to a configured Asterisk: the pieces ``hotline asterisk up`` composes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kernel.settings import Settings
from telephony.config import MAIN_MONITOR_DIR, AgentAccount, SwitchConfig
from telephony.orm import AgentRow
from telephony.provision import SYSTEM_ASTERISK
from telephony.secrets import load_or_create
from telephony.switch import Switch

MAIN_INSTANCE = "main"


def load_agents(factory: sessionmaker[Session]) -> list[AgentAccount]:
    """Every agent's SIP account; those not logged out are queue members from the start."""
    with factory() as session:
        rows = session.scalars(select(AgentRow).order_by(AgentRow.username)).all()
        return [
            AgentAccount(
                username=r.username,
                password=r.sip_password,
                name=r.name,
                skills=tuple(r.skills),
                logged_in=r.state != "logged_out",
                contact=r.contact,
            )
            for r in rows
        ]


def switch_config(
    settings: Settings, agents: list[AgentAccount], *, instance: str = MAIN_INSTANCE, **overrides: object
) -> SwitchConfig:
    """The main instance's configuration: ports from settings, the ARI password from the secrets file.

    ``HOTLINE_RTP_START``/``HOTLINE_RTP_END`` set the media port range (default 10000-10999);
    ``HOTLINE_UNIT_TRUNK`` the SIP URI of the carrier/SBC that reaches outside numbers (transfers to units).
    """
    ari = urlsplit(settings.ari_url)
    secrets = load_or_create(settings.data_dir, ari_password_override=settings.ari_password)
    values: dict[str, object] = {
        "instance": instance,
        "ari_password": secrets.ari_password,
        "ari_user": settings.ari_user,
        "ari_app": settings.ari_app,
        "http_host": ari.hostname or "127.0.0.1",
        "http_port": ari.port or 8088,
        "sip_port": settings.sip_port,
        "rtp_start": int(os.environ.get("HOTLINE_RTP_START", "10000")),
        "rtp_end": int(os.environ.get("HOTLINE_RTP_END", "10999")),
        "fastagi_host": settings.fastagi_host,
        "fastagi_port": settings.fastagi_port,
        "monitor_dir": MAIN_MONITOR_DIR,
        "unit_trunk": os.environ.get("HOTLINE_UNIT_TRUNK") or None,
        "agents": tuple(agents),
    }
    values.update(overrides)
    return SwitchConfig(**values)  # type: ignore[arg-type]


def asterisk_root(settings: Settings) -> Path | None:
    """None when the host has its own Asterisk (used as is), else the chroot."""
    return None if SYSTEM_ASTERISK.exists() else settings.asterisk_root


def ivr_sounds() -> Path | None:
    """The IVR's prompts to copy into Asterisk (``HOTLINE_IVR_SOUNDS``), when set and present."""
    value = os.environ.get("HOTLINE_IVR_SOUNDS")
    return Path(value) if value and Path(value).is_dir() else None


def main_switch(settings: Settings, agents: list[AgentAccount]) -> Switch:
    return Switch(switch_config(settings, agents), asterisk_root(settings))


# Demo agents when the caller names none (the roof passes the web desk's demo agents).
# The SIP username must equal the desk username: the screen pop goes to the desk of the agent whose
# endpoint answered (``PJSIP/agent1-...`` -> desk user ``agent1``).
FALLBACK_DEMO_AGENTS: tuple[tuple[str, str], ...] = (("agent1", "话务员 小林"),)


def ensure_demo_agents(
    factory: sessionmaker[Session], desk_agents: Sequence[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """A SIP account for each demo desk agent, logged in to every queue; returns (username, SIP password).

    Accounts that exist are kept with their password (returned too, so ``make run`` can show how to dial
    in each time); new ones get a generated password (telephony/secrets.py), never a shipped default."""
    from telephony.agents import SKILLS, AgentDesk, RecordingCli

    desk = AgentDesk(factory, RecordingCli([]))  # the switch renders members from the table when it starts
    existing = {row.username: row for row in desk.all()}
    accounts = []
    for username, name in desk_agents if desk_agents is not None else FALLBACK_DEMO_AGENTS:
        row = existing.get(username)
        if row is None:
            row = desk.create(username, name, list(SKILLS))
            desk.login(username, datetime.now(UTC))
        accounts.append((row.username, row.sip_password))
    return accounts


def dial_in_text(settings: Settings, accounts: Sequence[tuple[str, str]]) -> str:
    """How to reach the switch with a SIP softphone: as a citizen (no account) and as each agent."""
    server = f"127.0.0.1:{settings.sip_port}"
    lines = [
        "拨入 / Dial in (SIP over UDP, e.g. baresip, Linphone, MicroSIP on this machine):",
        f"  市民 / citizen: no account needed, call sip:12345@{server}",
        "  坐席 / agents: register, then log in to the web desk with the same user name",
    ]
    lines += [f"    server {server}  user {user}  password {password}" for user, password in accounts]
    lines.append(
        f"  e.g. baresip account line: <sip:USER@127.0.0.1>;auth_pass=PASSWORD;outbound=sip:{server}"
    )
    lines.append(
        "  坐席须在工作台设为「就绪」才会振铃 / an agent's phone rings only once they are 就绪 (ready) on the desk"
    )
    lines.append("  demo call / 演示: .venv/bin/python scripts/demo_call.py --agent USER --password PASSWORD")
    return "\n".join(lines)


def reload_if_running(settings: Settings, factory: sessionmaker[Session]) -> bool:
    """Render the agents into the running main switch and reload it; False when it is not running."""
    switch = main_switch(settings, load_agents(factory))
    if not switch.is_running():
        return False
    switch.write_config(sounds=ivr_sounds())
    switch.reload()
    return True
