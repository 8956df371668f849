"""The FastAGI server: Asterisk's ``AGI(agi://127.0.0.1:4573/ivr)`` connects here, one TCP session per call.

A threading server (one thread per call) rather than a forking one: pyst2's SIGHUP handler, the only thing
that needs the main thread, is left out (see ``ivr.agi_port``), and threads share the database pool and the
menus already loaded, where forked children would have to rebuild them for every call.

A session whose peer sends garbage, stops half-way through the environment, or hangs up in the middle of a
command ends (it is logged); the server goes on serving the next connection.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from ivr.agi_port import AgiCallPort, AgiLineReader, AgiProtocolError, SocketAGI
from ivr.port import CallerHungUp, CallPort

if TYPE_CHECKING:
    from ivr.service import IvrServices

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4573
ENVIRONMENT_TIMEOUT_S = 5.0  # Asterisk sends the whole agi_* environment at once
COMMAND_TIMEOUT_S = 300.0  # a prompt plus the wait for keys; a silent peer is dropped after this


@dataclass(frozen=True)
class AgiRequest:
    """What Asterisk asked for: ``agi://host:port/<script>?<params>`` and the call's ``agi_*`` environment."""

    script: str
    params: dict[str, str]
    env: dict[str, str] = field(repr=False)

    @property
    def call_id(self) -> str:
        return self.env.get("agi_uniqueid", "")


SessionHandler = Callable[[CallPort, AgiRequest], None]


def parse_request(env: Mapping[str, str]) -> AgiRequest:
    url = env.get("agi_request") or ""
    if not url:
        raise AgiProtocolError("no agi_request in the AGI environment")
    parts = urlsplit(url)
    script = parts.path.strip("/") or env.get("agi_network_script", "")
    return AgiRequest(script=script.split("?")[0], params=dict(parse_qsl(parts.query)), env=dict(env))


class _Session(socketserver.BaseRequestHandler):
    server: FastAgiServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one small line per command
        sock.settimeout(self.server.environment_timeout)
        raw = sock.makefile("rb")
        writer = sock.makefile("w", encoding="utf-8", newline="\n")
        peer = "{}:{}".format(*self.client_address[:2])
        try:
            reader = AgiLineReader(raw)
            agi = SocketAGI(reader, writer)
            if reader.eof:
                raise AgiProtocolError("connection closed inside the AGI environment")
            request = parse_request(agi.env)
            handler = self.server.handlers.get(request.script)
            if handler is None:
                raise AgiProtocolError(f"no AGI script {request.script!r}")
            sock.settimeout(self.server.command_timeout)
            handler(AgiCallPort(agi, reader), request)
        except AgiProtocolError as exc:
            log.warning("FastAGI session from %s dropped: %s", peer, exc)
        except CallerHungUp as exc:
            log.info("FastAGI session from %s ended: %s", peer, exc)
        except OSError as exc:  # time-outs, resets, broken pipes
            log.info("FastAGI session from %s lost: %r", peer, exc)
        except Exception:
            log.exception("FastAGI session from %s failed", peer)
        finally:
            for stream in (writer, raw):
                with contextlib.suppress(OSError):
                    stream.close()


class FastAgiServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handlers: Mapping[str, SessionHandler],
        *,
        environment_timeout: float = ENVIRONMENT_TIMEOUT_S,
        command_timeout: float = COMMAND_TIMEOUT_S,
    ) -> None:
        self.handlers = dict(handlers)
        self.environment_timeout = environment_timeout
        self.command_timeout = command_timeout
        super().__init__(address, _Session)


@dataclass
class FastAgiHandle:
    server: FastAgiServer
    thread: threading.Thread

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_server(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    handlers: Mapping[str, SessionHandler] | None = None,
    services: IvrServices | None = None,
    environment_timeout: float = ENVIRONMENT_TIMEOUT_S,
    command_timeout: float = COMMAND_TIMEOUT_S,
) -> FastAgiHandle:
    """Serve FastAGI on a background thread; ``port=0`` picks a free port (see ``handle.port``).

    ``handlers`` maps a script name (``ivr``, ``survey``) to a session handler; by default they are the
    hotline's, built from ``services`` (an :class:`ivr.service.IvrServices`).
    """
    if handlers is None:
        from ivr.service import hotline_handlers

        if services is None:
            raise ValueError("start_server needs the IVR's services or its handlers")
        handlers = hotline_handlers(services)
    server = FastAgiServer(
        (host, port), handlers, environment_timeout=environment_timeout, command_timeout=command_timeout
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        daemon=True,
        name=f"fastagi-{server.server_address[1]}",
    )
    thread.start()
    log.info("FastAGI listening on %s:%s", *server.server_address[:2])
    return FastAgiHandle(server, thread)
