"""Provisioning Asterisk where the machine has none.

Debian bookworm ships no ``asterisk`` package; Debian sid has Asterisk 22 and runs from a debootstrap chroot
with no systemd, Docker or mounts. The finished chroot is cached as a zstd tarball (``~140 MB``, unpacks in
about two seconds) because sid moves: the cache pins what the tests ran against, and the recorded
``dpkg -l asterisk`` version makes a change visible. Where the host has its own Asterisk (e.g. Ubuntu's
package at ``/usr/sbin/asterisk``) that one is used and nothing is built.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telephony.chroot_user import separate_asterisk_user

SYSTEM_ASTERISK = Path("/usr/sbin/asterisk")
TARBALL_NAME = "asterisk-root-sid.tar.zst"
VERSION_FILE = "asterisk-root.version"
# Asterisk 22 and the English GSM prompts (the IVR's own prompts are copied in by ``up``).
PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm")
SUITE = "sid"

Step = Callable[[str], None]


class ProvisionError(RuntimeError):
    """Asterisk cannot be provisioned here (not root, no debootstrap, no mirror...)."""


@dataclass(frozen=True)
class Provisioned:
    """Where Asterisk lives: ``root`` is the chroot, or None for the host's own Asterisk."""

    root: Path | None
    version: str
    seconds: float
    how: str  # "system", "existing", "tarball" or "debootstrap"


def debian_mirror(
    sources_dir: Path = Path("/etc/apt/sources.list.d"), sources_list: Path = Path("/etc/apt/sources.list")
) -> str:
    """The Debian mirror this machine's apt already uses (never a hard-coded host).

    Reads deb822 ``*.sources`` files first, then the one-line format; skips the security archive, whose
    layout differs from a full mirror's.
    """
    candidates: list[str] = []
    if sources_dir.is_dir():
        for path in sorted(sources_dir.glob("*.sources")):
            for stanza in path.read_text(encoding="utf-8").split("\n\n"):
                fields = dict(
                    line.split(":", 1)
                    for line in stanza.splitlines()
                    if ":" in line and not line.startswith("#")
                )
                uris = fields.get("URIs", "").split()
                if "deb" in fields.get("Types", "").split():
                    candidates.extend(uris)
    if sources_list.is_file():
        for line in sources_list.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)", line)
            if match:
                candidates.append(match.group(1))
    for uri in candidates:
        if "security" not in uri:
            return uri.rstrip("/")
    raise ProvisionError(
        "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
    )


def why_cannot_build() -> str | None:
    """None when a chroot can be built or used here, else the reason (for skips and error messages)."""
    if os.geteuid() != 0:
        return "provisioning Asterisk needs root (chroot, debootstrap)"
    return None


def chroot_version(root: Path) -> str:
    """``dpkg -l asterisk`` inside the chroot: the exact Debian version that will run."""
    out = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f=${Version}", "asterisk"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "unknown"


def system_version() -> str:
    out = subprocess.run([str(SYSTEM_ASTERISK), "-V"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def build_chroot(root: Path, cache_dir: Path, *, mirror: str | None = None, step: Step | None = None) -> str:
    """debootstrap a sid chroot with Asterisk at ``root`` and cache it as a tarball; returns the version."""
    say = step or (lambda _msg: None)
    reason = why_cannot_build()
    if reason:
        raise ProvisionError(reason)
    if shutil.which("debootstrap") is None:
        raise ProvisionError("debootstrap is not installed (apt-get install debootstrap)")
    mirror = mirror or debian_mirror()
    staging = root.with_name(root.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    say(f"debootstrap {SUITE} from {mirror}")
    run = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(staging), mirror],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        tail = "\n".join((run.stdout + run.stderr).splitlines()[-15:])
        raise ProvisionError(f"debootstrap failed ({run.returncode}):\n{tail}")
    for deb in (staging / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    version = chroot_version(staging)
    say(f"asterisk {version}; packing the cache")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / TARBALL_NAME
    partial = tarball.with_suffix(".partial")
    subprocess.run(
        ["tar", "--zstd", "-C", str(staging), "-cf", str(partial), "."],
        check=True,
        capture_output=True,
    )
    partial.replace(tarball)
    (cache_dir / VERSION_FILE).write_text(version + "\n", encoding="utf-8")
    shutil.rmtree(root, ignore_errors=True)
    staging.replace(root)
    return version


def unpack_chroot(root: Path, cache_dir: Path) -> str:
    tarball = cache_dir / TARBALL_NAME
    staging = root.with_name(root.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    subprocess.run(
        ["tar", "--zstd", "-C", str(staging), "-xf", str(tarball)], check=True, capture_output=True
    )
    shutil.rmtree(root, ignore_errors=True)
    staging.replace(root)
    return chroot_version(root)


def provision(
    root: Path, cache_dir: Path, *, use_system: bool = True, rebuild: bool = False, step: Step | None = None
) -> Provisioned:
    """Make sure an Asterisk is there: the host's, the chroot, the cached tarball, or a fresh build."""
    started = time.monotonic()
    if use_system and SYSTEM_ASTERISK.exists() and not rebuild:
        return Provisioned(None, system_version(), time.monotonic() - started, "system")
    reason = why_cannot_build()
    if reason:
        raise ProvisionError(reason)
    if (root / "usr/sbin/asterisk").exists() and not rebuild:
        how, version = "existing", chroot_version(root)
    elif (cache_dir / TARBALL_NAME).exists() and not rebuild:
        if step:
            step(f"unpacking {cache_dir / TARBALL_NAME}")
        how, version = "tarball", unpack_chroot(root, cache_dir)
    else:
        how, version = "debootstrap", build_chroot(root, cache_dir, step=step)
    separate_asterisk_user(root)
    return Provisioned(root, version, time.monotonic() - started, how)
