"""From settings and the database to a configured Asterisk: the pieces ``hotline asterisk up`` composes."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.settings import Settings
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

    ``HOTLINE_RTP_START``/``HOTLINE_RTP_END`` set the media port range (default 10000-10999).
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
