"""A scripted stand-in for Asterisk's side of FastAGI, for tests and the benchmark.

It connects to the server as Asterisk does, sends the ``agi_*`` environment and a blank line, then answers each
command the way Asterisk 22 does: ``STREAM FILE`` plays (``200 result=0 endpos=...``), ``GET DATA`` returns the
next scripted keys (None: ``200 result= (timeout)``), ``SET VARIABLE`` is recorded. When the script has no more
keys the caller hangs up: Asterisk writes ``HANGUP``, answers ``result=-1``, then ``511`` to every command.

Keys are also kept as ``StoreDTMF(RX,HOTLINE_KEYS)`` keeps them (``GET VARIABLE HOTLINE_KEYS``): started by the
dialplan (the variable exists, empty, from the start), by the IVR (``EXEC StoreDTMF``), or absent (``-2``).
"""

from __future__ import annotations

import re
import shlex
import socket
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DEAD_CHANNEL = "511 Command Not Permitted on a dead channel or intercept routine"
KEYS_VARIABLE = "HOTLINE_KEYS"


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
    stored_keys: str | None = None  # HOTLINE_KEYS while StoreDTMF runs
    store_dtmf: bool = True  # whether the switch has app_dtmfstore
    during: Mapping[str, str] = field(default_factory=dict)  # prompt -> keys pressed while it plays


def answer(command: str, keys: deque[str | None], transcript: AsteriskTranscript) -> tuple[str, bool]:
    """Asterisk's reply to one AGI command, and whether the caller hangs up with it."""
    words = shlex.split(command)
    verb = " ".join(words[:2]).upper()
    if verb == "STREAM FILE":
        transcript.played.append(words[2])
        during = transcript.during.get(words[2], "")
        if during and transcript.stored_keys is not None:
            transcript.stored_keys += during  # the first key stops the prompt; Asterisk answers its code
            return f"200 result={ord(during[0])} endpos=4000", False
        return "200 result=0 endpos=8000", False
    if verb == "GET DATA":
        transcript.played.append(words[2])
        if not keys:
            return "200 result=-1", True
        pressed = keys.popleft()
        if transcript.stored_keys is not None and pressed:
            ends = "#" if len(pressed) < int(words[4]) else ""  # a shorter entry was ended with #
            transcript.stored_keys = transcript.stored_keys + pressed + ends
        return ("200 result= (timeout)" if pressed is None else f"200 result={pressed}"), False
    if verb == "GET VARIABLE":
        value = transcript.variables.get(words[2])
        if words[2] == KEYS_VARIABLE:
            value = transcript.stored_keys
        return ("200 result=0" if value is None else f"200 result=1 ({value})"), False
    if verb == "EXEC STOREDTMF":
        if not transcript.store_dtmf:
            return "200 result=-2", False
        transcript.stored_keys = transcript.stored_keys or ""
        return "200 result=0", False
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
        store_dtmf: str = "dialplan",
        ahead: str = "",
        during: Mapping[str, str] | None = None,
    ) -> None:
        """``store_dtmf``: ``dialplan`` (StoreDTMF runs from the start), ``exec`` (the IVR must start it) or
        ``none`` (a switch without app_dtmfstore). Type-ahead (with StoreDTMF from the dialplan): ``ahead`` are
        keys pressed as the call is answered, ``during`` the keys pressed while a prompt plays."""
        self.address = (host, port)
        self.request = request
        self.keys: deque[str | None] = deque(keys)
        self.timeout_s = timeout_s
        self.store_dtmf = store_dtmf
        self.ahead = ahead
        self.during = dict(during or {})

    def run(self) -> AsteriskTranscript:
        transcript = AsteriskTranscript(
            stored_keys=self.ahead if self.store_dtmf == "dialplan" else None,
            store_dtmf=self.store_dtmf != "none",
            during=self.during,
        )
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
