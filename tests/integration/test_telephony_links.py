"""Calls and work orders (SQLite and PostgreSQL): an order filed at the desk during a call is linked to the
call through routing's own intake (``IntakeCommand.call_id`` -> ``WorkOrderAccepted`` on the bus), and the
caller's earlier orders appear in the screen pop of their next call, whatever form their caller id takes."""

from __future__ import annotations

from typing import Any

from hotline.bootstrap import App
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.events import WorkOrderAccepted
from routing.domain.model import Actor
from telephony.desk import current_call, link_orders_on_intake, link_work_order, linked_work_orders
from telephony.events import CallAnswered
from telephony.records import CallRecorder


def ev(kind: str, second: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": f"2026-11-23T02:00:{second:02d}.000+0000", **fields}


def channel(call_id: str, name: str, number: str, context: str = "hotline-inbound") -> dict[str, Any]:
    return {
        "id": call_id,
        "name": name,
        "state": "Ring",
        "caller": {"number": number, "name": ""},
        "dialplan": {"context": context, "exten": "12345", "priority": 1},
    }


def answered_call(recorder: CallRecorder, call_id: str, number: str, second: int) -> None:
    """ARI's events for a queue call that agent1 answers (shapes as seen on Asterisk 22)."""
    caller = channel(call_id, f"PJSIP/citizens-{second:08x}", number)
    agent = channel(f"{call_id}-a", f"PJSIP/agent1-{second:08x}", "agent1", "hotline-agents")
    recorder.handle_event(ev("ChannelCreated", second, channel=caller))
    recorder.handle_event(
        ev(
            "ChannelUserevent",
            second,
            channel=caller,
            eventname="HotlineQueueJoin",
            userevent={"queue": "consultation"},
        )
    )
    recorder.handle_event(ev("Dial", second + 1, caller=caller, peer=agent, dialstatus=""))
    recorder.handle_event(ev("Dial", second + 2, caller=caller, peer=agent, dialstatus="ANSWER"))


def hang_up(recorder: CallRecorder, call_id: str, second: int) -> None:
    for cid in (f"{call_id}-a", call_id):
        recorder.handle_event(
            ev("ChannelDestroyed", second, channel={"id": cid, "name": "x"}, cause_txt="Normal Clearing")
        )


def test_an_order_filed_during_a_call_is_linked_and_shows_in_the_next_screen_pop(hot: App) -> None:
    hot.bus.subscribe(WorkOrderAccepted, link_orders_on_intake(hot.session_factory))
    recorder = CallRecorder(hot.session_factory, hot.bus)
    answered_call(recorder, "main-1.1", "13812345678", 0)
    # the desk knows which call its agent is on, and files the order with that call id
    call_id = current_call(hot.session_factory, "agent1")
    assert call_id == "main-1.1"
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="美兰区海府路停水两天了",
            citizen_phone="13812345678",
            district="美兰区",
            call_id=call_id,
            dispatch=False,
        ),
        Actor("agent1", "agent"),
    )
    assert linked_work_orders(hot.session_factory, "main-1.1") == [order.number]
    hang_up(recorder, "main-1.1", 20)
    assert current_call(hot.session_factory, "agent1") is None

    # the same citizen calls again, this time presenting +86: the pop lists the order and the last call
    answered_call(recorder, "main-2.1", "+8613812345678", 40)
    pop = [e for e in hot.bus.published if isinstance(e, CallAnswered)][-1]
    assert pop.call_id == "main-2.1"
    assert [(w.number, w.state) for w in pop.work_orders] == [(order.number, "accepted")]


def test_orders_linked_to_earlier_calls_show_even_under_another_contact_number(hot: App) -> None:
    recorder = CallRecorder(hot.session_factory, hot.bus)
    answered_call(recorder, "main-3.1", "13900001111", 0)
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="秀英区长滨路噪音扰民",
            citizen_phone="13600002222",  # the citizen gave another number for the callback
            district="秀英区",
            dispatch=False,
        ),
        Actor("agent1", "agent"),
    )
    assert link_work_order(hot.session_factory, "main-3.1", order.number)
    assert link_work_order(hot.session_factory, "main-3.1", order.number)  # idempotent
    assert not link_work_order(hot.session_factory, "no-such-call", order.number)
    hang_up(recorder, "main-3.1", 10)
    answered_call(recorder, "main-4.1", "13900001111", 30)
    pop = [e for e in hot.bus.published if isinstance(e, CallAnswered)][-1]
    assert [w.number for w in pop.work_orders] == [order.number]
    assert [p.call_id for p in pop.previous_calls] == ["main-3.1"]
    assert linked_work_orders(hot.session_factory, "main-3.1") == [order.number]
