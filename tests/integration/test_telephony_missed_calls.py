"""Missed calls become callbacks in the transaction that closes the call (telephony/missed_calls.py), fed with
the ARI event shapes Asterisk 22 sends (see test_records.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from hotline.bootstrap import App
from kernel.calling_hours import CallingHours, closed_days
from routing.calendar import ChineseWorkCalendar
from telephony.callback_store import QueueCallbackStore
from telephony.missed_calls import QueueCallbackPolicy, callable_number
from telephony.orm import CallRow, QueueCallbackRow
from telephony.records import CallRecorder

CITIZEN = "13800000009"
POLICY = QueueCallbackPolicy(
    hours=CallingHours(((time(8), time(21)),), "Asia/Shanghai", closed_days(ChineseWorkCalendar()))
)


def ev(kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": at.isoformat(), **fields}


def caller(call_id: str, number: str = CITIZEN) -> dict[str, Any]:
    return {
        "id": call_id,
        "name": f"PJSIP/citizens-{call_id[-4:]}",
        "state": "Up",
        "caller": {"number": number, "name": ""},
        "dialplan": {"context": "hotline-inbound", "exten": "12345", "priority": 1},
    }


def haikou(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


class Calls:
    def __init__(self, hot: App, policy: QueueCallbackPolicy = POLICY) -> None:
        self.hot = hot
        self.recorder = CallRecorder(hot.session_factory, hot.bus, callbacks=policy)
        self.n = 0

    def call(self, at: datetime, *, number: str = CITIZEN, queued: bool = False, route: str | None = None,
             answered: bool = False, seconds: int = 20) -> str:  # fmt: skip
        self.n += 1
        channel = caller(f"main-17000000{self.n:02d}.1", number)
        handle = self.recorder.handle_event
        handle(ev("ChannelCreated", at, channel=channel))
        if route is not None:
            handle(ev("ChannelVarset", at + timedelta(seconds=5), channel=channel, variable="HOTLINE_ROUTE",
                      value=route))  # fmt: skip
        if queued:
            fields = {"queue": "complaint", "priority": "0", "choices": "lang%3Azh%2Cmain%3A2", "lang": "zh"}
            handle(ev("ChannelUserevent", at + timedelta(seconds=6), channel=channel,
                      eventname="HotlineQueueJoin", userevent=fields))  # fmt: skip
        if answered:
            agent = {"id": f"{channel['id']}a", "name": "PJSIP/agent1001-00000002", "state": "Up",
                     "caller": {"number": "agent1001"}, "dialplan": {"context": "hotline-agents"}}  # fmt: skip
            handle(ev("Dial", at + timedelta(seconds=8), caller=channel, peer=agent, dialstatus="ANSWER"))
        handle(
            ev(
                "ChannelDestroyed",
                at + timedelta(seconds=seconds),
                channel=channel,
                cause_txt="Normal Clearing",
            )
        )
        return str(channel["id"])

    def requests(self) -> list[QueueCallbackRow]:
        with self.hot.session_factory() as session:
            return list(session.scalars(select(QueueCallbackRow).order_by(QueueCallbackRow.id)))

    def outcome(self, call_id: str) -> str:
        with self.hot.session_factory() as session:
            return str(session.scalar(select(CallRow.outcome).where(CallRow.call_id == call_id)))


def test_a_caller_who_hangs_up_in_the_queue_is_owed_a_callback_within_the_time(hot: App) -> None:
    calls = Calls(hot)
    call_id = calls.call(haikou(23, 10), queued=True, route="queue-complaint")
    [request] = calls.requests()
    assert calls.outcome(call_id) == "abandoned"
    assert (request.source, request.state, request.phone, request.queue) == (
        "abandoned_queue",
        "waiting",
        CITIZEN,
        "complaint",
    )
    assert request.position is None  # behind those waiting now
    ended = haikou(23, 10) + timedelta(seconds=20)
    assert (request.next_attempt_at, request.due_by) == (ended, ended + timedelta(minutes=30))


def test_a_caller_who_hangs_up_in_the_ivr_is_owed_one_unless_the_ivr_served_them(hot: App) -> None:
    calls = Calls(hot)
    left = calls.call(haikou(23, 10))  # during the welcome
    before_queue = calls.call(haikou(23, 11), number="13800000010", route="queue-consultation")
    served = calls.call(haikou(23, 12), number="13800000011", route="hangup")  # the IVR's goodbye
    assert [(r.phone, r.source, r.queue) for r in calls.requests()] == [
        (CITIZEN, "abandoned_ivr", "consultation"),
        ("13800000010", "abandoned_ivr", "consultation"),
    ]
    assert [calls.outcome(c) for c in (left, before_queue, served)] == ["ivr_abandoned"] * 2 + ["ivr_only"]


def test_one_callback_for_several_missed_calls_and_none_once_answered(hot: App) -> None:
    calls = Calls(hot)
    calls.call(haikou(23, 10), queued=True)
    calls.call(haikou(23, 10, 5), queued=True)
    [request] = calls.requests()
    assert request.missed_calls == 2
    calls.call(haikou(23, 10, 9), queued=True, answered=True)  # they got through
    [request] = calls.requests()
    assert (request.state, request.last_result) == ("cancelled", "answered_inbound")
    calls.call(haikou(23, 11), queued=True)  # missed again later: a new callback
    assert [r.state for r in calls.requests()] == ["cancelled", "waiting"]


def test_a_missed_call_at_night_or_on_a_holiday_is_due_when_calling_opens(hot: App) -> None:
    calls = Calls(hot)
    calls.call(haikou(23, 23), queued=True)
    calls.call(haikou(1, 10, month=10), number="13800000012", queued=True)  # National Day
    night, holiday = calls.requests()
    assert (night.next_attempt_at, night.due_by) == (haikou(24, 8), haikou(24, 8, 30))
    assert holiday.next_attempt_at == haikou(8, 8, month=10)  # the first day after the holiday


def test_not_called_back_a_hidden_number_a_misdial_or_a_callback_request(hot: App) -> None:
    calls = Calls(hot, QueueCallbackPolicy(min_seconds=5))
    hidden = calls.call(haikou(23, 10), number="anonymous", queued=True)
    misdial = calls.call(haikou(23, 10, 1), number="13800000013", seconds=3)
    assert calls.requests() == [] and calls.outcome(hidden) == "abandoned"
    assert calls.outcome(misdial) == "ivr_abandoned"
    asked = calls.recorder.handle_event
    channel = caller("main-1700000099.1", "13800000014")
    asked(ev("ChannelCreated", haikou(23, 11), channel=channel))
    QueueCallbackStore(hot.session_factory).add(
        call_id=channel["id"], phone="13800000014", queue="consultation", priority=0, position=1,
        language="zh", now=haikou(23, 11), source="ivr",
    )  # fmt: skip
    asked(ev("ChannelDestroyed", haikou(23, 11, 1), channel=channel, cause_txt="Normal Clearing"))
    assert [(r.source, r.phone) for r in calls.requests()] == [("ivr", "13800000014")]
    assert calls.outcome(channel["id"]) == "callback_requested"


def test_callable_numbers() -> None:
    assert callable_number("13800000009") and callable_number("+8613800000009")
    assert not callable_number("") and not callable_number("anonymous") and not callable_number("123")


def test_missed_call_callbacks_can_be_turned_off(hot: App) -> None:
    calls = Calls(hot, QueueCallbackPolicy(missed_enabled=False))
    call_id = calls.call(haikou(23, 10), queued=True)
    assert calls.requests() == [] and calls.outcome(call_id) == "abandoned"
