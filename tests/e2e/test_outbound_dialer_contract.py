"""The Dialer contract: the real ARI dialer (Asterisk 22, FastAGI survey, sipp citizens) and ``FakeDialer``
give the same outcome for the same citizen. The fake's unit tests and the campaign's tests rely on it."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ivr.fastagi import AgiRequest, FastAgiHandle, start_server
from ivr.port import CallPort
from ivr.service import IvrServices, hotline_handlers
from kernel.clock import FakeClock
from telephony.outbound import (
    AriDialer,
    CallStatus,
    Citizen,
    DialPlan,
    FakeDialer,
    OutboundAri,
    SurveyCall,
    SurveyOutcome,
)
from telephony.switch import Switch
from telephony.testing import free_port, running_switch, why_no_asterisk
from tests.e2e.outbound_support import (
    AskingPort,
    answering_scenario,
    busy_scenario,
    citizen,
    no_answer_scenario,
)

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PHONE = "13800000001"


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


def survey_server() -> FastAgiHandle:
    """The hotline's survey script; the test citizen is told each time a question is asked."""
    services = IvrServices(calendar=Weekdays(), clock=FakeClock(MONDAY_10H))
    survey = hotline_handlers(services)["survey"]

    def asking(port: CallPort, request: AgiRequest) -> None:
        survey(AskingPort(port), request)

    return start_server("127.0.0.1", 0, handlers={"survey": asking}, command_timeout=30)


@contextlib.contextmanager
def switch_with_survey(citizen_port: int | None = None) -> Iterator[Switch]:
    """Asterisk with the survey; its carrier trunk (the "PSTN") leads to the sipp citizen on ``citizen_port``."""
    reason = why_no_asterisk(need=("sipp",))
    if reason:
        pytest.skip(reason)
    agi = survey_server()
    try:
        trunk = f"sip:127.0.0.1:{citizen_port}" if citizen_port else None
        with running_switch(fastagi_port=agi.port, unit_trunk=trunk) as switch:
            yield switch
    finally:
        agi.stop()


@contextlib.asynccontextmanager
async def outbound_app(switch: Switch) -> AsyncIterator[OutboundAri]:
    cfg = switch.config
    ari = OutboundAri.connect(
        f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, f"{cfg.ari_app}-outbound"
    )
    await ari.start()
    try:
        yield ari
    finally:
        await ari.aclose()


def scenario(who: Citizen, work: Path) -> str:
    if who.behaviour == "busy":
        return busy_scenario()
    if who.behaviour == "no_answer":
        return no_answer_scenario()
    return answering_scenario(who.keys, work)


# (citizen, order number, expected status, solved, rating). Short order numbers keep the spoken intro short.
CASES = [
    pytest.param(Citizen("answer", ("1", "5")), CallStatus.ANSWERED, 1, 5, id="solved-rated-5"),
    pytest.param(Citizen("answer", ("2",)), CallStatus.ANSWERED, 2, None, id="not-solved-then-hangs-up"),
    pytest.param(Citizen("answer", ("9", "1", "3")), CallStatus.ANSWERED, 1, 3, id="wrong-key-asked-again"),
    pytest.param(Citizen("answer", ()), CallStatus.ANSWERED, None, None, id="hangs-up-at-first-question"),
    pytest.param(Citizen("busy"), CallStatus.BUSY, None, None, id="busy"),
    pytest.param(Citizen("no_answer"), CallStatus.NO_ANSWER, None, None, id="no-answer"),
]


def check(outcome: SurveyOutcome, status: CallStatus, solved: int | None, rating: int | None) -> None:
    assert (outcome.status, outcome.solved, outcome.rating) == (status, solved, rating), outcome
    if status is CallStatus.ANSWERED:
        assert outcome.recording is not None and outcome.recording.endswith(f"/{outcome.channel_id}.wav")
        assert outcome.channel_id.startswith("survey-")
        assert outcome.dial_status == "ANSWER"
    else:
        assert outcome.recording is None


@pytest.mark.parametrize(("who", "status", "solved", "rating"), CASES)
async def test_fake_dialer(who: Citizen, status: CallStatus, solved: int | None, rating: int | None) -> None:
    dialer = FakeDialer({PHONE: [who]})
    check(await dialer.survey("HK7", PHONE), status, solved, rating)
    assert dialer.calls == [SurveyCall("HK7", PHONE, "zh")]


@pytest.mark.asterisk
@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.parametrize(("who", "status", "solved", "rating"), CASES)
async def test_ari_dialer(
    who: Citizen, status: CallStatus, solved: int | None, rating: int | None, tmp_path: Path
) -> None:
    port = free_port(socket.SOCK_DGRAM)
    with switch_with_survey(port) as switch, citizen(tmp_path, [scenario(who, tmp_path)], port=port):
        plan = DialPlan(ring_seconds=3)  # PJSIP/{number}@units, the carrier trunk
        async with outbound_app(switch) as ari:
            outcome = await AriDialer(ari, plan).survey("HK7", PHONE)
        recording = switch.host_path(outcome.recording) if outcome.recording else None
        recorded = recording.stat().st_size if recording and recording.exists() else 0
    check(outcome, status, solved, rating)
    if recording is not None:  # MixMonitor wrote the survey: seconds of 8 kHz 16-bit audio
        assert recording.name == f"{outcome.channel_id}.wav"
        assert recorded > 16000
    assert outcome.ring_seconds is not None


@pytest.mark.asterisk
@pytest.mark.timeout(60)
async def test_ari_dialer_reports_a_call_it_could_not_place() -> None:
    """A dial string naming no endpoint: Asterisk refuses the originate; that is FAILED, not the citizen."""
    with switch_with_survey() as switch:
        async with outbound_app(switch) as ari:
            plan = DialPlan(dial_template="PJSIP/{number}@no-such-trunk")
            outcome = await AriDialer(ari, plan).survey("HK7", PHONE)
    assert outcome.status is CallStatus.FAILED
    fake = await FakeDialer({PHONE: [Citizen("unreachable")]}).survey("HK7", PHONE)
    assert replace(fake, channel_id="", dial_status="", detail="").status is outcome.status
