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
    bus.publish(CallEnded("c9", "13800138000", "answered", "agent01", now))
    assert feed.status("agent01").status == "wrap_up"
    assert feed.current_call("agent01").ended_at is not None  # type: ignore[union-attr]
