"""The callback campaign on a real database (SQLite and PostgreSQL) with the fake dialer (held to the real
ARI dialer by tests/e2e/test_outbound_dialer_contract.py): tasks, windows, retries, the manual list, the
manual path for department heads, and the audit trail of every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.bootstrap import App
from kernel.clock import FakeClock
from routing.callback_campaign import AUTO_ACTOR, CallbackCampaign, SurveyDialer
from routing.callback_policy import CampaignPolicy
from routing.commands import CallbackCommand, IntakeCommand
from routing.domain.enums import CallbackOutcome, Channel, OrderState
from routing.domain.errors import Forbidden
from routing.domain.model import Actor
from routing.lifecycle import Acknowledge, RecordCallback, Resolve
from telephony.outbound import Citizen, FakeDialer, SurveyOutcome

AGENT = Actor("agent007", "agent")
PHONE = "13812345678"
MONDAY_0930 = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 09:30 in Haikou


def resolved_order(hot: App, clock: FakeClock, phone: str = "138 1234 5678") -> tuple[str, str]:
    """A complaint taken, dispatched, acknowledged and resolved by its lead unit; (number, unit)."""
    cmd = IntakeCommand(
        channel=Channel.PHONE,
        description="海甸五西路工地夜间施工噪音扰民，凌晨两点还在打桩",
        citizen_phone=phone,
        location_text="美兰区海甸五西路",
        district="美兰区",
        category_id=_category(hot),
    )
    number = hot.work_orders.intake(cmd, AGENT).number
    lead = hot.work_orders.get(number).lead_unit or ""
    unit = Actor("handler", "department", lead)
    hot.work_orders.handle(Acknowledge(number, lead), unit)
    hot.work_orders.handle(Resolve(number, lead, "已责令施工单位停止夜间施工"), unit)
    return number, lead


def _category(hot: App) -> int:
    from sqlalchemy import select

    from routing.orm import Category

    with hot.session_factory() as session:
        found = session.scalars(select(Category.id).where(Category.path.startswith("城乡建设/"))).first()
    assert found is not None
    return found


def campaign(hot: App, dialer: SurveyDialer, **policy: object) -> CallbackCampaign:
    settings = {"first_call_after": timedelta(0), **policy}
    return CallbackCampaign(hot.work_orders, dialer, CampaignPolicy(**settings))  # type: ignore[arg-type]


@pytest.fixture
def morning(clock: FakeClock) -> FakeClock:
    clock.set(MONDAY_0930)
    return clock


async def test_satisfied_citizen_closes_the_order_audited_as_the_survey(hot: App, morning: FakeClock) -> None:
    number, lead = resolved_order(hot, morning)
    dialer = FakeDialer({PHONE: [Citizen("answer", ("1", "5"))]})
    report = await campaign(hot, dialer).run_once()

    assert (report.created, report.called, report.results) == (1, 1, {"closed": 1})
    assert [(c.order_number, c.phone) for c in dialer.calls] == [(number, PHONE)]
    order = hot.work_orders.get(number)
    assert order.state is OrderState.CLOSED and order.closed_at == morning.now()
    [record] = order.callbacks
    assert (record.by, record.by_role, record.outcome, record.solved, record.rating, record.unit_code) == (
        AUTO_ACTOR.name,
        "auto",
        CallbackOutcome.SATISFIED,
        True,
        5,
        lead,
    )
    assert record.recording_ref and record.recording_ref.endswith(".wav")
    close = order.history[-1]
    assert (close.action, close.actor, close.actor_role) == ("close", AUTO_ACTOR.name, "auto")
    assert "满意" in close.note
    [attempt] = CallbackCampaign(hot.work_orders, None).attempts(number)
    assert (attempt.mode, attempt.call_status, attempt.outcome, attempt.evaluated_unit) == (
        "auto",
        "answered",
        "closed",
        lead,
    )
    [task] = CallbackCampaign(hot.work_orders, None).tasks(number)
    assert (task.state, task.result, task.attempts) == ("done", "closed", 1)


async def test_not_solved_reopens_to_the_same_unit_with_the_shorter_clock(
    hot: App, morning: FakeClock
) -> None:
    number, lead = resolved_order(hot, morning)
    before = hot.work_orders.get(number)
    first_round = [a for a in before.assignments if a.active]
    report = await campaign(hot, FakeDialer({PHONE: [Citizen("answer", ("2", "4"))]})).run_once()

    assert report.results == {"reopened": 1}
    order = hot.work_orders.get(number)
    assert order.state is OrderState.DISPATCHED and order.redo_count == 1
    assert order.lead_unit == lead
    assert {a.unit_code for a in order.active_assignments} == {a.unit_code for a in first_round}
    reopen = hot.policy.reopen
    assert order.response_due_at == morning.now() + timedelta(minutes=reopen.response_minutes)
    assert order.response_due_at - morning.now() < timedelta(minutes=hot.policy.default.response_minutes)
    [record] = order.callbacks
    assert (record.outcome, record.solved, record.rating) == (CallbackOutcome.UNSATISFIED, False, 4)
    assert [(e.action, e.actor) for e in order.history[-1:]] == [("reopen", AUTO_ACTOR.name)]


async def test_unanswered_calls_retry_inside_windows_then_go_to_the_manual_list(
    hot: App, morning: FakeClock
) -> None:
    number, lead = resolved_order(hot, morning)
    dialer = FakeDialer({PHONE: [Citizen("no_answer"), Citizen("busy"), Citizen("no_answer")]})
    loop = campaign(hot, dialer)

    assert (await loop.run_once()).results == {"retry": 1}  # 09:30, no answer: again at 11:30
    [task] = loop.tasks(number)
    assert task.next_attempt_at == MONDAY_0930 + timedelta(hours=2)
    morning.advance(hours=1)
    assert (await loop.run_once()).called == 0  # not due yet
    morning.set(task.next_attempt_at)
    assert (await loop.run_once()).results == {"retry": 1}  # busy: again 30 min later, 12:00 is lunch
    [task] = loop.tasks(number)
    assert task.next_attempt_at == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 14:00 Haikou
    morning.set(datetime(2026, 11, 23, 4, 30, tzinfo=UTC))  # 12:30, due but at lunch: nobody is called
    assert (await loop.run_once()).called == 0
    morning.set(task.next_attempt_at)
    assert (await loop.run_once()).results == {"manual": 1}

    assert len(dialer.calls) == 3
    order = hot.work_orders.get(number)
    assert order.state is OrderState.RESOLVED  # unreachable keeps it resolved, every attempt recorded
    assert [c.outcome for c in order.callbacks] == [CallbackOutcome.UNREACHABLE] * 3
    assert [e.after.get("attempt") for e in order.history if e.action == "callback_unreachable"] == [1, 2, 3]
    assert [a.outcome for a in loop.attempts(number)] == ["no_answer", "busy", "no_answer"]
    assert [t.order_number for t in loop.manual_list()] == [number]
    morning.advance(days=1)
    assert (await loop.run_once()).called == 0  # handed over: the survey does not call again

    # A department head on duty takes it from the manual list: their unit's order, their evaluation.
    head = Actor("zhang.director", "department_head", lead)
    cmd = CallbackCommand(outcome=CallbackOutcome.SATISFIED, solved=True, rating=4, note="局长回访，满意")
    order = loop.record_manual(number, head, cmd)
    assert order.state is OrderState.CLOSED
    assert (order.callbacks[-1].by, order.callbacks[-1].by_role, order.callbacks[-1].unit_code) == (
        "zhang.director",
        "department_head",
        lead,
    )
    assert (order.history[-1].actor, order.history[-1].actor_role) == ("zhang.director", "department_head")
    manual = loop.attempts(number)[-1]
    assert (manual.mode, manual.by, manual.by_unit, manual.evaluated_unit, manual.outcome) == (
        "manual",
        "zhang.director",
        lead,
        lead,
        "closed",
    )
    assert loop.manual_list() == []


async def test_a_department_head_takes_only_their_units_callbacks(hot: App, morning: FakeClock) -> None:
    number, _lead = resolved_order(hot, morning)
    loop = campaign(hot, FakeDialer())
    cmd = CallbackCommand(outcome=CallbackOutcome.SATISFIED, solved=True, rating=5)
    with pytest.raises(Forbidden):
        loop.record_manual(number, Actor("other.head", "department_head", "city.water"), cmd)
    with pytest.raises(Forbidden):
        loop.record_manual(number, Actor("handler", "department", _lead), cmd)
    assert hot.work_orders.get(number).state is OrderState.RESOLVED
    order = loop.record_manual(number, Actor("qa1", "qa"), cmd)  # the hotline's QA staff may
    assert order.state is OrderState.CLOSED


async def test_nobody_is_called_at_night_and_the_task_waits_for_the_morning(
    hot: App, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # 22:00 in Haikou
    number, _ = resolved_order(hot, clock)
    dialer = FakeDialer({PHONE: [Citizen("answer", ("1", "5"))]})
    loop = campaign(hot, dialer)
    assert (await loop.run_once()).called == 0
    [task] = loop.tasks(number)
    assert task.next_attempt_at == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 the next day
    clock.set(datetime(2026, 11, 23, 19, 0, tzinfo=UTC))  # 03:00
    assert (await loop.run_once()).called == 0
    clock.set(task.next_attempt_at)
    assert (await loop.run_once()).results == {"closed": 1}
    assert dialer.calls and hot.work_orders.get(number).state is OrderState.CLOSED


async def test_two_workers_never_call_the_same_citizen(hot: App, morning: FakeClock) -> None:
    numbers = [resolved_order(hot, morning, phone=f"1381234567{i}")[0] for i in range(3)]
    dialers = [FakeDialer(), FakeDialer()]
    first, second = (campaign(hot, d) for d in dialers)
    first.sync(morning.now())
    claims_a = first.claim(morning.now(), 2)
    claims_b = second.claim(morning.now(), 5)
    assert len(claims_a) == 2 and len(claims_b) == 1
    assert {c.order_number for c in claims_a} | {c.order_number for c in claims_b} == set(numbers)
    assert second.claim(morning.now(), 5) == []
    # A worker that dies keeps its claims only for the lease, then they are due again.
    morning.advance(minutes=16)
    first.sync(morning.now())
    assert len(second.claim(morning.now(), 5)) == 3


async def test_callback_taken_elsewhere_cancels_the_task_and_a_redo_owes_a_new_one(
    hot: App, morning: FakeClock
) -> None:
    number, lead = resolved_order(hot, morning)
    dialer = FakeDialer({PHONE: [Citizen("answer", ("1", "5"))]})
    loop = campaign(hot, dialer, first_call_after=timedelta(hours=1))
    await loop.run_once()  # the task exists, due at 10:30
    # The citizen calls the hotline first; the agent records "not solved" from the desk.
    hot.work_orders.handle(
        RecordCallback(
            number, CallbackCommand(outcome=CallbackOutcome.UNSATISFIED, solved=False, note="来电反映未解决")
        ),
        AGENT,
    )
    report = await loop.run_once()
    assert (report.cancelled, report.called) == (1, 0)
    [task] = loop.tasks(number)
    assert (task.state, task.result) == ("cancelled", "superseded")
    unit = Actor("handler", "department", lead)
    hot.work_orders.handle(Acknowledge(number, lead), unit)
    morning.advance(hours=1)
    hot.work_orders.handle(Resolve(number, lead, "已再次整改"), unit)
    morning.advance(hours=1)
    report = await loop.run_once()
    assert (report.created, report.results) == (1, {"closed": 1})
    assert [t.state for t in loop.tasks(number)] == ["cancelled", "done"]
    assert hot.work_orders.get(number).state is OrderState.CLOSED
    assert len(dialer.calls) == 1


async def test_a_dialer_that_breaks_costs_an_attempt_not_the_task(hot: App, morning: FakeClock) -> None:
    class Broken(FakeDialer):
        async def survey(self, order_number: str, phone: str, *, language: str = "zh") -> SurveyOutcome:
            raise RuntimeError("switch exploded")

    number, _ = resolved_order(hot, morning)
    loop = campaign(hot, Broken())
    assert (await loop.run_once()).results == {"retry": 1}
    [attempt] = loop.attempts(number)
    assert (attempt.call_status, attempt.outcome) == ("failed", "failed")
    assert "switch exploded" in attempt.detail
    [task] = loop.tasks(number)
    assert task.next_attempt_at == morning.now() + timedelta(minutes=15)


async def test_a_switch_that_is_down_is_waited_for(hot: App, morning: FakeClock) -> None:
    class Down(FakeDialer):
        def ready(self) -> bool:
            return False

    number, _ = resolved_order(hot, morning)
    dialer = Down({PHONE: [Citizen("answer", ("1", "5"))]})
    loop = campaign(hot, dialer)
    assert (await loop.run_once()).called == 0
    assert dialer.calls == [] and loop.tasks(number)[0].attempts == 0


async def test_the_command_line_lists_the_manual_callbacks_and_the_attempts(
    hot: App, morning: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from hotline.cli import app as cli

    number, _ = resolved_order(hot, morning)
    await campaign(hot, FakeDialer({PHONE: [Citizen("busy")]}), max_attempts=1).run_once()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", hot.settings.resolved_database_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(hot.settings.data_dir))
    runner = CliRunner()
    listed = runner.invoke(cli, ["callbacks", "manual"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and number in listed.output
    shown = runner.invoke(cli, ["callbacks", "attempts", number], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "busy" in shown.output and "system:callback-survey" in shown.output
