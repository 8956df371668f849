"""Wire events: every registered event survives the trip, and what is not a known event is refused."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

import agent_ui.live
import asr.events
import recordings.events
import routing.domain.events
import telephony.events
from agent_ui.live import KbAnswer, ScoredChoice, SuggestionsReady
from kernel.bus import EventBus
from kernel.events import WireError, decode, encode, registered, wire_type
from routing.domain.events import WorkOrderDispatched
from telephony.events import CallAnswered, PreviousCall, WorkOrderSummary

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
MODULES = (agent_ui.live, asr.events, recordings.events, routing.domain.events, telephony.events)


def test_every_component_event_module_registers_its_cross_process_events() -> None:
    names = {w.name for w in registered()}
    assert {"routing.work_order_accepted", "telephony.call_answered", "asr.transcript_segment"} <= names
    assert {"desk.suggestions_ready", "desk.agent_status_changed", "recordings.recording_stored"} <= names
    assert all(m for m in MODULES)


def test_nested_events_round_trip_with_their_types() -> None:
    pop = CallAnswered(
        "c1",
        "13800138000",
        "agent1",
        "urgent",
        ("lang:zh", "main:3"),
        (PreviousCall("c0", NOW, "answered", "agent2", None),),
        (WorkOrderSummary("HK1", "路灯不亮", "dispatched", NOW),),
        NOW,
    )
    back = decode(encode(pop, "p1"))
    assert back.event == pop and back.origin == "p1" and back.sent_at > 0
    assert isinstance(back.event.previous_calls[0].started_at, datetime)
    ready = SuggestionsReady(
        "c1",
        (KbAnswer("社保卡补办", "带身份证", 3.5, ("社保卡",), "社保", "人社局", 7),),
        12,
        "a/b/c",
        "city.hrss",
        (ScoredChoice("a/b/c", "a/b/c", 0.9),),
        (ScoredChoice("city.hrss", "人社局", 0.8),),
        "社保卡丢了",
        {"categories": [{"name": "a", "score": 0.9}]},
    )
    assert decode(encode(ready, "p1")).event == ready
    dispatched = WorkOrderDispatched("HK1", "city.housing", ["city.market"], NOW, NOW)
    assert decode(encode(dispatched, "p")).event == dispatched


def test_in_process_events_are_not_wire_events() -> None:
    line = agent_ui.live.TranscriptLine("c1", "caller", "你好", True)
    assert wire_type(line) is None
    with pytest.raises(WireError):
        encode(line, "p")


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\x01garbage",
        b"[]",
        b'{"type": "telephony.call_answered"}',
        b'{"type": "telephony.call_answered", "v": 99, "data": {}}',
        b'{"type": "no.such_event", "v": 1, "data": {}}',
        b'{"type": "telephony.call_ended", "v": 1, "data": {"call_id": 5}}',
        b'{"type": "telephony.call_ended", "v": 1, "data": {"call_id": "c", "caller_number": "1",'
        b' "outcome": "x", "agent": null, "ended_at": "2026-11-23T01:00:00"}}',  # a time without a zone
        json.dumps({"type": "telephony.call_ended", "v": 1, "data": "x" * 600_000}).encode(),
    ],
)
def test_malformed_or_unknown_messages_are_refused(payload: bytes) -> None:
    with pytest.raises(WireError):
        decode(payload)


def test_the_bus_relays_wire_events_only_and_delivers_remote_ones_locally() -> None:
    bus = EventBus()
    sent: list[object] = []
    got: list[object] = []
    bus.relay = sent.append
    bus.subscribe(object, got.append)
    wire_event = telephony.events.CallEnded("c1", "1380", "answered", "agent1", NOW)
    local_event = agent_ui.live.TranscriptLine("c1", "caller", "你好", True)
    bus.publish(wire_event)
    bus.publish(local_event)
    assert sent == [wire_event] and got == [wire_event, local_event]
    bus.deliver(dataclasses.replace(wire_event, call_id="c2"))  # from another process: not sent back
    assert len(sent) == 1 and len(got) == 3
