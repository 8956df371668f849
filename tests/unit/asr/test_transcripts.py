from __future__ import annotations

from datetime import UTC, datetime

import pytest

from asr.events import TranscriptSegment
from asr.transcripts import InMemorySegmentStore, RevealRefused, masked_transcript, revealed_transcript

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _segment(text: str, masked: str, start: int) -> TranscriptSegment:
    return TranscriptSegment("c1", "caller", start, start + 900, text, masked, True, "vosk", NOW, seq=1)


def test_screens_get_masked_text_and_reveals_are_audited() -> None:
    store = InMemorySegmentStore()
    store.save(_segment("手机13812345678", "手机138****5678", 1000))
    store.save(_segment("你好", "你好", 0))
    store.save(TranscriptSegment("c1", "caller", 0, 1, "partial", "partial", False, "vosk", NOW))
    assert [s.text for s in masked_transcript(store, "c1")] == ["你好", "手机138****5678"]
    with pytest.raises(RevealRefused):
        revealed_transcript(store, "c1", actor="a1", role="agent", reason="查询", now=NOW)
    with pytest.raises(RevealRefused):
        revealed_transcript(store, "c1", actor="q1", role="qa", reason=" ", now=NOW)
    assert store.reveals == []
    raw = revealed_transcript(store, "c1", actor="q1", role="qa", reason="质检复核", now=NOW)
    assert raw[1].text == "手机13812345678"
    assert store.reveals == [("c1", "q1", "qa", "质检复核", NOW)]
