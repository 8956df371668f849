"""baresip as a headless, scriptable SIP user agent for end-to-end tests: a citizen who presses keys when the
IVR asks, an agent's softphone that registers and answers on its own, an outside unit's phone.

baresip 1.0 (Debian ``baresip-core``) is driven through its ``ctrl_tcp`` module: netstring-framed JSON
commands (``{"command": "dial", "params": "sip:12345@127.0.0.1:5060", "token": "7"}``) answered with
``{"response": true, "ok": true, "token": "7"}``, and events (``{"event": true, "type": "CALL_ESTABLISHED"}``)
on the same connection. ``sndcode`` sends one key as an RFC 4733 telephone-event, which the endpoints'
``dtmf_mode = rfc4733`` expects. Known traps: ``net_interface lo`` breaks it; the audio source must be a WAV
(``aufile``); nothing is played out (``aubridge,nil``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # reginfo colours its states

MODULES_DIR = "/usr/lib/baresip/modules"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_sip_port() -> int:
    """A port free for UDP and TCP whose successor is free for TCP: baresip listens for SIP on UDP and TCP at
    ``sip_listen`` and for SIP over TLS one port above it."""
    for _ in range(50):
        port = free_udp_port()
        if port >= 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, socket.socket() as tls:
            try:
                tcp.bind(("127.0.0.1", port))
                tls.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def why_no_baresip() -> str | None:
    if shutil.which("baresip") is None:
        return "baresip is not installed (apt-get install baresip-core)"
    if not Path(MODULES_DIR, "ctrl_tcp.so").exists():
        return f"baresip's ctrl_tcp module is missing under {MODULES_DIR}"
    return None


@dataclass(frozen=True)
class UaAccount:
    """``user@domain``; with ``password`` it registers at ``registrar`` (an agent), without it it only calls."""

    user: str
    domain: str = "127.0.0.1"
    password: str | None = None
    registrar: str | None = None  # host:port of the switch's SIP transport
    auto_answer: bool = False

    def line(self) -> str:
        domain, params = self.domain, ["regint=0"]
        if self.password is not None and self.registrar is not None:
            domain, params = self.registrar, [f"auth_pass={self.password}", "regint=60"]
        if self.auto_answer:
            params.append("answermode=auto")
        return f"<sip:{self.user}@{domain}>;" + ";".join(params)


def to_wav8k(wav: Path, out: Path, *, pad_seconds: int = 300) -> Path:
    """baresip's ``aufile`` source plays only 8 kHz mono 16-bit WAV (it refuses other rates), and it ends the
    call when the file ends: the speech is followed by ``pad_seconds`` of silence."""
    subprocess.run(
        [
            *("sox", str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out)),
            *("pad", "0", str(pad_seconds)),
        ],
        check=True,
        capture_output=True,
    )
    return out


def _netstring(payload: bytes) -> bytes:
    return str(len(payload)).encode() + b":" + payload + b","


@dataclass
class Baresip:
    """One baresip process and its control connection (see :func:`running_baresip`)."""

    account: UaAccount
    sip_port: int
    ctrl_port: int
    process: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: list[dict[str, Any]] = field(default_factory=list)
    _token: int = 0
    _responses: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _pump: asyncio.Task[None] | None = None

    @property
    def uri(self) -> str:
        return f"sip:{self.account.user}@127.0.0.1:{self.sip_port}"

    async def _read_messages(self) -> None:
        while True:
            length = await self.reader.readuntil(b":")
            body = await self.reader.readexactly(int(length[:-1]) + 1)
            message = json.loads(body[:-1])
            if message.get("response"):
                future = self._responses.pop(str(message.get("token")), None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif message.get("event"):
                async with self._changed:
                    self.events.append(message)
                    self._changed.notify_all()

    async def command(self, command: str, params: str = "", *, within: float = 5.0) -> dict[str, Any]:
        self._token += 1
        token = str(self._token)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._responses[token] = future
        payload = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.writer.write(_netstring(payload))
        await self.writer.drain()
        return await asyncio.wait_for(future, within)

    async def wait_event(self, kind: str, *, after: int = 0, within: float = 15.0) -> dict[str, Any]:
        """The first event of ``kind`` (``CALL_ESTABLISHED``, ``CALL_CLOSED``, ``REGISTER_OK``...) at index
        ``after`` or later in :attr:`events`."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.events[after:] if e.get("type") == kind), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), within)
        event = found()
        assert event is not None
        return event

    async def registration(self) -> str:
        """``ok``, ``failed`` (the registrar refused, e.g. a wrong password) or ``pending``, from ``reginfo``:
        baresip prints each account's state as a coloured OK / ERR (or zzz while it is still trying)."""
        shown = _ANSI.sub("", str((await self.command("reginfo")).get("data", "")))
        states = re.findall(r"\s(OK|ERR)\s", shown)
        if "ERR" in states:
            return "failed"
        return "ok" if states else "pending"

    async def dial(self, uri: str) -> None:
        await self.command("dial", uri)

    async def send_digit(self, key: str) -> None:
        await self.command("sndcode", key)

    async def hangup(self) -> None:
        await self.command("hangup")


