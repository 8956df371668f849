"""Test helpers that compose the desk with other components (the roof's job, so they live in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from hotline.bootstrap import App


def make_full_web(hot: App, *, with_kb: bool = True) -> FastAPI:
    """The desk with the recordings API (audio with ranges, audited) and, optionally, the knowledge base,
    composed as hotline.web does it (the recordings API learns the listener from the desk's session)."""
    from hotline.web import create_web_app

    components = (
        ("recordings.api", "routing.kb.api", "agent_ui.app")
        if with_kb
        else ("recordings.api", "agent_ui.app")
    )
    return create_web_app(hot, components=components)


@dataclass(frozen=True)
class DemoSegment:
    leg: str  # caller | agent
    start_ms: int
    end_ms: int
    text: str


def ingest_recording(
    hot: App,
    spool: Path,
    call_id: str,
    *,
    agent: str = "agent1",
    queue: str = "consultation",
    caller: str = "13812345678",
    seconds: float = 6.0,
    started_at: datetime | None = None,
    order_numbers: tuple[str, ...] = (),
    segments: tuple[DemoSegment, ...] = (),
) -> int:
    """A call's MixMonitor files (a real 8 kHz PCM WAV per leg and their mix) ingested by the recordings
    component, and its final transcript segments as asr stores them. Returns the recording id."""
    from asr.orm import TranscriptSegmentRow
    from recordings.ingest import ingest
    from recordings.testing import write_mixmonitor_files

    write_mixmonitor_files(spool, call_id, seconds)
    result = ingest(
        hot.recordings.ctx,
        call_id,
        spool,
        agent=agent,
        queue=queue,
        caller_number=caller,
        started_at=started_at or hot.clock.now() - timedelta(seconds=seconds),
        order_numbers=order_numbers,
    )
    if segments:
        with hot.session_factory() as session, session.begin():
            for seq, s in enumerate(segments):
                session.add(
                    TranscriptSegmentRow(
                        call_id=call_id,
                        leg=s.leg,
                        seq=seq,
                        start_ms=s.start_ms,
                        end_ms=s.end_ms,
                        text=s.text,
                        text_redacted=s.text,
                        is_final=True,
                        engine="test",
                        created_at=hot.clock.now(),
                    )
                )
    return result.recording_id


DEMO_SEGMENTS = (
    DemoSegment("agent", 0, 1400, "您好，12345 热线，请问有什么可以帮您？"),
    DemoSegment("caller", 1500, 3200, "我们小区楼道的灯坏了一个月了，一直没人修。"),
    DemoSegment("agent", 3300, 4600, "请问小区的具体地址是哪里？"),
    DemoSegment("caller", 4700, 5900, "美兰区海甸岛和平大道三十二号。"),
)
