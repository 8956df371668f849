"""Per-installation secrets of the telephony edge (ARI password), generated once, never shipped.

Kept in ``<data_dir>/telephony-secrets.json`` with mode 0600. ``HOTLINE_ARI_PASSWORD`` (settings.ari_password)
wins when set. Agents' SIP passwords live with the agents (telephony/orm.py), also generated.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "telephony-secrets.json"


def new_password() -> str:
    # Letters and digits only: the value goes into Asterisk .conf files and SIP digest headers unquoted.
    return secrets.token_hex(16)


@dataclass(frozen=True)
class TelephonySecrets:
    ari_password: str


def load_or_create(data_dir: Path, *, ari_password_override: str = "") -> TelephonySecrets:
    path = data_dir / FILE_NAME
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    if not stored.get("ari_password"):
        stored["ari_password"] = new_password()
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(stored, out, indent=2)
    os.chmod(path, 0o600)
    return TelephonySecrets(ari_password=ari_password_override or stored["ari_password"])
