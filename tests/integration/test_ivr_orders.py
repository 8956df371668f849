"""'Query my work order' against routing's real work_orders table (SQLite and PostgreSQL), end to end through
the FastAGI server with the production wiring (IvrServices.from_core)."""

from __future__ import annotations

from hotline.bootstrap import App
from hotline.wiring import RoutingOrderLookup, ivr_services
from ivr.fake_asterisk import FakeAsterisk
from ivr.fastagi import start_server
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor


def open_order(hot: App) -> str:
    command = IntakeCommand(
        channel=Channel.PHONE,
        description="龙华区金贸路路灯不亮，晚上很黑",
        citizen_phone="13812345678",
        location_text="龙华区金贸路",
        district="龙华区",
        dispatch=False,
    )
    return hot.work_orders.intake(command, Actor("agent007", "agent")).number


def test_lookup_reads_the_state_by_keyed_digits(hot: App) -> None:
    number = open_order(hot)
    lookup = RoutingOrderLookup(hot.session_factory)
    assert number.startswith("HK")
    assert lookup.status(number[2:]) == "accepted"  # the caller keys only the digits
    assert lookup.status(number) == "accepted"
    assert lookup.status("999999999999999") is None


def test_order_query_through_fastagi_with_the_app_wiring(hot: App) -> None:
    number = open_order(hot)
    handle = start_server("127.0.0.1", 0, services=ivr_services(hot), command_timeout=5)
    try:
        transcript = FakeAsterisk(handle.port, "agi://127.0.0.1/ivr", keys=["1", "4", number[2:], "0"]).run()
    finally:
        handle.stop()
    assert "hotline/zh/state_accepted" in transcript.played
    said = "".join(p.rsplit("/", 1)[-1] for p in transcript.played if "/digits/" in p)
    assert said == number[2:]
    assert transcript.variables["HOTLINE_CHOICES"] == f"lang:zh,main:4,order:{number[2:]},order_after:0"
    assert transcript.variables["HOTLINE_ROUTE"] == "queue-consultation"
