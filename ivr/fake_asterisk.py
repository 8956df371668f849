"""A scripted stand-in for Asterisk's side of FastAGI, for tests and the benchmark.

It connects to the server as Asterisk does, sends the ``agi_*`` environment and a blank line, then answers each
command the way Asterisk 22 does: ``STREAM FILE`` plays (``200 result=0 endpos=...``), ``GET DATA`` returns the
next scripted keys (None: ``200 result= (timeout)``), ``SET VARIABLE`` is recorded. When the script has no more
keys the caller hangs up: Asterisk writes ``HANGUP``, answers ``result=-1``, then ``511`` to every command.
"""

from __future__ import annotations

import re
import shlex
import socket
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"


def agi_environment(request: str, *, call_id: str = "1700000000.1", caller: str = "13800000000") -> list[str]:
    return [
        "agi_network: yes",
        f"agi_network_script: {request.split('/', 3)[-1]}",
        f"agi_request: {request}",
        "agi_channel: PJSIP/citizen-00000001",
        "agi_language: en",
        "agi_type: PJSIP",
        f"agi_uniqueid: {call_id}",
        "agi_version: 22.0.0",
        f"agi_callerid: {caller}",
        "agi_calleridname: unknown",
        "agi_context: hotline-ivr",
        "agi_extension: 12345",
        "agi_priority: 3",
        "agi_enhanced: 0.0",
        "agi_accountcode: ",
        "agi_threadid: 140000000000000",
    ]


@dataclass
class AsteriskTranscript:
    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    played: list[str] = field(default_factory=list)
    turnaround_s: list[float] = field(default_factory=list)  # our answer sent -> the next command received
    closed_by_server: bool = False


def answer(command: str, keys: deque[str | None], transcript: AsteriskTranscript) -> tuple[str, bool]:
    """Asterisk's reply to one AGI command, and whether the caller hangs up with it."""
    words = shlex.split(command)
    verb = " ".join(words[:2]).upper()
    if verb == "STREAM FILE":
        transcript.played.append(words[2])
        return "200 result=0 endpos=8000", False
    if verb == "GET DATA":
        transcript.played.append(words[2])
        if not keys:
            return "200 result=-1", True
        pressed = keys.popleft()
        return ("200 result= (timeout)" if pressed is None else f"200 result={pressed}"), False
    if verb == "SET VARIABLE":
        transcript.variables[words[2]] = words[3] if len(words) > 3 else ""
        return "200 result=1", False
    if words and words[0].upper() == "HANGUP":
        return "200 result=1", True
    return "510 Invalid or unknown command", False


class FakeAsterisk:
    """One call: ``FakeAsterisk(port, "agi://127.0.0.1/ivr", keys=["1", "3"]).run()``."""

    def __init__(
        self,
        port: int,
        request: str,
        *,
        keys: Iterable[str | None] = (),
        host: str = "127.0.0.1",
        timeout_s: float = 10.0,
    ) -> None:
        self.address = (host, port)
        self.request = request
        self.keys: deque[str | None] = deque(keys)
        self.timeout_s = timeout_s

    def run(self) -> AsteriskTranscript:
        transcript = AsteriskTranscript()
        with socket.create_connection(self.address, timeout=self.timeout_s) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            lines = sock.makefile("rb")
            sock.sendall(("\n".join(agi_environment(self.request)) + "\n\n").encode())
            sent_at = time.perf_counter()
            dead = False
            while True:
                raw = lines.readline()
                if not raw:
                    transcript.closed_by_server = True
                    break
                transcript.turnaround_s.append(time.perf_counter() - sent_at)
                command = raw.decode().strip()
                transcript.commands.append(command)
                if dead:
                    reply = DEAD_CHANNEL
                else:
                    reply, hung_up = answer(command, self.keys, transcript)
                    if hung_up and not re.match(r"(?i)^hangup", command):
                        sock.sendall(b"HANGUP\n")
                    dead = hung_up
                sock.sendall(f"{reply}\n".encode())
                sent_at = time.perf_counter()
        return transcript
