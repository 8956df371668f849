"""Auto-fill latency: the citizen's final utterance → the form's new values ready for the desk.

.venv/bin/python bench/assist_latency.py [--calls 44]

The live-call path as the embedded process runs it (hotline/live_calls.py): a final ``TranscriptSegment``
of the caller is published on the bus; LiveAssist runs the suggestion engine and the assist on the loop's
executor and publishes ``AutofillReady``, which DeskProjection applies to the desk's picture. Measured: from the segment's publication to the AutofillReady of
that call carrying the new text, for every final of the calls in bench/data/assist_calls.yaml (recognition
itself is not included: the segment is already text). The last hop, the desk's event stream to the form in
Chromium, is measured by tests/e2e/test_browser_assist.py (printed, p50/p95) and added in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_ui.live import AutofillReady, DeskFeed
from asr.events import TranscriptSegment
from hotline.live_calls import DeskProjection, LiveAssist
from kernel.bus import EventBus
from kernel.clock import SystemClock
from routing.assist.service import Assistant
from routing.suggest.factory import engine_from_files
from routing.suggest.service import SuggestionEngine
from telephony.events import CallAnswered, CallEnded

CALLS = Path(__file__).parent / "data" / "assist_calls.yaml"


async def measure(engine: SuggestionEngine, calls: list[dict[str, object]]) -> list[float]:
    bus = EventBus(keep_history=False)
    feed = DeskFeed(bus, SystemClock())

    class Source:
        def get(self) -> SuggestionEngine:
            return engine

    loop = asyncio.get_running_loop()
    arrived: dict[str, float] = {}
    done = asyncio.Event()

    def ready(event: AutofillReady) -> None:  # on the executor's thread
        arrived[event.call_id] = time.perf_counter()
        loop.call_soon_threadsafe(done.set)

    bus.subscribe(AutofillReady, ready)
    DeskProjection(feed).install(bus)
    LiveAssist(bus=bus, loop=loop, suggestions=Source(), assist=Assistant()).install(bus)
    waits: list[float] = []
    for call in calls:
        call_id, now = str(call["id"]), datetime.now(UTC)
        bus.publish(CallAnswered(call_id, str(call["caller"]), "agent01", "consultation", (), (), (), now))
        for text in call["finals"]:  # type: ignore[attr-defined]
            arrived.pop(call_id, None)
            started = time.perf_counter()
            bus.publish(TranscriptSegment(call_id, "caller", 0, 1000, text, text, True, "bench", now))
            while call_id not in arrived:  # a wake-up may be the answer's own (phone-only) autofill
                done.clear()
                await done.wait()
            waits.append((arrived[call_id] - started) * 1000)
        bus.publish(CallEnded(call_id, str(call["caller"]), "answered", "agent01", now))
    return waits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=44)
    args = parser.parse_args()
    calls = yaml.safe_load(CALLS.read_text(encoding="utf-8"))["calls"][: args.calls]
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_from_files(Path(tmp))
    engine.suggest("路灯坏了")  # warm: the first call loads jieba's and pypinyin's dictionaries
    waits = sorted(asyncio.run(measure(engine, calls)))
    p95 = waits[int(0.95 * (len(waits) - 1))]
    print(
        f"{len(waits)} finals: final → AutofillReady p50 {statistics.median(waits):.1f} ms, p95 {p95:.1f} ms"
    )


if __name__ == "__main__":
    main()