def write_config(directory: Path, account: UaAccount, *, sip_port: int, ctrl_port: int, audio: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rtp = free_udp_port() // 2 * 2
    (directory / "config").write_text(
        "\n".join(
            [
                "poll_method epoll",
                f"sip_listen 127.0.0.1:{sip_port}",
                "sip_trans_def udp",
                f"audio_source aufile,{audio}",
                "audio_player aubridge,nil",
                "audio_alert aubridge,nil",
                f"rtp_ports {rtp}-{rtp + 9}",
                "rtp_timeout 0",
                f"module_path {MODULES_DIR}",
                "module g711.so",
                "module aufile.so",
                "module aubridge.so",
                "module_app account.so",
                "module_app menu.so",
                "module_app ctrl_tcp.so",
                f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    (directory / "accounts").write_text(account.line() + "\n", encoding="utf-8")
    (directory / "contacts").write_text("", encoding="utf-8")
    return directory


class _PortTaken(Exception):
    """Another process bound one of the ports between our probe and baresip's start."""


async def _start(
    directory: Path, account: UaAccount, audio: Path, start_timeout: float
) -> tuple[asyncio.subprocess.Process, int, int, asyncio.StreamReader, asyncio.StreamWriter]:
    sip_port, ctrl_port = free_sip_port(), free_tcp_port()
    write_config(directory, account, sip_port=sip_port, ctrl_port=ctrl_port, audio=audio)
    log_path = directory / "baresip.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            "baresip", "-f", str(directory), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + start_timeout
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", ctrl_port)
            return process, sip_port, ctrl_port, reader, writer
        except OSError:
            if loop.time() > deadline or process.returncode is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                text = log_path.read_text(errors="replace")
                if "Address already in use" in text:
                    raise _PortTaken(text) from None
                raise RuntimeError(f"baresip did not open its control port: {text}") from None
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running_baresip(
    directory: Path, account: UaAccount, *, audio: Path, start_timeout: float = 10.0
) -> AsyncIterator[Baresip]:
    """Start baresip with its control socket, yield it, then quit it (killed if it does not go).

    The ports are probed free and then handed to baresip, so another process can take one in between; such a
    start is retried on fresh ports."""
    for attempt in range(5):
        try:
            process, sip_port, ctrl_port, reader, writer = await _start(
                directory, account, audio, start_timeout
            )
            break
        except _PortTaken as taken:
            if attempt == 4:
                raise RuntimeError(f"baresip found its ports taken five times: {taken}") from None
    ua: Baresip | None = None
    try:
        ua = Baresip(account, sip_port, ctrl_port, process, reader, writer)
        ua._pump = asyncio.create_task(ua._read_messages())
        yield ua
    finally:
        if ua is not None:
            with contextlib.suppress(Exception):
                await ua.command("quit", within=2)
            if ua._pump is not None:
                ua._pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ua._pump
            ua.writer.close()
        with contextlib.suppress(ProcessLookupError):
            try:
                await asyncio.wait_for(process.wait(), 3)
            except TimeoutError:
                process.kill()
                await process.wait()
