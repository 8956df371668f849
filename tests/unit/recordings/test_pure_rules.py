"""Pure rules of recordings and QA: byte ranges, consent, scoring, sampling, retention planning, audio."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from recordings import audio
from recordings.orders import OrderSummary
from recordings.policy import QueuePolicy, decide
from recordings.qa import DEFAULT_ITEMS, ReviewInvalid, ScorecardItem, check_items, score
from recordings.ranges import ByteRange, RangeNotSatisfiable, parse_range
from recordings.retention import Candidate, RetentionPolicy, plan
from recordings.sampling import CallFacts, SamplingRules, longest_silence, pick_by_rules, pick_random
from recordings.testing import speech_like, wav_bytes
from recordings.transcripts import FakeTranscriptSource, Segment

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 1)),
        ("bytes=10-19", ByteRange(10, 20)),
        ("bytes=990-", ByteRange(990, 1000)),
        ("bytes=990-5000", ByteRange(990, 1000)),
        ("bytes=-100", ByteRange(900, 1000)),
        ("bytes=-5000", ByteRange(0, 1000)),
        ("items=0-5", None),  # unknown unit: ignored
        ("bytes=0-1,5-6", None),  # several ranges: answered with the whole file
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=5-2", "bytes=-0", "bytes=abc", "bytes=-", "bytes=2000-3000"]
)
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_content_range_is_inclusive() -> None:
    assert ByteRange(10, 20).content_range(1000) == "bytes 10-19/1000"


def test_consent_rules() -> None:
    assert decide(QueuePolicy("q"), None).record
    assert decide(QueuePolicy("q"), "no").reason == "caller_declined"
    assert not decide(QueuePolicy("q"), "NO ").record
    assert decide(QueuePolicy("q"), "yes").reason == "caller_agreed"
    off = decide(QueuePolicy("q", record=False), "yes")
    assert (off.record, off.reason) == (False, "queue_off")


def test_scoring_weighted_share_and_instant_fail() -> None:
    perfect = {i.code: i.max_score for i in DEFAULT_ITEMS}
    assert score(DEFAULT_ITEMS, perfect) == (100.0, False, [])
    half = {**perfect, "policy": 2.5}  # policy weighs 25 of 100: half of it lost
    assert score(DEFAULT_ITEMS, half)[0] == 87.5
    assert score(DEFAULT_ITEMS, {**perfect, "privacy": 0}) == (0.0, True, ["privacy"])


@pytest.mark.parametrize(
    "change", [{"greeting": 6}, {"greeting": -1}, {"unknown": 1}], ids=["too-high", "negative", "unknown"]
)
def test_invalid_score_sheets(change: dict[str, float]) -> None:
    sheet = {i.code: i.max_score for i in DEFAULT_ITEMS} | change
    with pytest.raises(ReviewInvalid):
        score(DEFAULT_ITEMS, sheet)
    with pytest.raises(ReviewInvalid):
        score(DEFAULT_ITEMS, {"greeting": 5})  # the others unscored


def test_scorecard_item_rules() -> None:
    with pytest.raises(ValueError, match="pass/fail"):
        ScorecardItem(code="x", label_zh="x", label_en="x", weight=0, max_score=5, instant_fail=True)
    with pytest.raises(ReviewInvalid):
        check_items(
            [ScorecardItem(code="x", label_zh="x", label_en="x", weight=0, max_score=1, instant_fail=True)]
        )


def test_longest_silence_merges_overlapping_legs() -> None:
    segments = [
        Segment("caller", 0, 3000, "a"),
        Segment("agent", 2500, 5000, "b"),
        Segment("caller", 4000, 4500, "c"),
        Segment("agent", 25000, 26000, "d"),
    ]
    assert longest_silence(segments) == (20000, 5000)
    assert longest_silence([]) == (0, 0)


def _call(i: int, agent: str = "8001", started_at: datetime = NOW, **kw: object) -> CallFacts:
    return CallFacts(i, f"c{i}", agent, started_at, 60000, **kw)  # type: ignore[arg-type]


def test_random_sampling_takes_a_share_per_agent_and_is_repeatable() -> None:
    calls = [_call(i, "8001") for i in range(40)] + [_call(100 + i, "8002") for i in range(3)]
    picks = pick_random(calls, 10, date(2026, 11, 23))
    assert sum(p.agent == "8001" for p in picks) == 4 and sum(p.agent == "8002" for p in picks) == 1
    assert picks == pick_random(calls, 10, date(2026, 11, 23))
    assert pick_random(calls, 0, date(2026, 11, 23)) == []


def test_rule_sampling() -> None:
    complaint = OrderSummary(
        "HK9", "accepted", "complaint", "", "投诉", "话务员态度差", (), "13800000000", NOW + timedelta(days=2)
    )
    calls = [
        _call(1, features={"caller_loud_s": 5}),
        _call(2, caller_number="13800000000"),
        _call(3),
        _call(4, caller_number="13800000000", started_at=NOW - timedelta(days=60)),
    ]
    transcripts = FakeTranscriptSource(
        {"c3": [Segment("caller", 0, 1000, "喂"), Segment("agent", 30000, 31000, "您好")]}
    )
    picks = {
        (p.recording_id, p.reason) for p in pick_by_rules(calls, SamplingRules(), transcripts, [complaint])
    }
    assert picks == {(1, "raised_voice"), (2, "complaint"), (3, "long_silence")}


def test_retention_plan() -> None:
    policy = RetentionPolicy(keep_original_days=30, delete_after_days=365)
    old = NOW - timedelta(days=40)
    candidates = [
        Candidate(1, "a", old, frozenset({"mixed", "caller", "agent", "compressed"})),
        Candidate(2, "b", old, frozenset({"mixed"})),  # never compressed: originals stay
        Candidate(3, "c", NOW - timedelta(days=400), frozenset({"compressed"}), ("HK1",)),
        Candidate(4, "d", NOW - timedelta(days=400), frozenset({"compressed"})),
        Candidate(5, "e", NOW - timedelta(days=5), frozenset({"mixed", "compressed"})),
    ]
    actions, held = plan(candidates, NOW, policy, lambda c: list(c.order_numbers))
    assert [(a.recording_id, a.what, a.kinds) for a in actions] == [
        (1, "originals", ("agent", "caller", "mixed")),
        (4, "recording", ("compressed",)),
    ]
    assert [(h.recording_id, h.open_orders) for h in held] == [(3, ("HK1",))]


def test_audio_measures() -> None:
    samples = speech_like(2.0, 8000, amplitude=0.5)
    info = audio.describe(wav_bytes(samples))
    assert (info.format, info.sample_rate, info.duration_ms) == ("wav", 8000, 2000)
    peaks = audio.peaks(samples, 200)
    assert len(peaks) == 200 and all(lo <= hi for lo, hi in peaks)
    assert max(hi for _, hi in peaks) == pytest.approx(float(samples.max()), abs=1e-3)
    levels = audio.window_dbfs(np.concatenate([samples, np.zeros(8000, np.float32)]), 8000)
    assert len(levels) == 3 and levels[2] < -150 and -12 < levels[0] < -4
