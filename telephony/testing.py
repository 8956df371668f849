"""A throw-away Asterisk instance on free ports, for integration/e2e tests and benchmarks.

It shares the cached chroot with the main instance but has its own configuration, sockets, logs and
recordings (/var/lib/hotline/<instance>), so it runs beside a main Asterisk that is up.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ivr.fastagi import AgiRequest, SessionHandler
from ivr.port import CallPort
from ivr.typeahead import answer_in
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
    sounds: Path | None = None,
    **overrides: object,
) -> Iterator[Switch]:
    """Provision (cached), configure on free ports, start, yield, stop and remove the instance's files.

    ``sounds``: a directory of IVR prompts to install (see :func:`cached_ivr_sounds`)."""
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
    switch.write_config(sounds=sounds)
    try:
        switch.start()
        yield switch
    finally:
        switch.stop()
        if not keep_files:
            shutil.rmtree(switch.host_path(switch.config.dirs.base), ignore_errors=True)


def cached_ivr_sounds() -> Path:
    """The IVR's prompts, generated once into the cache (espeak-ng + sox; unchanged prompts are kept)."""
    from ivr.prompts import build_prompts

    out = DEFAULT_CACHE / "ivr-sounds-test"
    build_prompts(out)
    return out


@dataclass
class IvrStep:
    kind: str  # "play", "ask", "got", "set"; "skip" a prompt, "ahead" an answer: keys typed ahead
    what: str
    value: str | None = None


class IvrProbe:
    """Watches what the real IVR does on each call (by caller number), for end-to-end tests.

    It wraps the real FastAGI session's call port: every prompt, every key request and its answer, every
    variable set goes through unchanged and is also noted, so a test can press a key exactly when the IVR asks
    for one (RFC 4733 from a real SIP user agent) and assert on what the IVR did, not on logs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.steps: dict[str, list[IvrStep]] = {}

    def note(self, caller: str, step: IvrStep) -> None:
        with self._lock:
            self.steps.setdefault(caller, []).append(step)

    def of(self, caller: str) -> list[IvrStep]:
        with self._lock:
            return list(self.steps.get(caller, []))

    def wrap(self, handlers: Mapping[str, SessionHandler]) -> dict[str, SessionHandler]:
        def wrapped(handler: SessionHandler) -> SessionHandler:
            def run(port: CallPort, request: AgiRequest) -> None:
                caller = request.env.get("agi_callerid", "")
                handler(_ProbedPort(port, caller, self), request)

            return run

        return {name: wrapped(h) for name, h in handlers.items()}

    async def wait_ask(self, caller: str, index: int, *, within: float = 60.0) -> str:
        """The prompt of the ``index``-th key request (0-based) on this caller's IVR session."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            asks = [s for s in self.of(caller) if s.kind == "ask"]
            if len(asks) > index:
                return asks[index].what
            if loop.time() > deadline:
                raise TimeoutError(f"the IVR did not ask {caller} for key #{index + 1}: {self.of(caller)}")
            await asyncio.sleep(0.05)

    def answered(self, caller: str, index: int) -> str | None:
        """What the IVR read for the ``index``-th request; None while it still waits."""
        got = [s for s in self.of(caller) if s.kind == "got"]
        return got[index].value or "" if len(got) > index else None

    async def press(
        self,
        caller: str,
        index: int,
        keys: str,
        send: Callable[[str], Awaitable[None]],
        *,
        within: float = 60.0,
    ) -> str:
        """Wait for the ``index``-th key request, press ``keys`` once, one by one; return what the IVR read.

        Each key is pressed once: the switch keeps every key (StoreDTMF, ``ivr.typeahead``), so a key that
        arrives between two AGI commands still answers the question."""
        await self.wait_ask(caller, index, within=within)
        for key in keys:
            await send(key)
            await asyncio.sleep(0.15)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            value = self.answered(caller, index)
            if value is not None:
                return value
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the IVR did not read {keys!r} from {caller}: {self.of(caller)}")

    async def wait_route(self, caller: str, *, within: float = 60.0) -> str:
        """The route the IVR chose for this caller (HOTLINE_ROUTE), once it set it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            route = self.variables(caller).get("HOTLINE_ROUTE")
            if route is not None:
                return route
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the IVR did not route {caller}: {self.of(caller)}")

    def skipped(self, caller: str) -> list[str]:
        """Prompts the IVR did not play because the caller had already keyed ahead."""
        return [s.what for s in self.of(caller) if s.kind == "skip"]

    def played(self, caller: str) -> list[str]:
        return [s.what for s in self.of(caller) if s.kind in ("play", "ask")]

    def variables(self, caller: str) -> dict[str, str]:
        return {s.what: s.value or "" for s in self.of(caller) if s.kind == "set"}


@dataclass
class _ProbedPort:
    port: CallPort
    caller: str
    probe: IvrProbe

    def play(self, prompt: str) -> None:
        ahead = self.port.pending()  # the port skips a prompt while keys typed ahead wait
        self.probe.note(self.caller, IvrStep("skip" if ahead else "play", prompt))
        self.port.play(prompt)

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        if answer_in(self.port.pending(), max_digits) is not None:  # answered by keys typed ahead
            keys = self.port.read_digits(prompt, max_digits, timeout_ms)
            self.probe.note(self.caller, IvrStep("ahead", prompt, keys or ""))
            return keys
        self.probe.note(self.caller, IvrStep("ask", prompt))
        keys = self.port.read_digits(prompt, max_digits, timeout_ms)
        self.probe.note(self.caller, IvrStep("got", prompt, keys or ""))
        return keys

    def pending(self) -> str:
        return self.port.pending()

    def set_variable(self, name: str, value: str) -> None:
        self.probe.note(self.caller, IvrStep("set", name, value))
        self.port.set_variable(name, value)

    def hangup(self) -> None:
        self.port.hangup()
