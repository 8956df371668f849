"""The FastAGI server against a scripted fake Asterisk over a local socket: the protocol, malformed input,
and the same scenarios through the fake call port and through pyst2 over the socket (contract)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from ivr.engine import IvrEngine, hotline_variables
from ivr.fake_asterisk import FakeAsterisk, agi_environment
from ivr.fastagi import AgiRequest, FastAgiHandle, start_server
from ivr.orders import FakeOrderLookup
from ivr.port import CallPort
from ivr.port_fake import FakeCallPort
from ivr.service import IvrServices, hotline_handlers
from kernel.clock import FakeClock

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


@pytest.fixture
def services() -> IvrServices:
    return IvrServices(
        calendar=Weekdays(),
        orders=FakeOrderLookup({"202611230000123": "dispatched"}),
        clock=FakeClock(MONDAY_10H),
    )


@pytest.fixture
def server(services: IvrServices) -> Iterator[FastAgiHandle]:
    handle = start_server("127.0.0.1", 0, services=services, environment_timeout=1.0, command_timeout=2.0)
    try:
        yield handle
    finally:
        handle.stop()


def test_inbound_call_sets_the_dialplan_contract_variables(server: FastAgiHandle) -> None:
    transcript = FakeAsterisk(server.port, "agi://127.0.0.1:4573/ivr", keys=["1", "3"]).run()
    assert transcript.variables == {
        "HOTLINE_LANG": "zh",
        "HOTLINE_ROUTE": "queue-urgent",
        "HOTLINE_QUEUE": "urgent",
        "HOTLINE_PRIORITY": "10",
        "HOTLINE_CHOICES": "lang:zh,main:3",
        "HOTLINE_RECORDING": "yes",
    }
    media = [c for c in transcript.commands if c.startswith(("STREAM FILE", "GET DATA"))]
    # Every prompt can be interrupted by any key; the keys come from GET DATA or the type-ahead store.
    assert media[0] == 'STREAM FILE hotline/zh/welcome "0123456789*#" 0'
    assert media[1] == "GET DATA hotline/zh/choose_language 3000 1"
    assert transcript.commands[0] == "GET VARIABLE HOTLINE_KEYS"  # StoreDTMF, started by the dialplan
    assert "EXEC StoreDTMF RX,HOTLINE_KEYS" not in transcript.commands
    assert transcript.commands[-1] == 'SET VARIABLE "HOTLINE_RECORDING" "yes"'
    assert transcript.closed_by_server  # the session ends and the dialplan goes on


@pytest.mark.parametrize("store", ["exec", "none"])
def test_without_storedtmf_in_the_dialplan_the_ivr_starts_it_or_does_without(
    server: FastAgiHandle, store: str
) -> None:
    transcript = FakeAsterisk(server.port, "agi://127.0.0.1/ivr", keys=["2", "4", "202611230000123", "0"],
                              store_dtmf=store).run()  # fmt: skip
    assert "EXEC StoreDTMF RX,HOTLINE_KEYS" in transcript.commands
    assert transcript.variables["HOTLINE_CHOICES"] == "lang:en,main:4,order:202611230000123,order_after:0"
    # Without a store the port reads no variable after the attempt: the commands' answers are all it has.
    after = transcript.commands[transcript.commands.index("EXEC StoreDTMF RX,HOTLINE_KEYS") + 1 :]
    assert any(c.startswith("GET VARIABLE") for c in after) is (store == "exec")


def test_language_parameter_and_order_query(server: FastAgiHandle) -> None:
    transcript = FakeAsterisk(
        server.port, "agi://127.0.0.1:4573/ivr?lang=en", keys=["2", "4", "202611230000123", "0"]
    ).run()
    assert "hotline/en/state_dispatched" in transcript.played
    assert transcript.variables["HOTLINE_LANG"] == "en"
    assert transcript.variables["HOTLINE_CHOICES"] == "lang:en,main:4,order:202611230000123,order_after:0"


def test_survey_on_an_outbound_call(server: FastAgiHandle) -> None:
    transcript = FakeAsterisk(
        server.port, "agi://127.0.0.1:4573/survey?order=HK202611230000123", keys=["1", "4"]
    ).run()
    assert transcript.variables == {"HOTLINE_SURVEY_SOLVED": "1", "HOTLINE_SURVEY_RATING": "4"}
    said = [p.rsplit("/", 1)[-1] for p in transcript.played if "/digits/" in p]
    assert "".join(said) == "202611230000123"


def test_survey_without_answers(server: FastAgiHandle) -> None:
    transcript = FakeAsterisk(server.port, "agi://127.0.0.1/survey", keys=[None, None, "9", None]).run()
    assert transcript.variables == {"HOTLINE_SURVEY_SOLVED": "none", "HOTLINE_SURVEY_RATING": "none"}


def _raw_session(port: int, payload: bytes, *, close_write: bool = True) -> bytes:
    """What the server answered before it closed. A server that drops a session mid-send (an overlong line is
    refused after 8 kB) may close first: the kernel then resets the connection, which ends the session as
    Asterisk would see it, not the test."""
    chunks: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(payload)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(4096):
                chunks.append(chunk)
        except OSError as exc:
            if exc.errno not in (errno.ENOTCONN, errno.ECONNRESET, errno.EPIPE):
                raise
    return b"".join(chunks)


def assert_still_serving(server: FastAgiHandle) -> None:
    transcript = FakeAsterisk(server.port, "agi://127.0.0.1/ivr", keys=["1", "2"]).run()
    assert transcript.variables["HOTLINE_ROUTE"] == "queue-complaint"


ENV = ("\n".join(agi_environment("agi://127.0.0.1/ivr")) + "\n").encode()  # without the blank line


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\x00\xff\xfe garbage \x80\x81\n\n", id="binary-garbage"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http-request"),
        pytest.param(b"x" * 20000 + b"\n\n", id="overlong-line"),
        pytest.param(ENV[:120], id="truncated-environment"),
        pytest.param(ENV + b"\n", id="hang-up-before-first-answer"),
        pytest.param(ENV + b"\n" + b"200 result=0 endpos=1\n" * 2, id="closed-mid-menu"),
        pytest.param(
            ENV + b"\nHANGUP\n" + (b"511 Command Not Permitted on a dead channel\n") * 3, id="hangup-511"
        ),
        pytest.param(ENV + b"\n" + b"banana\n" * 3, id="garbage-results"),
        pytest.param(b"", id="connect-and-close"),
    ],
)
def test_malformed_sessions_end_cleanly_and_the_server_goes_on(server: FastAgiHandle, payload: bytes) -> None:
    reply = _raw_session(server.port, payload)
    assert b"SET VARIABLE" not in reply  # nothing was routed from a broken session
    assert_still_serving(server)


def test_unknown_script_is_refused(server: FastAgiHandle) -> None:
    reply = _raw_session(server.port, "\n".join(agi_environment("agi://127.0.0.1/nope")).encode() + b"\n\n")
    assert reply == b""
    assert_still_serving(server)


def test_silent_peer_is_dropped_after_the_environment_timeout(server: FastAgiHandle) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(ENV[:200])  # and then nothing: the connection stays open
        assert sock.recv(100) == b""  # the server closed it
    assert time.monotonic() - started < 4
    assert_still_serving(server)


def test_many_sessions_at_once(server: FastAgiHandle) -> None:
    results: list[str] = []

    def one(i: int) -> None:
        keys = ["1", str(1 + i % 3)]
        results.append(
            FakeAsterisk(server.port, "agi://127.0.0.1/ivr", keys=keys).run().variables["HOTLINE_ROUTE"]
        )

    threads = [threading.Thread(target=one, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted(["queue-consultation", "queue-complaint", "queue-urgent"] * 10)


def test_a_failing_handler_ends_only_its_session(services: IvrServices) -> None:
    def broken(port: CallPort, request: AgiRequest) -> None:
        raise RuntimeError("bug")

    handle = start_server("127.0.0.1", 0, handlers={**hotline_handlers(services), "broken": broken})
    try:
        assert FakeAsterisk(handle.port, "agi://127.0.0.1/broken").run().closed_by_server
        assert_still_serving(handle)
    finally:
        handle.stop()


# ---- contract: the same scenario through the fake port and through the real AGI adapter ---------------------
SCENARIOS = [
    ["1", "1"],
    ["2", None, "7", "3"],
    ["1", "4", "202611230000123", "9", "2"],
    ["1", "4", "404", None, "0"],
    ["1", None, None, None],
    ["2", "4", "202611230000123", None, None, None],
]


@pytest.mark.parametrize("keys", SCENARIOS)
def test_fake_port_and_agi_adapter_agree(
    server: FastAgiHandle, services: IvrServices, keys: list[str | None]
) -> None:
    fake = FakeCallPort(keys)
    engine = IvrEngine(services.hotline_menu.current(), services.calendar, orders=services.orders)
    result = engine.run(fake, MONDAY_10H)
    for name, value in hotline_variables(result).items():
        fake.set_variable(name, value)

    transcript = FakeAsterisk(server.port, "agi://127.0.0.1/ivr", keys=keys).run()

    assert transcript.played == fake.played
    assert transcript.variables == fake.variables


TYPEAHEAD = [
    ("11", {}, []),  # both keys pressed as 12345 answers: no prompt before the transfer notice
    ("", {"hotline/zh/welcome": "2"}, ["3"]),  # English chosen during the welcome, then asked for the service
    ("", {"hotline/zh/welcome": "14202611230000123#"}, ["0"]),  # an order number keyed during the welcome
    ("1", {"hotline/zh/recording_notice": "4"}, ["202611230000123", "9", "2"]),  # 4 stops the notice
]


@pytest.mark.parametrize(("ahead", "during", "keys"), TYPEAHEAD)
def test_fake_port_and_agi_adapter_agree_on_keys_typed_ahead(
    server: FastAgiHandle, services: IvrServices, ahead: str, during: dict[str, str], keys: list[str | None]
) -> None:
    fake = FakeCallPort(keys, ahead=ahead, during=during)
    engine = IvrEngine(services.hotline_menu.current(), services.calendar, orders=services.orders)
    result = engine.run(fake, MONDAY_10H)
    for name, value in hotline_variables(result).items():
        fake.set_variable(name, value)

    transcript = FakeAsterisk(server.port, "agi://127.0.0.1/ivr", keys=keys, ahead=ahead, during=during).run()

    assert transcript.played == fake.played
    assert transcript.variables == fake.variables
    assert result.route.value.startswith("queue-")


@pytest.mark.parametrize("keys", [["1"], ["2", "4"], ["1", "4", "202611230000123"]])
def test_hang_up_mid_call_through_both_ports(server: FastAgiHandle, keys: list[str | None]) -> None:
    transcript = FakeAsterisk(server.port, "agi://127.0.0.1/ivr", keys=keys).run()
    # nothing of the routing contract; only what the caller was told before hanging up (an order's state)
    told = {"HOTLINE_ORDER_QUERIED": "HK202611230000123", "HOTLINE_ORDER_STATE": "dispatched"}
    assert transcript.variables == (told if len(keys) == 3 else {})
    assert transcript.closed_by_server
