"""The satisfaction callback end to end: a work order is resolved in the database, the campaign calls the
citizen through the real Asterisk (ARI originate, FastAGI survey, MixMonitor), a sipp citizen answers and
presses keys as RFC 2833 events, and the order is closed or reopened, audited as the automated survey.

Figures: the time from the unit's resolution to the citizen's phone ringing is printed (``-s``).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from ivr.fastagi import AgiRequest, FastAgiHandle, start_server
from ivr.port import CallPort
from ivr.service import IvrServices, hotline_handlers
from kernel.clock import FakeClock
from routing.callback_campaign import AUTO_ACTOR, CallbackCampaign, SurveyDialer
from routing.callback_policy import CampaignPolicy
from routing.commands import IntakeCommand
from routing.domain.enums import CallbackOutcome, Channel, OrderState
from routing.domain.model import Actor
from routing.lifecycle import Acknowledge, Resolve
from routing.orm import Category
from telephony.outbound import AriDialer, DialPlan, OutboundAri, SurveyOutcome
from telephony.switch import Switch
from telephony.testing import free_port, running_switch, why_no_asterisk
from tests.conftest import make_app
from tests.e2e.outbound_support import AskingPort, answering_scenario, busy_scenario, citizen

pytestmark = [pytest.mark.asterisk, pytest.mark.slow, pytest.mark.timeout(90)]

MONDAY_1000 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Haikou: inside a calling window
AGENT = Actor("agent007", "agent")


@pytest.fixture
def app(sqlite_template: Path, tmp_path: Path) -> Iterator[App]:
    reason = why_no_asterisk(need=("sipp",))
    if reason:
        pytest.skip(reason)
    db = tmp_path / "hotline.sqlite3"
    shutil.copyfile(sqlite_template, db)
    hot = make_app(f"sqlite:///{db}", tmp_path, FakeClock(MONDAY_1000), seed=False, migrate=False)
    yield hot
    hot.close()


def resolve_an_order(hot: App, phone: str) -> tuple[str, str]:
    with hot.session_factory() as session:
        category = session.scalars(select(Category.id).where(Category.path.startswith("城乡建设/"))).first()
    cmd = IntakeCommand(
        channel=Channel.PHONE,
        description="海甸五西路工地夜间施工噪音扰民，凌晨两点还在打桩",
        citizen_phone=phone,
        location_text="美兰区海甸五西路",
        district="美兰区",
        category_id=category,
    )
    number = hot.work_orders.intake(cmd, AGENT).number
    lead = hot.work_orders.get(number).lead_unit or ""
    unit = Actor("handler", "department", lead)
    hot.work_orders.handle(Acknowledge(number, lead), unit)
    hot.work_orders.handle(Resolve(number, lead, "已责令施工单位停止夜间施工"), unit)
    return number, lead


@contextlib.contextmanager
def survey_switch(hot: App, citizen_port: int) -> Iterator[Switch]:
    """Asterisk with the hotline's FastAGI survey, its carrier trunk (the "PSTN") pointing at the sipp citizen
    on ``citizen_port``; the test citizen is told when a question is asked."""
    survey = hotline_handlers(IvrServices(calendar=hot.calendar, clock=hot.clock))["survey"]

    def asking(port: CallPort, request: AgiRequest) -> None:
        survey(AskingPort(port), request)

    agi: FastAgiHandle = start_server("127.0.0.1", 0, handlers={"survey": asking}, command_timeout=30)
    try:
        with running_switch(fastagi_port=agi.port, unit_trunk=f"sip:127.0.0.1:{citizen_port}") as switch:
            yield switch
    finally:
        agi.stop()


@contextlib.asynccontextmanager
async def dialer_to(switch: Switch) -> AsyncIterator[SurveyDialer]:
    cfg = switch.config
    ari = OutboundAri.connect(
        f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, f"{cfg.ari_app}-outbound"
    )
    await ari.start()
    try:
        yield AriDialer(ari, DialPlan(ring_seconds=5))  # PJSIP/{number}@units: the carrier trunk
    finally:
        await ari.aclose()


def campaign(hot: App, dialer: SurveyDialer) -> CallbackCampaign:
    return CallbackCampaign(hot.work_orders, dialer, CampaignPolicy(first_call_after=timedelta(0)))


class Timed:
    """The dialer, timed: when the campaign placed the call and what the switch reported."""

    def __init__(self, inner: SurveyDialer) -> None:
        self.inner = inner
        self.placed_at = 0.0
        self.returned_at = 0.0
        self.ring_seconds: float | None = None
        self.talk_seconds: float | None = None

    def ready(self) -> bool:
        return self.inner.ready()

    async def survey(self, order_number: str, phone: str, *, language: str = "zh") -> SurveyOutcome:
        self.placed_at = time.monotonic()
        outcome = await self.inner.survey(order_number, phone, language=language)
        self.returned_at = time.monotonic()
        assert isinstance(outcome, SurveyOutcome)
        self.ring_seconds, self.talk_seconds = outcome.ring_seconds, outcome.talk_seconds
        return outcome


async def test_satisfied_citizen_closes_the_order(app: App, tmp_path: Path) -> None:
    number, lead = resolve_an_order(app, "13812345671")
    port = free_port(socket.SOCK_DGRAM)
    with (
        survey_switch(app, port) as switch,
        citizen(tmp_path, [answering_scenario(["1", "5"], tmp_path)], port=port),
    ):
        async with dialer_to(switch) as dialer:
            timed = Timed(dialer)
            started = time.monotonic()
            report = await campaign(app, timed).run_once()
            settled = time.monotonic()
        [attempt] = CallbackCampaign(app.work_orders, None).attempts(number)
        recording = switch.host_path(attempt.recording or "/nonexistent")
        recorded = recording.stat().st_size if recording.exists() else 0
    print(
        f"\nround start -> call placed {1000 * (timed.placed_at - started):.0f} ms; ringing -> answered "
        f"{timed.ring_seconds} s; survey (prompts + 2 keys) {timed.talk_seconds} s; "
        f"call end -> order closed {1000 * (settled - timed.returned_at):.0f} ms"
    )

    assert report.results == {"closed": 1}
    order = app.work_orders.get(number)
    assert order.state is OrderState.CLOSED
    [record] = order.callbacks
    assert (record.by_role, record.outcome, record.solved, record.rating, record.unit_code) == (
        "auto",
        CallbackOutcome.SATISFIED,
        True,
        5,
        lead,
    )
    assert record.recording_ref == attempt.recording
    assert [(e.action, e.actor) for e in order.history] == [
        ("accept", AGENT.name),
        ("dispatch", AGENT.name),
        ("acknowledge", "handler"),
        ("resolve", "handler"),
        ("close", AUTO_ACTOR.name),
    ]
    assert (attempt.mode, attempt.call_status, attempt.solved, attempt.rating, attempt.outcome) == (
        "auto",
        "answered",
        True,
        5,
        "closed",
    )
    assert attempt.channel_id.startswith("survey-") and attempt.hangup_cause == 16
    assert recorded > 16000  # MixMonitor recorded the survey: seconds of 8 kHz 16-bit audio


async def test_not_solved_reopens_the_order_to_the_same_unit(app: App, tmp_path: Path) -> None:
    number, lead = resolve_an_order(app, "13812345672")
    port = free_port(socket.SOCK_DGRAM)
    with (
        survey_switch(app, port) as switch,
        citizen(tmp_path, [answering_scenario(["2", "3"], tmp_path)], port=port),
    ):
        async with dialer_to(switch) as dialer:
            report = await campaign(app, dialer).run_once()

    assert report.results == {"reopened": 1}
    order = app.work_orders.get(number)
    assert order.state is OrderState.DISPATCHED and order.redo_count == 1 and order.lead_unit == lead
    assert order.response_due_at == app.clock.now() + timedelta(minutes=app.policy.reopen.response_minutes)
    [record] = order.callbacks
    assert (record.by_role, record.outcome, record.solved, record.rating) == (
        "auto",
        CallbackOutcome.UNSATISFIED,
        False,
        3,
    )
    assert [(e.action, e.actor) for e in order.history[-1:]] == [("reopen", AUTO_ACTOR.name)]
    assert "未解决" in order.history[-1].note


async def test_busy_citizen_is_called_again_later(app: App, tmp_path: Path) -> None:
    number, _ = resolve_an_order(app, "13812345673")
    port = free_port(socket.SOCK_DGRAM)
    with survey_switch(app, port) as switch, citizen(tmp_path, [busy_scenario()], port=port):
        async with dialer_to(switch) as dialer:
            loop = campaign(app, dialer)
            report = await loop.run_once()

    assert report.results == {"retry": 1}
    order = app.work_orders.get(number)
    assert order.state is OrderState.RESOLVED
    assert [c.outcome for c in order.callbacks] == [CallbackOutcome.UNREACHABLE]
    [attempt] = loop.attempts(number)
    assert (attempt.call_status, attempt.outcome, attempt.hangup_cause) == ("busy", "busy", 17)
    [task] = loop.tasks(number)
    assert (task.state, task.next_attempt_at) == ("due", MONDAY_1000 + timedelta(minutes=30))
