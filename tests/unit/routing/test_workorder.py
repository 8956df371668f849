"""The work-order lifecycle as explicit transitions, with the audit trail and durable clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from routing.domain.enums import (
    AlarmKind,
    AssignmentRole,
    CallbackOutcome,
    CaseType,
    Channel,
    DeadlineKind,
    OrderState,
    RequestKind,
    RequestStatus,
    SupervisionState,
    Urgency,
)
from routing.domain.errors import Conflict, IllegalTransition, InvalidInput
from routing.domain.model import Actor, Target, WorkOrder
from routing.domain.sla import SlaPolicy, SlaTerms, WeekdayCalendar, add_working_days

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Haikou
AGENT = Actor("agent1", "agent")
UNIT = Actor("handler1", "department", "district_bureau.meilan.enforcement")
SUPERVISOR = Actor("boss", "supervisor")
POLICY = SlaPolicy(
    default=SlaTerms(30, 5),
    reopen=SlaTerms(20, 3),
    urgent=SlaTerms(10, 1),
    urgent_classes=(("power_outage", 15),),
)
CAL = WeekdayCalendar()
LEAD = "district_bureau.meilan.enforcement"


def new_order(urgency: Urgency = Urgency.NORMAL, urgent_class: str | None = None) -> WorkOrder:
    order = WorkOrder(
        number="HK202611230000001",
        case_type=CaseType.COMPLAINT,
        channel=Channel.PHONE,
        urgency=urgency,
        category_id=1,
        category_path="城乡建设/城市建设和市政管理/市容市貌",
        title="夜间施工噪音",
        description="海甸岛某工地夜间施工噪音扰民",
        citizen_phone="13812345678",
        location_text="美兰区海甸五西路",
        district="美兰区",
        accepted_at=NOW,
        accepted_by="agent1",
        urgent_class=urgent_class,
    )
    order.open(AGENT, NOW)
    return order


def dispatched(**kw: object) -> WorkOrder:
    order = new_order(**kw)  # type: ignore[arg-type]
    order.dispatch(AGENT, NOW, [Target(LEAD), Target("street.haidian", AssignmentRole.ASSIST)], POLICY, CAL)
    return order


def fire_due(order: WorkOrder, now: datetime) -> list[str]:
    """Fire what is due, round after round (a breach may put the next rung in the past), like the scheduler."""
    fired = []
    numbers = iter(f"DB{i:04d}" for i in range(1, 100))
    while due := sorted((d for d in order.pending_deadlines() if d.due_at <= now), key=lambda d: d.due_at):
        for d in due:
            order.fire_deadline(d, now, POLICY, CAL, "district.meilan", lambda: next(numbers))
            fired.append(f"{d.kind.value}:{d.level}")
    return fired


def test_every_change_leaves_an_audit_record_with_before_and_after() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW + timedelta(minutes=5), LEAD)
    order.start_work(UNIT, NOW + timedelta(minutes=6), LEAD)
    order.resolve(UNIT, NOW + timedelta(hours=3), LEAD, "已责令工地停止夜间施工")
    actions = [e.action for e in order.history]
    assert actions == ["accept", "dispatch", "acknowledge", "start_work", "resolve"]
    assert [e.seq for e in order.history] == [1, 2, 3, 4, 5]
    resolve = order.history[-1]
    assert resolve.before["state"] == "in_progress" and resolve.after["state"] == "resolved"
    assert resolve.after["reply"] == "已责令工地停止夜间施工" and resolve.actor == "handler1"


def test_dispatch_starts_a_30_minute_response_clock_per_unit_and_a_working_day_resolution_clock() -> None:
    order = dispatched()
    response = order.pending_deadlines(DeadlineKind.RESPONSE)
    assert {d.unit_code for d in response} == {LEAD, "street.haidian"}
    assert all(d.due_at == NOW + timedelta(minutes=30) for d in response)
    (resolution,) = order.pending_deadlines(DeadlineKind.RESOLUTION)
    assert resolution.due_at == NOW + timedelta(days=7)  # 5 working days from a Monday: next Monday
    assert order.state is OrderState.DISPATCHED and order.lead_unit == LEAD


def test_urgent_class_gets_its_own_shorter_clock() -> None:
    order = new_order(Urgency.URGENT, "power_outage")
    order.dispatch(AGENT, NOW, [Target("utility.power")], POLICY, CAL)
    (response,) = order.pending_deadlines(DeadlineKind.RESPONSE)
    assert response.due_at == NOW + timedelta(minutes=15)


def test_acknowledging_stops_only_that_units_clock() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW + timedelta(minutes=10), LEAD)
    pending = order.pending_deadlines(DeadlineKind.RESPONSE)
    assert [d.unit_code for d in pending] == ["street.haidian"]
    assert order.state is OrderState.ACKNOWLEDGED and order.responded_at == NOW + timedelta(minutes=10)
    with pytest.raises(Conflict):
        order.acknowledge(UNIT, NOW + timedelta(minutes=11), LEAD)


def test_illegal_transitions_are_refused_and_change_nothing() -> None:
    order = new_order()
    with pytest.raises(IllegalTransition) as err:
        order.resolve(UNIT, NOW, LEAD, "done")
    assert "不能办结" in err.value.message_zh
    assert order.state is OrderState.ACCEPTED and len(order.history) == 1
    order = dispatched()
    with pytest.raises(IllegalTransition):
        order.resolve(UNIT, NOW, "street.haidian", "协办单位不能办结")
    with pytest.raises(IllegalTransition):
        order.acknowledge(UNIT, NOW, "city.police")


def test_answered_on_the_spot_closes_without_dispatch() -> None:
    order = new_order()
    order.answer_on_the_spot(AGENT, NOW, "社保卡补办请携带身份证到就近社保网点")
    assert order.state is OrderState.CLOSED and order.resolution_kind == "on_the_spot"
    assert not order.deadlines


def test_satisfied_callback_closes_and_unsatisfied_reopens_with_a_shorter_clock() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW, LEAD)
    order.resolve(UNIT, NOW + timedelta(hours=1), LEAD, "已处理")
    later = NOW + timedelta(days=1)
    order.record_callback(AGENT, later, CallbackOutcome.UNSATISFIED, False, 2, "噪音仍在", POLICY, CAL)
    assert order.state is OrderState.DISPATCHED and order.redo_count == 1
    (response,) = [d for d in order.pending_deadlines(DeadlineKind.RESPONSE) if d.unit_code == LEAD]
    assert response.due_at == later + timedelta(minutes=20)
    assert order.callbacks[0].unit_code == LEAD
    order.acknowledge(UNIT, later, LEAD)
    order.resolve(UNIT, later + timedelta(hours=2), LEAD, "已再次处理并回访")
    order.record_callback(
        AGENT, later + timedelta(days=1), CallbackOutcome.SATISFIED, True, 5, "", POLICY, CAL
    )
    assert order.state is OrderState.CLOSED


def test_unreachable_callback_keeps_the_order_waiting() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW, LEAD)
    order.resolve(UNIT, NOW, LEAD, "已处理")
    order.record_callback(AGENT, NOW, CallbackOutcome.UNREACHABLE, None, None, "无人接听", POLICY, CAL)
    assert order.state is OrderState.RESOLVED and len(order.callbacks) == 1


def test_return_is_ruled_by_an_arbitrator_who_redispatches() -> None:
    order = dispatched()
    order.request_return(UNIT, NOW + timedelta(minutes=3), LEAD, "该工地属于龙华区，非本辖区")
    assert order.state is OrderState.RETURNED
    assert not order.pending_deadlines(DeadlineKind.RESPONSE)  # the hotline holds the clock
    with pytest.raises(InvalidInput):
        order.rule_on_return(SUPERVISOR, NOW, True, "同意", [Target(LEAD)], POLICY, CAL)
    order.rule_on_return(
        SUPERVISOR,
        NOW + timedelta(minutes=10),
        True,
        "同意退单，改派龙华区",
        [Target("district_bureau.longhua.enforcement")],
        POLICY,
        CAL,
    )
    assert order.lead_unit == "district_bureau.longhua.enforcement"
    assert order.requests[0].status is RequestStatus.APPROVED
    assert order.history[-1].action == "return_approved"
    assert order.history[-1].before["units"] == [LEAD, "street.haidian"]


def test_rejected_return_goes_back_to_the_same_unit_with_a_new_clock() -> None:
    order = dispatched()
    order.request_return(UNIT, NOW, LEAD, "不属于本单位职责")
    order.rule_on_return(SUPERVISOR, NOW + timedelta(hours=1), False, "属职责范围，请办理", None, POLICY, CAL)
    assert order.lead_unit == LEAD and order.state is OrderState.DISPATCHED
    assert min(d.due_at for d in order.pending_deadlines(DeadlineKind.RESPONSE)) == NOW + timedelta(
        minutes=90
    )


def test_extension_approved_moves_the_resolution_deadline() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW, LEAD)
    order.request_extension(UNIT, NOW, LEAD, 3, "需协调施工单位")
    with pytest.raises(Conflict):
        order.request_extension(UNIT, NOW, LEAD, 2, "again")
    before = order.resolution_due_at
    assert before is not None
    order.decide_request(SUPERVISOR, NOW, None, RequestKind.EXTENSION, True, "同意", CAL)
    (resolution,) = order.pending_deadlines(DeadlineKind.RESOLUTION)
    assert resolution.due_at == add_working_days(before, 3, CAL) == order.resolution_due_at


def test_response_breach_climbs_the_ladder_to_a_supervision_order_and_discipline() -> None:
    order = dispatched()
    order.acknowledge(Actor("s", "department", "street.haidian"), NOW, "street.haidian")
    assert fire_due(order, NOW + timedelta(minutes=30)) == ["response_warning:0", "response:1"]
    assert [a.kind for a in order.alarms] == [AlarmKind.RESPONSE_BREACH, AlarmKind.RESPONSE_BREACH]
    assert {a.addressed_to for a in order.alarms} == {LEAD, "hotline"}
    assert fire_due(order, NOW + timedelta(minutes=60)) == ["escalation:2"]
    assert order.alarms[-1].addressed_to == "district.meilan" and order.escalation_level == 2
    assert fire_due(order, NOW + timedelta(minutes=90)) == ["escalation:3"]
    (sup,) = order.supervisions
    assert sup.state is SupervisionState.ISSUED and sup.unit_code == LEAD
    assert fire_due(order, NOW + timedelta(minutes=150)) == ["supervision_ack:4"]
    assert sup.state is SupervisionState.REFERRED and order.escalation_level == 4
    assert order.alarms[-1].addressed_to == "city.discipline"
    assert not [d for d in order.pending_deadlines() if d.supervision_number == sup.number]


def test_acknowledging_in_time_stops_the_ladder() -> None:
    order = dispatched()
    fire_due(order, NOW + timedelta(minutes=31))
    order.acknowledge(UNIT, NOW + timedelta(minutes=40), LEAD)
    assert not [
        d for d in order.pending_deadlines() if d.unit_code == LEAD and d.kind is DeadlineKind.ESCALATION
    ]
    assert all(a.cleared_at is not None for a in order.alarms if a.unit_code == LEAD)


def test_each_silent_unit_gets_its_own_supervision_order() -> None:
    order = dispatched()
    fire_due(order, NOW + timedelta(minutes=90))
    assert sorted(s.unit_code for s in order.supervisions) == sorted([LEAD, "street.haidian"])
    assert len({s.number for s in order.supervisions}) == 2


def test_a_fired_deadline_never_fires_twice() -> None:
    order = dispatched()
    deadline = order.pending_deadlines(DeadlineKind.RESPONSE)[0]
    order.fire_deadline(deadline, NOW + timedelta(minutes=31), POLICY, CAL, "district.meilan", lambda: "DB1")
    alarms = len(order.alarms)
    order.fire_deadline(deadline, NOW + timedelta(minutes=32), POLICY, CAL, "district.meilan", lambda: "DB2")
    assert len(order.alarms) == alarms


def test_resolving_closes_open_supervision_orders() -> None:
    order = dispatched()
    order.acknowledge(Actor("s", "department", "street.haidian"), NOW, "street.haidian")
    fire_due(order, NOW + timedelta(minutes=90))
    (sup,) = order.supervisions
    order.acknowledge_supervision(UNIT, NOW + timedelta(minutes=95), sup.number, LEAD)
    order.acknowledge(UNIT, NOW + timedelta(minutes=95), LEAD)
    order.resolve(UNIT, NOW + timedelta(hours=2), LEAD, "已处理")
    assert sup.state is SupervisionState.RESOLVED
    assert not [d for d in order.pending_deadlines() if d.supervision_number]


def test_appeal_against_a_callback_excludes_it_from_scores_when_approved() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW, LEAD)
    order.resolve(UNIT, NOW, LEAD, "已处理")
    order.record_callback(AGENT, NOW, CallbackOutcome.UNSATISFIED, True, 1, "诉求超出政策范围", POLICY, CAL)
    order.request_appeal(UNIT, NOW, LEAD, "callback", "诉求超出政策范围，已解释")
    order.decide_request(SUPERVISOR, NOW, None, RequestKind.APPEAL, True, "情况属实", CAL)
    assert order.callbacks[0].excluded_from_scores


def test_dispatch_needs_exactly_one_lead() -> None:
    order = new_order()
    with pytest.raises(InvalidInput):
        order.dispatch(AGENT, NOW, [Target("a", AssignmentRole.ASSIST)], POLICY, CAL)
    with pytest.raises(InvalidInput):
        order.dispatch(AGENT, NOW, [Target("a"), Target("b")], POLICY, CAL)
    assert order.state is OrderState.ACCEPTED and len(order.history) == 1


def test_working_days_follow_the_official_calendar_across_a_holiday() -> None:
    from routing.calendar import ChineseWorkCalendar

    cal = ChineseWorkCalendar()
    # National Day 2026: 1-7 October off, Sunday 20 September and Saturday 10 October are working days.
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    assert add_working_days(start, 1, cal).astimezone(UTC).date() == date(2026, 10, 8)
    assert add_working_days(start, 3, cal).astimezone(UTC).date() == date(2026, 10, 10)


def test_calendar_falls_back_to_weekdays_for_years_the_library_does_not_know() -> None:
    from routing.calendar import ChineseWorkCalendar

    cal = ChineseWorkCalendar(extra_holidays={date(2027, 1, 1)})
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 4)) and not cal.is_workday(date(2027, 1, 9))
