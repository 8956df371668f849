"""A throw-away Asterisk instance on free ports, for integration/e2e tests and benchmarks.

It shares the cached chroot with the main instance but has its own configuration, sockets, logs and
recordings (/var/lib/hotline/<instance>), so it runs beside a main Asterisk that is up.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from telephony.config import AgentAccount, SwitchConfig
from telephony.provision import SYSTEM_ASTERISK, ProvisionError, provision, why_cannot_build
from telephony.secrets import new_password
from telephony.switch import Switch

DEFAULT_ROOT = Path(os.environ.get("HOTLINE_ASTERISK_ROOT", "/var/cache/hotline/asterisk-root"))
DEFAULT_CACHE = Path(os.environ.get("HOTLINE_ASTERISK_CACHE_DIR", "/var/cache/hotline"))


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def why_no_asterisk(*, need: Sequence[str] = ("sipp", "sox")) -> str | None:
    """None when a test Asterisk can run here, else a clear reason to skip."""
    if not SYSTEM_ASTERISK.exists():
        reason = why_cannot_build()
        if reason:
            return reason
        if (
            not (DEFAULT_ROOT / "usr/sbin/asterisk").exists()
            and not (DEFAULT_CACHE / "asterisk-root-sid.tar.zst").exists()
            and shutil.which("debootstrap") is None
        ):
            return "no Asterisk chroot, no cached tarball and no debootstrap to build one"
    missing = [tool for tool in need if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (apt-get install sip-tester sox)"
    return None


@contextmanager
def running_switch(
    agents: Sequence[AgentAccount] = (),
    *,
    fastagi_port: int = 4573,
    keep_files: bool = False,
    **overrides: object,
) -> Iterator[Switch]:
    """Provision (cached), configure on free ports, start, yield, stop and remove the instance's files."""
    try:
        result = provision(DEFAULT_ROOT, DEFAULT_CACHE)
    except ProvisionError:
        raise
    instance = f"test{os.getpid()}x{random.randrange(10**6)}"
    rtp_base = 20000 + 200 * random.randrange(100)
    values: dict[str, object] = {
        "instance": instance,
        "ari_password": new_password(),
        "http_port": free_port(),
        "sip_port": free_port(socket.SOCK_DGRAM),
        "rtp_start": rtp_base,
        "rtp_end": rtp_base + 199,
        "fastagi_port": fastagi_port,
        "monitor_dir": f"/var/lib/hotline/{instance}/monitor",
        "agents": tuple(agents),
    }
    values.update(overrides)
    switch = Switch(SwitchConfig(**values), result.root)  # type: ignore[arg-type]
    switch.write_config()
    try:
        switch.start()
        yield switch
    finally:
        switch.stop()
        if not keep_files:
            shutil.rmtree(switch.host_path(switch.config.dirs.base), ignore_errors=True)
