"""The call recorder fed with the ARI events Asterisk sends for a queue call (shapes as seen on Asterisk 22)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hotline.bootstrap import App
from telephony.events import CallAnswered, CallEnded
from telephony.orm import CallLegRow, CallRow
from telephony.records import CallRecorder, agent_of

CALLER: dict[str, Any] = {
    "id": "main-1700000000.1",
    "name": "PJSIP/citizens-00000001",
    "state": "Ring",
    "caller": {"number": "13800000009", "name": ""},
    "dialplan": {"context": "hotline-inbound", "exten": "12345", "priority": 1},
}
AGENT: dict[str, Any] = {
    "id": "main-1700000000.2",
    "name": "PJSIP/agent1001-00000002",
    "state": "Down",
    "caller": {"number": "agent1001", "name": ""},
    "dialplan": {"context": "hotline-agents", "exten": "s"},
}


def ev(kind: str, second: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": f"2026-11-22T02:00:{second:02d}.000+0000", **fields}


def queue_call(recorder: CallRecorder, *, answer: bool) -> None:
    recorder.handle_event(ev("ChannelCreated", 0, channel=CALLER))
    recorder.handle_event(
        ev(
            "ChannelUserevent",
            5,
            channel=CALLER,
            eventname="HotlineQueueJoin",
            userevent={
                "queue": "urgent",
                "priority": "10",
                "choices": "lang%3Azh%2Cmain%3A1",  # URIENCODE()d by the dialplan
                "recording": "/var/spool/asterisk/monitor/hotline/x",
                "lang": "zh",
            },
        )
    )
    recorder.handle_event(ev("Dial", 6, caller=CALLER, peer=AGENT, dialstatus=""))
    if answer:
        recorder.handle_event(ev("Dial", 8, caller=CALLER, peer=AGENT, dialstatus="ANSWER"))
        recorder.handle_event(ev("ChannelDestroyed", 30, channel=AGENT, cause_txt="Normal Clearing"))
    recorder.handle_event(ev("ChannelDestroyed", 30, channel=CALLER, cause_txt="Normal Clearing"))


def test_answered_queue_call_is_recorded_with_wait_agent_and_legs(hot: App) -> None:
    recorder = CallRecorder(hot.session_factory, hot.bus)
    queue_call(recorder, answer=True)
    with hot.session_factory() as session:
        call = session.scalars(select(CallRow)).one()
        legs = session.scalars(select(CallLegRow).order_by(CallLegRow.id)).all()
    assert (call.outcome, call.agent, call.queue, call.priority, call.language) == (
        "answered",
        "agent1001",
        "urgent",
        10,
        "zh",
    )
    assert call.queue_wait_seconds == 3.0
    assert call.talk_seconds == 22.0
    assert [(leg.role, leg.dial_status, leg.hangup_cause) for leg in legs] == [
        ("caller", "", "Normal Clearing"),
        ("agent", "ANSWER", "Normal Clearing"),
    ]
    [pop] = [e for e in hot.bus.published if isinstance(e, CallAnswered)]
    assert pop.ivr_choices == ("lang:zh", "main:1")
    assert pop.caller_number == "13800000009"
    assert [e.outcome for e in hot.bus.published if isinstance(e, CallEnded)] == ["answered"]


def test_the_end_of_an_answered_call_tells_the_queues_wrap_up(hot: App) -> None:
    recorder = CallRecorder(hot.session_factory, hot.bus, wrapup={"urgent": 7.0})
    queue_call(recorder, answer=True)
    queue_call_again = dict(CALLER, id="main-1700000000.9")
    recorder.handle_event(ev("ChannelCreated", 40, channel=queue_call_again))
    recorder.handle_event(ev("ChannelDestroyed", 45, channel=queue_call_again, cause_txt="Normal Clearing"))
    ended = [e for e in hot.bus.published if isinstance(e, CallEnded)]
    assert [(e.outcome, e.wrapup_seconds) for e in ended] == [("answered", 7.0), ("ivr_abandoned", None)]


def test_caller_who_hangs_up_in_the_queue_abandoned(hot: App) -> None:
    recorder = CallRecorder(hot.session_factory, hot.bus)
    queue_call(recorder, answer=False)
    with hot.session_factory() as session:
        call = session.scalars(select(CallRow)).one()
    assert (call.outcome, call.agent) == ("abandoned", None)


def test_screen_pop_carries_previous_calls_and_work_orders(hot: App) -> None:
    recorder = CallRecorder(hot.session_factory, hot.bus)
    first = dict(CALLER, id="main-1699999999.1")
    recorder.handle_event(ev("ChannelCreated", 0, channel=first))
    recorder.handle_event(ev("ChannelDestroyed", 1, channel=first, cause_txt="Normal Clearing"))
    queue_call(recorder, answer=True)
    [pop] = [e for e in hot.bus.published if isinstance(e, CallAnswered)]
    # hung up before the IVR was done (no route set): a call abandoned in the IVR
    assert [(p.call_id, p.outcome) for p in pop.previous_calls] == [("main-1699999999.1", "ivr_abandoned")]
    assert pop.work_orders == ()  # none yet for this number


def test_reconcile_closes_calls_that_vanished_with_a_restart(hot: App) -> None:
    recorder = CallRecorder(hot.session_factory, hot.bus)
    recorder.handle_event(ev("ChannelCreated", 0, channel=CALLER))
    recorder.handle_event(
        ev(
            "ChannelUserevent",
            2,
            channel=CALLER,
            eventname="HotlineQueueJoin",
            userevent={"queue": "consultation", "priority": "0"},
        )
    )
    assert recorder.reconcile({CALLER["id"]}, hot.clock.now()) == []
    assert recorder.reconcile(set(), hot.clock.now()) == [CALLER["id"]]
    with hot.session_factory() as session:
        call = session.scalars(select(CallRow)).one()
    assert call.outcome == "abandoned"
    assert call.hangup_cause.startswith("lost")


def test_agent_names_come_from_pjsip_channel_names() -> None:
    assert agent_of("PJSIP/agent1001-0000002a") == "agent1001"
    assert agent_of("Local/park@hotline-util-00000001;1") is None
