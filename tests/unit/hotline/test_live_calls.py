"""The live-call composition without a switch: what the desk gets from ASR segments."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from agent_ui.live import DeskFeed, TranscriptLine
from asr.events import TranscriptSegment
from hotline.live_calls import DeskProjection, LiveAssist
from kernel.bus import EventBus
from kernel.clock import SystemClock
from telephony.events import CallAnswered, CallEnded


async def test_the_desk_shows_the_redacted_text_never_the_raw_one() -> None:
    bus = EventBus(keep_history=True)
    feed = DeskFeed(bus, SystemClock())
    DeskProjection(feed).install(bus)
    live = LiveAssist(bus=bus, loop=asyncio.get_running_loop()).install(bus)
    raw = "我的电话是13800138000"
    bus.publish(
        TranscriptSegment(
            "c1", "caller", 0, 900, raw, "我的电话是138****8000", True, "vosk", datetime.now(UTC)
        )
    )
    [line] = [e for e in bus.published if isinstance(e, TranscriptLine)]
    assert line.text == "我的电话是138****8000" and "13800138000" not in line.text
    assert live.suggestions is None  # nothing to suggest with: the segment is still shown


async def test_screen_pop_and_hangup_reach_the_agent_desk() -> None:
    bus = EventBus(keep_history=True)
    feed = DeskFeed(bus, SystemClock())
    DeskProjection(feed).install(bus)
    now = datetime.now(UTC)
    bus.publish(CallAnswered("c9", "13800138000", "agent01", "urgent", ("lang:zh", "main:3"), (), (), now))
    call = feed.current_call("agent01")
    assert call is not None and (call.call_id, call.caller, call.queue) == ("c9", "13800138000", "urgent")
    assert feed.status("agent01").status == "on_call"
    bus.publish(CallEnded("c9", "13800138000", "answered", "agent01", now, wrapup_seconds=5))
    assert feed.status("agent01").status == "wrap_up"
    assert feed.status("agent01").until is not None  # the desk counts the queue's wrap-up down
    assert feed.current_call("agent01").ended_at is not None  # type: ignore[union-attr]


async def test_the_order_form_fills_itself_from_the_screen_pop_and_the_citizens_finals() -> None:
    from datetime import UTC as _UTC

    from agent_ui.live import AutofillReady, SuggestionsReady
    from routing.assist.service import Assistant
    from routing.suggest.classifier import fit
    from routing.suggest.leaves import LeafScorer, read_leaves
    from routing.suggest.service import SuggestionEngine
    from routing.suggest.units import dispatcher_from_files

    leaves = read_leaves()
    engine = SuggestionEngine(
        fit("char12_svm", ["路灯坏了", "拖欠工资", "出租车绕路"], ["城乡建设", "劳动和社会保障", "交通运输"]),
        LeafScorer(leaves),
        dispatcher_from_files(leaves),
        None,
        lambda: datetime.now(_UTC),
    )

    class Source:
        def get(self) -> SuggestionEngine:
            return engine

    bus = EventBus(keep_history=True)
    feed = DeskFeed(bus, SystemClock())
    loop = asyncio.get_running_loop()
    DeskProjection(feed).install(bus)
    live = LiveAssist(bus=bus, loop=loop, suggestions=Source(), assist=Assistant()).install(bus)
    now = datetime.now(UTC)
    bus.publish(CallAnswered("c7", "13800138000", "agent01", "consultation", (), (), (), now))
    [first] = [e for e in bus.published if isinstance(e, AutofillReady)]
    assert [(f.field, f.value, f.source) for f in first.fields] == [
        ("citizen_phone", "13800138000", "screen_pop")
    ]
    raw = "我住在海甸岛和平大道，路灯坏了，回电打幺三九零七五五幺二三四"
    bus.publish(TranscriptSegment("c7", "caller", 0, 900, raw, "（已遮蔽）", True, "vosk", now))
    for _ in range(200):  # the suggestion runs on the loop's executor
        if len([e for e in bus.published if isinstance(e, AutofillReady)]) == 2:
            break
        await asyncio.sleep(0.02)
    filled = [e for e in bus.published if isinstance(e, AutofillReady)][-1]
    values = {f.field: f for f in filled.fields}
    assert values["district"].value == "美兰区" and values["location_text"].value == "海甸岛和平大道"
    assert values["citizen_phone"].offers == ("13907551234",), "taken from the raw final, not the redacted"
    assert any(isinstance(e, SuggestionsReady) for e in bus.published)
    call = feed.current_call("agent01")
    assert call is not None and call.autofill is filled
    bus.publish(CallEnded("c7", "13800138000", "answered", "agent01", now))
    assert "c7" not in live.assist._calls  # type: ignore[union-attr]


def _segment(text: str, final: bool, start: int, end: int, leg: str = "caller") -> TranscriptSegment:
    return TranscriptSegment("c2", leg, start, end, text, text, final, "vosk", datetime.now(UTC))  # type: ignore[arg-type]


def test_partials_then_the_final_of_an_utterance_are_one_line_keyed_the_same() -> None:
    bus = EventBus(keep_history=True)
    feed = DeskFeed(bus, SystemClock())
    DeskProjection(feed).install(bus)
    feed.call_answered("agent01", "c2", "13800138000")
    bus.publish(_segment("我", False, 0, 400))
    bus.publish(_segment("我要 投诉", False, 0, 900))
    bus.publish(_segment("我要投诉。", True, 260, 1100))  # Vosk: the final starts at its first word
    lines = [e for e in bus.published if isinstance(e, TranscriptLine)]
    assert {line.key for line in lines} == {"caller-1"}
    call = feed.current_call("agent01")
    assert call is not None and [(x.text, x.final, x.start_ms) for x in call.transcript] == [
        ("我要投诉。", True, 260)
    ]


def test_a_speaking_placeholder_partial_is_flagged_for_the_desk() -> None:
    bus = EventBus(keep_history=True)
    feed = DeskFeed(bus, SystemClock())
    DeskProjection(feed).install(bus)
    feed.call_answered("agent01", "c2", "13800138000")
    bus.publish(_segment("正在说话…", False, 3000, 3400, "agent"))
    bus.publish(_segment("您好，请讲。", True, 3050, 4200, "agent"))
    first, final = [e for e in bus.published if isinstance(e, TranscriptLine)]
    assert first.placeholder and first.key == final.key == "agent-1"
    assert not final.placeholder and final.text == "您好，请讲。"
