"""The call port over AGI, through pyst2's ``asterisk.agi.AGI`` on a FastAGI socket.

Two pyst2 snags are handled here:

- ``AGI.__init__`` calls ``signal.signal(SIGHUP, ...)``, which raises outside the main thread. Over FastAGI
  that handler is useless anyway: Asterisk sends SIGHUP only to AGI scripts it forked itself; to a FastAGI
  peer it reports a hang-up by writing ``HANGUP`` on the socket. :class:`SocketAGI` therefore sets up the
  same fields as ``AGI.__init__`` (pyst2 is pinned at 0.5.1) without the signal handler, so sessions can run
  on threads of one server process.
- pyst2 parses every line as a result, so a ``HANGUP`` line would break it (``int('')``). :class:`AgiLineReader`
  takes those lines out of the stream and remembers them; the next command on the dead channel is answered
  ``511`` and ends the session.

Every protocol failure (garbage, EOF, time-out, 511, ``result=-1`` after a hang-up) surfaces as
:class:`~ivr.port.CallerHungUp`, which ends that session only.
"""

from __future__ import annotations

import logging
from typing import IO, Any

from asterisk.agi import AGI, AGIAppError, AGIError, AGIHangup

from ivr.port import CallerHungUp
from ivr.typeahead import END_KEY, KeyLedger, answer_in, answer_so_far

log = logging.getLogger(__name__)

MAX_LINE = 8192  # an AGI line is short; a longer one is garbage
SILENCE = "silence/1"  # asterisk-core-sounds: what GET DATA plays while keys typed ahead are completed


class AgiProtocolError(CallerHungUp):
    """The peer is not speaking AGI (garbage, overlong line, truncated environment)."""


class AgiLineReader:
    """The socket's input as pyst2 reads it (``readline``), minus asynchronous ``HANGUP`` notices."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hangup_seen = False
        self.eof = False

    def readline(self) -> str:
        while True:
            line = self.raw.readline(MAX_LINE + 1)
            if not line:
                self.eof = True
                return ""
            if len(line) > MAX_LINE:
                raise AgiProtocolError(f"AGI line longer than {MAX_LINE} bytes")
            text = line.decode("utf-8", errors="replace")
            if text.strip() == "HANGUP":
                self.hangup_seen = True
                continue
            return text


class _Discard:
    """pyst2 writes a debug trace of every command to ``stderr``; the server logs what matters itself."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


class SocketAGI(AGI):  # type: ignore[misc]
    """``asterisk.agi.AGI`` on a FastAGI connection, without the SIGHUP handler (see the module notes)."""

    def __init__(self, reader: AgiLineReader, writer: IO[str]) -> None:
        self.stdin = reader
        self.stdout = writer
        self.stderr = _Discard()
        self._got_sighup = False
        self.env: dict[str, str] = {}
        self._get_agi_env()


ALL_KEYS = "0123456789*#"  # every prompt can be interrupted by any key
KEYS_VARIABLE = (
    "HOTLINE_KEYS"  # StoreDTMF's record of every key pressed (extensions.conf.j2, ivr/typeahead.py)
)


class AgiCallPort:
    """:class:`~ivr.port.CallPort` over one AGI session, with type-ahead (see ``ivr.typeahead``).

    Where the dialplan did not start ``StoreDTMF`` (the variable does not exist), the port starts it itself
    (``EXEC StoreDTMF``); on a switch without app_dtmfstore it falls back to the keys the commands return,
    which loses a key pressed between two commands."""

    def __init__(self, agi: SocketAGI, reader: AgiLineReader) -> None:
        self.agi = agi
        self.reader = reader
        self.ledger = KeyLedger()
        self._stored: bool | None = None  # does the switch keep every key in KEYS_VARIABLE?
        self._returned = ""  # without it: keys the commands returned that the IVR has not used

    def play(self, prompt: str) -> None:
        if self.pending():
            return  # the caller is ahead of this prompt
        key = self._call(lambda: self.agi.stream_file(prompt, escape_digits=ALL_KEYS), prompt)
        if key and not self._stored:
            self._returned += str(key)

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        found = answer_in(self.pending(), max_digits)
        if found is None:
            # GET DATA answers "200 result=<digits>" or "200 result= (timeout)"; pyst2 returns "" for the
            # latter. Keys already keyed ahead are not asked again: the prompt is then silence.
            ahead = len(self.pending())
            keys = self._call(
                lambda: self.agi.get_data(
                    SILENCE if ahead else prompt, timeout=timeout_ms, max_digits=max_digits - ahead
                ),
                prompt,
            )
            if not self._stored:
                self._returned += str(keys or "") + (END_KEY if keys and len(keys) < max_digits else "")
            found = answer_so_far(self.pending(), max_digits)
        answer, used = found
        self._use(used)
        return answer or None

    def pending(self) -> str:
        """Keys the caller pressed that the IVR has not used yet."""
        if self._stored is None:
            self._stored = self._start_store()
        if not self._stored:
            return self._returned
        history = self._call(lambda: self.agi.get_variable(KEYS_VARIABLE), KEYS_VARIABLE)
        return self.ledger.pending(str(history or ""))

    def _use(self, count: int) -> None:
        if self._stored:
            self.ledger.use(count)
        else:
            self._returned = self._returned[count:]

    def _start_store(self) -> bool:
        """Whether every key is kept in KEYS_VARIABLE: the dialplan's StoreDTMF, or one started now."""
        result = self._call(lambda: self.agi.execute("GET VARIABLE", KEYS_VARIABLE), KEYS_VARIABLE)
        if isinstance(result, dict) and result.get("result", ("0",))[0] == "1":
            return True  # the dialplan set it (empty) before StoreDTMF: "200 result=1 ()"
        started = self._call(
            lambda: self.agi.execute("EXEC", "StoreDTMF", f"RX,{KEYS_VARIABLE}"), "StoreDTMF"
        )
        if isinstance(started, dict) and started.get("result", ("",))[0] == "0":
            return True
        log.warning("no StoreDTMF on this switch: a key pressed between two prompts may be lost")
        return False

    def set_variable(self, name: str, value: str) -> None:
        self._call(lambda: self.agi.set_variable(name, value), name)

    def hangup(self) -> None:
        self._call(lambda: self.agi.hangup(), "hangup")

    def _call(self, command: Any, what: str) -> Any:
        try:
            return command()
        except AGIHangup as exc:
            raise CallerHungUp(f"caller hung up during {what}") from exc
        except AGIAppError as exc:
            # "200 result=-1": a hang-up, or a failed application such as a missing sound file. Only the
            # former ends the call; on the latter the next command will tell (511 on a dead channel).
            if self.reader.hangup_seen or self.reader.eof:
                raise CallerHungUp(f"caller hung up during {what}") from exc
            log.warning("AGI command failed for %s (missing sound file?): %s", what, exc)
            return ""
        except (AGIError, OSError, ValueError, IndexError) as exc:
            # AGIUnknownError covers 511 (dead channel) and EOF (code 0); ValueError/IndexError garbage.
            if self.reader.eof or self.reader.hangup_seen:
                raise CallerHungUp(f"session closed during {what}") from exc
            raise AgiProtocolError(f"bad AGI answer during {what}: {exc!r}") from exc
