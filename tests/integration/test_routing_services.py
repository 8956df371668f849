"""The work-order service on a real database (SQLite and PostgreSQL): intake, dispatch, audit, SLA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from hotline.bootstrap import App
from kernel.clock import FakeClock
from routing.commands import CallbackCommand, IntakeCommand
from routing.domain import events as ev
from routing.domain.enums import AlarmKind, CallbackOutcome, Channel, OrderState, SupervisionState, Urgency
from routing.domain.errors import IllegalTransition, InvalidInput
from routing.domain.model import Actor
from routing.lifecycle import Acknowledge, RecordCallback, Resolve, StartWork
from routing.orm import Category, order_audit, work_orders
from routing.views import unit_scores

AGENT = Actor("agent007", "agent")


def category_id(hot: App, path_prefix: str) -> int:
    with hot.session_factory() as session:
        cat = session.scalars(select(Category).where(Category.path.startswith(path_prefix))).first()
        assert cat is not None, path_prefix
        return cat.id


def intake(hot: App, **kw: object) -> str:
    fields: dict[str, object] = dict(
        channel=Channel.PHONE,
        description="海甸五西路工地夜间施工噪音扰民，凌晨两点还在打桩",
        citizen_phone="138 1234 5678",
        location_text="美兰区海甸五西路",
        district="美兰区",
        category_id=category_id(hot, "城乡建设/"),
    )
    fields.update(kw)
    return hot.work_orders.intake(IntakeCommand.model_validate(fields), AGENT).number


def test_intake_routes_dispatches_and_audits_in_one_transaction(hot: App) -> None:
    number = intake(hot)
    order = hot.work_orders.get(number)
    assert order.state is OrderState.DISPATCHED
    assert order.citizen_phone == "13812345678"
    assert order.lead_unit is not None and order.lead_unit.startswith("district_bureau.meilan.")
    assert [e.action for e in order.history] == ["accept", "dispatch"]
    assert order.history[1].note  # the dispatch reason a supervisor can read
    assert order.response_due_at == hot.clock.now() + timedelta(minutes=30)
    published = [type(e) for e in hot.bus.published]
    assert published == [ev.WorkOrderAccepted, ev.WorkOrderDispatched]


def test_street_in_the_address_joins_as_assisting_unit_and_implies_the_district(hot: App) -> None:
    number = intake(hot, district=None, location_text="海口市美兰区海甸岛人民大道58号")
    order = hot.work_orders.get(number)
    assert order.district == "美兰区"
    assert any(a.unit_code.startswith(("street.meilan", "town.meilan")) for a in order.active_assignments)


def test_urgent_keywords_send_the_case_ahead_with_the_shortest_clock(hot: App) -> None:
    number = intake(hot, description="我们小区突然停电了，整栋楼都没电，家里有老人", category_id=None)
    order = hot.work_orders.get(number)
    assert order.urgency is Urgency.URGENT and order.urgent_class == "power_outage"
    assert order.lead_unit == "utility.power"
    assert order.response_due_at == hot.clock.now() + timedelta(minutes=10)


def test_bad_input_is_refused_and_nothing_is_written(hot: App) -> None:
    with pytest.raises(ValueError, match="phone"):
        IntakeCommand(channel=Channel.WEB, description="x", citizen_phone="12-34")
    with pytest.raises(InvalidInput):
        intake(hot, category_id=999999)
    with pytest.raises(InvalidInput):
        hot.work_orders.intake(
            IntakeCommand(
                channel=Channel.WEB,
                description="路灯不亮",
                citizen_phone="13812345678",
                targets=[{"unit_code": "no.such.unit"}],
            ),
            AGENT,
        )  # type: ignore[list-item]
    with hot.session_factory() as session:
        assert session.execute(select(work_orders.c.id)).first() is None
        assert session.execute(select(order_audit.c.id)).first() is None


def test_illegal_transition_changes_nothing(hot: App) -> None:
    number = intake(hot)
    before = len(hot.work_orders.get(number).history)
    with pytest.raises(IllegalTransition):
        hot.work_orders.handle(
            Resolve(number, hot.work_orders.get(number).lead_unit or "", "x"), Actor("h", "department")
        )
    assert len(hot.work_orders.get(number).history) == before


def test_audit_records_cannot_be_changed_or_deleted(hot: App) -> None:
    intake(hot)
    for statement in ("UPDATE order_audit SET actor = 'mallory'", "DELETE FROM order_audit"):
        with pytest.raises(DBAPIError, match="append-only"), hot.engine.begin() as conn:
            conn.execute(text(statement))


def test_full_loop_with_callback_reopen_and_close(hot: App, clock: FakeClock) -> None:
    number = intake(hot)
    lead = hot.work_orders.get(number).lead_unit or ""
    unit = Actor("handler", "department", lead)
    clock.advance(minutes=12)
    hot.work_orders.handle(Acknowledge(number, lead), unit)
    hot.work_orders.handle(StartWork(number, lead, "已派执法队员到场"), unit)
    clock.advance(hours=5)
    hot.work_orders.handle(Resolve(number, lead, "已责令施工单位停止夜间施工，并处罚款"), unit)
    clock.advance(days=1)
    order = hot.work_orders.handle(
        RecordCallback(
            number,
            CallbackCommand(outcome=CallbackOutcome.UNSATISFIED, solved=False, rating=2, note="仍有噪音"),
        ),
        AGENT,
    )
    assert order.state is OrderState.DISPATCHED and order.redo_count == 1
    hot.work_orders.handle(Acknowledge(number, lead), unit)
    hot.work_orders.handle(Resolve(number, lead, "已联合住建部门查处，施工单位承诺整改"), unit)
    order = hot.work_orders.handle(
        RecordCallback(number, CallbackCommand(outcome=CallbackOutcome.SATISFIED, solved=True, rating=5)),
        AGENT,
    )
    assert order.state is OrderState.CLOSED
    actions = [e.action for e in order.history]
    assert actions == [
        "accept",
        "dispatch",
        "acknowledge",
        "start_work",
        "resolve",
        "reopen",
        "acknowledge",
        "resolve",
        "close",
    ]
    with hot.session_factory() as session:
        score = next(s for s in unit_scores(session) if s.unit_code == lead)
    assert score.callbacks == 2 and score.satisfied == 1 and score.responses_late == 0


def test_scheduler_raises_alarm_escalates_and_issues_a_supervision_order(hot: App, clock: FakeClock) -> None:
    number = intake(hot, location_text="", district="龙华区")
    lead = hot.work_orders.get(number).lead_unit
    clock.advance(minutes=31)
    assert hot.scheduler.run_once().fired >= 1
    order = hot.work_orders.get(number)
    assert {a.kind for a in order.alarms} == {AlarmKind.RESPONSE_BREACH}
    assert any(isinstance(e, ev.SlaAlarmRaised) for e in hot.bus.published)
    clock.advance(minutes=30)
    hot.scheduler.run_once()
    order = hot.work_orders.get(number)
    escalated = [a for a in order.alarms if a.kind is AlarmKind.ESCALATED]
    assert escalated and escalated[0].addressed_to in {"district.longhua", lead}
    clock.advance(minutes=30)
    hot.scheduler.run_once()
    order = hot.work_orders.get(number)
    mine = [s for s in order.supervisions if s.unit_code == lead]
    assert [s.state for s in mine] == [
        SupervisionState.ISSUED
    ]  # assisting units that stayed silent get theirs
    assert mine[0].number.startswith("DB")
    with hot.session_factory() as session:
        score = next(s for s in unit_scores(session) if s.unit_code == lead)
    assert score.responses_late == 1 and score.supervisions == 1


def test_breaches_that_fell_due_while_down_are_raised_on_the_first_round(hot: App, clock: FakeClock) -> None:
    numbers = [intake(hot) for _ in range(3)]
    clock.advance(hours=3)  # "the scheduler was down": three ladders' worth of deadlines are now past
    hot.scheduler.run_once()
    for number in numbers:
        order = hot.work_orders.get(number)
        assert any(a.kind is AlarmKind.RESPONSE_BREACH for a in order.alarms)
    # a second round finds nothing new that is already fired: no doubles
    alarms = sum(len(hot.work_orders.get(n).alarms) for n in numbers)
    hot.scheduler.run_once()
    assert sum(len(hot.work_orders.get(n).alarms) for n in numbers) >= alarms
    for number in numbers:
        kinds = [(a.kind, a.level, a.unit_code, a.addressed_to) for a in hot.work_orders.get(number).alarms]
        assert len(kinds) == len(set(kinds)), "an alarm was raised twice"


def test_answered_on_the_spot_never_dispatches(hot: App) -> None:
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="咨询社保卡补办需要什么材料",
            citizen_phone="13907551234",
            answer_on_the_spot="携带本人身份证到就近社保服务网点即可补办，工本费免收。",
        ),
        AGENT,
    )
    assert order.state is OrderState.CLOSED and not order.deadlines


def test_numbers_are_unique_and_sequential(hot: App) -> None:
    numbers = [intake(hot) for _ in range(5)]
    assert len(set(numbers)) == 5
    assert numbers == sorted(numbers)
    assert all(n.startswith("HK2026112") for n in numbers)
