"""One running Asterisk instance: write its configuration, start it, wait until booted, ask it, stop it.

Asterisk runs in the sid chroot (``root``) or, where the host has its own, directly (``root`` None). Each
instance keeps its own etc/run/log/spool/db under /var/lib/hotline/<instance>, so the tests can start
theirs on free ports beside the main one. Trap: never run it with ``-U root`` (ASTdb then fails);
it runs as the package's ``asterisk`` user.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from telephony.config import SwitchConfig, render

ASTERISK = "/usr/sbin/asterisk"
SOUNDS_DIR = "/usr/share/asterisk/sounds/hotline"


# asterisk.conf says nocolor; an instance started without it still colours `queue show` (ESC [ ... m).
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class SwitchError(RuntimeError):
    pass


@dataclass
class Switch:
    config: SwitchConfig
    root: Path | None  # the chroot, or None for the host's own Asterisk

    def host_path(self, path: str) -> Path:
        """A path as seen from inside the chroot, translated to the host."""
        return self.root / path.lstrip("/") if self.root else Path(path)

    @property
    def _prefix(self) -> list[str]:
        return ["chroot", str(self.root)] if self.root else []

    @property
    def log_file(self) -> Path:
        return self.host_path(self.config.dirs.log) / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.host_path(self.config.dirs.run) / "asterisk.pid"

    def _owner(self) -> tuple[int, int]:
        passwd = (self.root / "etc/passwd") if self.root else Path("/etc/passwd")
        for line in passwd.read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if fields[0] == "asterisk":
                return int(fields[2]), int(fields[3])
        raise SwitchError(f"no 'asterisk' user in {passwd}")

    def write_config(self, *, sounds: Path | None = None) -> dict[str, str]:
        """Render every file into the instance's etc dir; create its directories owned by asterisk."""
        uid, gid = self._owner()
        for directory in (*self.config.dirs.all, self.config.monitor_dir):
            path = self.host_path(directory)
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, uid, gid)
        files = render(self.config)
        etc = self.host_path(self.config.dirs.etc)
        for name, text in files.items():
            target = etc / name
            target.write_text(text, encoding="utf-8")
            os.chmod(target, 0o640)
            os.chown(target, uid, gid)
        if sounds and sounds.is_dir():
            dest = self.host_path(SOUNDS_DIR)
            shutil.copytree(sounds, dest, dirs_exist_ok=True)
        return files

    def rx(self, command: str, *, timeout: float = 10.0, check: bool = True) -> str:
        """Run one CLI command on the running instance (``asterisk -rx``)."""
        run = subprocess.run(
            [*self._prefix, ASTERISK, "-C", self.config.asterisk_conf, "-rx", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and run.returncode != 0:
            raise SwitchError(f"asterisk -rx {command!r} failed: {run.stdout}{run.stderr}".strip())
        return ANSI_CODE.sub("", run.stdout)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def is_running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            return "Asterisk" in self.rx("core show version", timeout=5, check=False)
        except subprocess.TimeoutExpired:
            return False

    def start(self, *, boot_timeout: float = 30.0) -> float:
        """Start Asterisk in the background and wait until it is fully booted; returns the seconds taken."""
        if self.is_running():
            raise SwitchError(f"instance {self.config.instance} is already running (pid {self.pid()})")
        started = time.monotonic()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            # asterisk -f stays in the foreground; `setsid -f` runs it in a new session and returns at once,
            # so it outlives this process and leaves no child to reap. -U/-G: the package's unprivileged user.
            subprocess.run(
                [
                    "setsid",
                    "-f",
                    *self._prefix,
                    ASTERISK,
                    "-f",
                    "-U",
                    "asterisk",
                    "-G",
                    "asterisk",
                    "-C",
                    self.config.asterisk_conf,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )
        self.wait_booted(boot_timeout)
        return time.monotonic() - started

    def wait_booted(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            run = subprocess.run(
                [*self._prefix, ASTERISK, "-C", self.config.asterisk_conf, "-rx", "core waitfullybooted"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            if run.returncode == 0 and "fully booted" in run.stdout:
                return
            last = (run.stdout + run.stderr).strip()
            time.sleep(0.2)
        tail = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
        raise SwitchError(f"Asterisk did not boot within {timeout:.0f} s ({last})\n{tail}")

    def stop(self, *, timeout: float = 15.0) -> bool:
        """``core stop now``, then wait for the process to go; TERM/KILL as a last resort. False if not running."""
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.rx("core stop now", timeout=5, check=False)
        deadline = time.monotonic() + timeout
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return True
                time.sleep(0.1)
        return True

    def reload(self) -> None:
        """Re-read pjsip/queues/dialplan after the agents changed."""
        for command in ("module reload res_pjsip.so", "module reload app_queue.so", "dialplan reload"):
            self.rx(command)
