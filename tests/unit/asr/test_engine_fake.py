from __future__ import annotations

from asr.engine import BYTES_PER_MS, FakeRecognizer

SPEECH = b"\x10\x00" * 16 * 20  # 20 ms of non-silent audio
SILENCE = bytes(20 * BYTES_PER_MS)


def test_fake_gives_partials_then_a_final_at_the_endpoint() -> None:
    rec = FakeRecognizer(["一", "二", "三"], words_every_ms=100, endpoint_ms=300)
    events = [e for _ in range(25) for e in rec.accept(SPEECH)]
    assert [e.kind for e in events] == ["partial"] * len(events) and events
    assert events[-1].text.startswith("一 二 三")
    after = [e for _ in range(20) for e in rec.accept(SILENCE)]
    assert [e.kind for e in after] == ["final"]
    assert after[0].start_ms == 0 and after[0].end_ms == 500
    assert rec.finish() == []
