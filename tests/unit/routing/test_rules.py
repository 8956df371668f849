"""The national rules in the pure domain: yellow and red cards, dispatch objections and returns with their
time limits, negotiation of lead and co-handlers, no push-down to streets, catalogue editions, and the
confidential caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.domain.catalogue import CatalogueEdition, DispatchCheck, edition_in_force
from routing.domain.enums import (
    AlarmKind,
    AssignmentRole,
    CallbackOutcome,
    CardColor,
    DeadlineKind,
    OrderState,
    RequestKind,
    RequestStatus,
)
from routing.domain.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from routing.domain.model import Actor, Target
from routing.domain.sla import ObjectionTerms, SlaPolicy, SlaTerms, subtract_working_days, yellow_card_at
from tests.unit.routing.test_workorder import (
    AGENT,
    CAL,
    LEAD,
    NOW,
    POLICY,
    SUPERVISOR,
    UNIT,
    dispatched,
    fire_due,
    new_order,
)

STREET = Actor("s", "department", "street.haidian")
KINDS = {
    LEAD: "district_bureau",
    "street.haidian": "street",
    "town.sanjiang": "town",
    "city.market": "city_bureau",
    "company.power": "utility",
}


def test_yellow_card_ten_minutes_before_the_response_deadline_then_red_at_the_breach() -> None:
    order = dispatched()
    assert fire_due(order, NOW + timedelta(minutes=19)) == []
    assert fire_due(order, NOW + timedelta(minutes=20)) == ["response_warning:0", "response_warning:0"]
    yellow = {c.unit_code: c for c in order.cards}
    assert set(yellow) == {LEAD, "street.haidian"}
    assert all(c.color is CardColor.YELLOW and c.due_at == NOW + timedelta(minutes=30) for c in order.cards)
    assert [h.action for h in order.history[-2:]] == ["yellow_card", "yellow_card"]
    order.acknowledge(STREET, NOW + timedelta(minutes=25), "street.haidian")  # met the deadline: cleared
    assert [c.unit_code for c in order.shown_cards()] == [LEAD]
    fire_due(order, NOW + timedelta(minutes=30))
    red = [c for c in order.cards if c.color is CardColor.RED]
    assert [(c.unit_code, c.clock) for c in red] == [(LEAD, DeadlineKind.RESPONSE)]
    assert [(c.color, c.unit_code) for c in order.shown_cards()] == [(CardColor.RED, LEAD)]
    assert "red_card" in [h.action for h in order.history]


def test_yellow_card_one_working_day_before_resolution_skips_the_weekend() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW, LEAD)
    order.acknowledge(STREET, NOW, "street.haidian")
    (warning,) = order.pending_deadlines(DeadlineKind.RESOLUTION_WARNING)
    assert order.resolution_due_at == NOW + timedelta(days=7)  # Monday + 5 working days = next Monday
    assert warning.due_at == NOW + timedelta(days=4)  # the Friday before, same time
    fire_due(order, warning.due_at)
    (card,) = order.cards
    assert card.clock is DeadlineKind.RESOLUTION and card.color is CardColor.YELLOW
    order.resolve(UNIT, warning.due_at + timedelta(hours=1), LEAD, "已处理")
    assert card.cleared_at is not None and order.shown_cards() == []


def test_an_approved_extension_moves_the_yellow_card_too() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW, LEAD)
    order.request_extension(UNIT, NOW, LEAD, 3, "需要现场勘查")
    order.decide_request(SUPERVISOR, NOW, None, RequestKind.EXTENSION, True, "同意", CAL, POLICY)
    (resolution,) = order.pending_deadlines(DeadlineKind.RESOLUTION)
    (warning,) = order.pending_deadlines(DeadlineKind.RESOLUTION_WARNING)
    assert warning.due_at == subtract_working_days(resolution.due_at, 1, CAL)


def test_a_clock_shorter_than_its_warning_gets_no_yellow_card() -> None:
    terms = SlaTerms(10, 1, yellow_response_minutes=10, yellow_resolution_working_days=0)
    assert yellow_card_at("response", NOW + timedelta(minutes=10), terms, CAL, NOW) is None
    assert yellow_card_at("resolution", NOW + timedelta(days=1), terms, CAL, NOW) is None
    off = SlaTerms(30, 5, yellow_response_minutes=0)
    assert yellow_card_at("response", NOW + timedelta(minutes=30), off, CAL, NOW) is None


def test_a_warning_whose_clock_stopped_issues_no_card() -> None:
    order = dispatched()
    order.acknowledge(UNIT, NOW + timedelta(minutes=1), LEAD)
    order.acknowledge(STREET, NOW + timedelta(minutes=1), "street.haidian")
    assert fire_due(order, NOW + timedelta(minutes=30)) == []
    assert order.cards == []


# ---- objections and returns ------------------------------------------------------------------------------
def test_return_within_the_window_goes_to_review_with_a_deadline() -> None:
    order = dispatched()
    order.request_return(UNIT, NOW + timedelta(hours=1), LEAD, "非本单位职责", POLICY, "city.market")
    (review,) = order.pending_deadlines(DeadlineKind.OBJECTION_REVIEW)
    assert review.due_at == NOW + timedelta(hours=5)
    assert order.requests[-1].proposed_unit == "city.market"
    fire_due(order, review.due_at)
    assert order.alarms[-1].kind is AlarmKind.OBJECTION_OVERDUE and order.alarms[-1].addressed_to == "hotline"
    order.rule_on_return(SUPERVISOR, review.due_at, True, "属市场监管", [Target("city.market")], POLICY, CAL)
    assert order.lead_unit == "city.market" and not order.pending_deadlines(DeadlineKind.OBJECTION_REVIEW)


def test_return_after_the_window_is_refused() -> None:
    order = dispatched()
    with pytest.raises(IllegalTransition, match="window"):
        order.request_return(UNIT, NOW + timedelta(hours=25), LEAD, "非本单位职责", POLICY)
    assert order.state is OrderState.DISPATCHED


def test_assisting_unit_objects_and_is_replaced_on_approval() -> None:
    order = dispatched()
    with pytest.raises(IllegalTransition):  # the lead returns instead
        order.object_to_dispatch(UNIT, NOW, LEAD, "不是我们的", POLICY)
    order.object_to_dispatch(STREET, NOW + timedelta(minutes=5), "street.haidian", "不在本街道辖区", POLICY)
    with pytest.raises(Conflict):
        order.object_to_dispatch(STREET, NOW + timedelta(minutes=6), "street.haidian", "again", POLICY)
    assert not [d for d in order.pending_deadlines(DeadlineKind.RESPONSE) if d.unit_code == "street.haidian"]
    check = DispatchCheck("2026.1", LEAD, KINDS)
    order.rule_on_objection(
        SUPERVISOR,
        NOW + timedelta(hours=1),
        "street.haidian",
        True,
        "属白沙街道",
        POLICY,
        CAL,
        "town.sanjiang",
        check,
    )
    active = {a.unit_code: a.role for a in order.active_assignments}
    assert active == {LEAD: AssignmentRole.LEAD, "town.sanjiang": AssignmentRole.ASSIST}
    assert [d.unit_code for d in order.pending_deadlines(DeadlineKind.RESPONSE)] == [LEAD, "town.sanjiang"]
    assert order.history[-1].action == "objection_approved"
    assert order.state is OrderState.DISPATCHED  # the case goes on with its lead


def test_rejected_objection_restarts_the_units_response_clock() -> None:
    order = dispatched()
    order.object_to_dispatch(STREET, NOW, "street.haidian", "不在本街道辖区", POLICY)
    later = NOW + timedelta(hours=2)
    order.rule_on_objection(SUPERVISOR, later, "street.haidian", False, "属本街道", POLICY, CAL)
    (clock,) = [d for d in order.pending_deadlines(DeadlineKind.RESPONSE) if d.unit_code == "street.haidian"]
    assert clock.due_at == later + timedelta(minutes=30)
    assert order.requests[-1].status is RequestStatus.REJECTED


def test_objection_window_is_configurable() -> None:
    short = SlaPolicy(default=SlaTerms(30, 5), objection=ObjectionTerms(window_hours=2, review_hours=1))
    order = dispatched()
    with pytest.raises(IllegalTransition):
        order.object_to_dispatch(STREET, NOW + timedelta(hours=3), "street.haidian", "不在辖区", short)


# ---- negotiation and the push-down rule ----------------------------------------------------------------
def test_negotiation_records_participants_and_dispatches_to_the_agreed_units() -> None:
    order = new_order()
    targets = [Target("city.market"), Target(LEAD, AssignmentRole.ASSIST)]
    with pytest.raises(InvalidInput):  # a unit dispatched to must have taken part
        order.negotiate(SUPERVISOR, NOW, ["city.market", "street.haidian"], targets, "协商", POLICY, CAL)
    order.negotiate(
        SUPERVISOR,
        NOW,
        ["city.market", LEAD, "street.haidian"],
        targets,
        "三方协商：市场监管主办",
        POLICY,
        CAL,
    )
    (talk,) = order.negotiations
    assert talk.participants == ["city.market", LEAD, "street.haidian"] and talk.lead_unit == "city.market"
    assert talk.assist_units == [LEAD]
    assert order.state is OrderState.DISPATCHED and order.lead_unit == "city.market"
    assert [h.action for h in order.history[-2:]] == ["negotiate", "dispatch"]


def test_negotiation_settles_a_pending_return() -> None:
    order = dispatched()
    order.request_return(UNIT, NOW, LEAD, "非本单位职责", POLICY)
    order.negotiate(SUPERVISOR, NOW, [LEAD, "city.market"], [Target("city.market")], "协商改派", POLICY, CAL)
    assert order.requests[-1].status is RequestStatus.APPROVED and order.lead_unit == "city.market"


def test_a_functional_departments_matter_never_goes_to_a_street_as_lead() -> None:
    check = DispatchCheck("2026.1", LEAD, KINDS)
    order = new_order()
    with pytest.raises(InvalidInput, match="street or town"):
        order.dispatch(AGENT, NOW, [Target("street.haidian")], POLICY, CAL, check=check)
    with pytest.raises(InvalidInput):
        order.negotiate(
            SUPERVISOR, NOW, ["town.sanjiang", LEAD], [Target("town.sanjiang")], "协商", POLICY, CAL, check
        )
    assert order.state is OrderState.ACCEPTED and not order.assignments
    order.dispatch(
        AGENT, NOW, [Target(LEAD), Target("street.haidian", AssignmentRole.ASSIST)], POLICY, CAL, check=check
    )
    assert order.catalogue_version == "2026.1" and order.history[-1].after["catalogue"] == "2026.1"
    # a utility's matter (not a functional department's) may go to a street
    DispatchCheck("2026.1", "company.power", KINDS).refuse_push_down([Target("street.haidian")])


def test_the_edition_in_force_is_the_newest_whose_date_has_come() -> None:
    first = CatalogueEdition(1, "2026.1", datetime(2026, 1, 1, tzinfo=UTC))
    second = CatalogueEdition(2, "2027.1", datetime(2026, 12, 31, 16, tzinfo=UTC))  # 2027-01-01 Haikou
    assert edition_in_force([second, first], datetime(2025, 12, 31, tzinfo=UTC)) is None
    assert edition_in_force([second, first], datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == first
    assert edition_in_force([second, first], datetime(2026, 12, 31, 16, tzinfo=UTC)) == second


# ---- the confidential caller ------------------------------------------------------------------------------
def test_a_unit_cannot_make_the_callback_of_a_confidential_order() -> None:
    order = dispatched()
    order.confidential = True
    order.acknowledge(UNIT, NOW, LEAD)
    order.resolve(UNIT, NOW, LEAD, "已处理")
    head = Actor("head", "department_head", LEAD)
    with pytest.raises(Forbidden):
        order.record_callback(head, NOW, CallbackOutcome.SATISFIED, True, 5, "", POLICY, CAL)
    order.record_callback(Actor("qa1", "qa"), NOW, CallbackOutcome.SATISFIED, True, 5, "", POLICY, CAL)
    assert order.state is OrderState.CLOSED


def test_the_shipped_policy_sets_cards_and_objection_limits_per_policy() -> None:
    from routing.domain.enums import CaseType, Urgency
    from routing.reference import data_file, load_sla_policy

    policy = load_sla_policy(data_file("sla_policies.yaml"))
    normal = policy.terms_for(CaseType.COMPLAINT, Urgency.NORMAL)
    assert (normal.yellow_response_minutes, normal.yellow_resolution_working_days) == (10, 1)
    urgent = policy.terms_for(CaseType.COMPLAINT, Urgency.URGENT)
    assert (urgent.yellow_response_minutes, urgent.yellow_resolution_working_days) == (3, 0)
    redo = policy.terms_for(CaseType.COMPLAINT, Urgency.NORMAL, reopened=True)
    assert (redo.response_minutes, redo.yellow_response_minutes) == (20, 5)
    assert (policy.objection.window_hours, policy.objection.review_hours) == (24, 4)
