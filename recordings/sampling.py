"""Which calls QA reviews: a random share of each agent's calls per day, plus rules:

- ``complaint``     a work order complains about the agent (话务员态度 …) and concerns this call (linked to it,
                    or the same citizen within the look-back);
- ``long_silence``  the longest gap between anyone's speech in the transcript is at least N seconds;
- ``raised_voice``  one leg stays above the loudness threshold for N seconds (measured at ingest);
- ``heated_words``  the transcript holds words of a quarrel or of a complaint about the agent made during the
                    call (投诉你, 什么态度, 你的工号 …): raised voices as the transcript shows them.

Random picks are seeded by day and agent, so running the job twice picks the same calls.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from recordings.context import RecordingsContext
from recordings.orders import COMPLAINT_WORDS, OrderLookup, OrderSummary, complaint_concerns
from recordings.orm import QaSample, Recording
from recordings.transcripts import Segment, TranscriptSource

# Words in a call's transcript (either leg) that mark a quarrel or a complaint about the agent made in the
# call itself. Vosk transcribes Mandarin without punctuation, so these are plain substrings.
HEATED_WORDS = (
    "投诉你",
    "投诉你们",
    "什么态度",
    "你的工号",
    "你工号",
    "工号多少",
    "叫你们领导",
    "找你们领导",
    "凭什么",
    "骂人",
    "闭嘴",
    "滚蛋",
    "滚开",
    "别吵",
    "吵什么",
    "不耐烦",
)


@dataclass(frozen=True)
class SamplingRules:
    random_percent: float = 5.0
    long_silence_s: float = 15.0
    raised_voice_s: int = 3  # seconds above audio.RAISED_VOICE_DBFS on one leg
    complaint_lookback_days: int = 30
    complaint_words: tuple[str, ...] = COMPLAINT_WORDS
    heated_words: tuple[str, ...] = HEATED_WORDS


@dataclass(frozen=True)
class CallFacts:
    recording_id: int
    call_id: str
    agent: str | None
    started_at: datetime
    duration_ms: int
    caller_number: str | None = None
    order_numbers: tuple[str, ...] = ()
    features: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pick:
    recording_id: int
    call_id: str
    agent: str | None
    reason: str  # random | complaint | long_silence | raised_voice
    detail: dict[str, Any] = field(default_factory=dict)


def pick_random(calls: list[CallFacts], percent: float, day: date) -> list[Pick]:
    by_agent: dict[str, list[CallFacts]] = defaultdict(list)
    for call in calls:
        by_agent[call.agent or ""].append(call)
    picks = []
    for agent, own in sorted(by_agent.items()):
        count = math.ceil(len(own) * percent / 100) if percent > 0 else 0
        rng = random.Random(f"{day.isoformat()}:{agent}")
        for call in rng.sample(sorted(own, key=lambda c: c.recording_id), min(count, len(own))):
            picks.append(Pick(call.recording_id, call.call_id, call.agent, "random", {"percent": percent}))
    return picks


def longest_silence(segments: Iterable[Segment]) -> tuple[int, int]:
    """(gap in ms, where it starts) between speech of either leg, from the final transcript segments."""
    spans = sorted((s.start_ms, s.end_ms) for s in segments)
    longest, at = 0, 0
    if not spans:
        return longest, at
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach > longest:
            longest, at = start - reach, reach
        reach = max(reach, end)
    return longest, at


def pick_by_rules(
    calls: list[CallFacts],
    rules: SamplingRules,
    transcripts: TranscriptSource,
    complaints: list[OrderSummary],
) -> list[Pick]:
    picks = []
    for call in calls:
        segments = transcripts.segments(call.call_id)
        gap, at = longest_silence(segments)
        if gap >= rules.long_silence_s * 1000:
            picks.append(
                Pick(
                    call.recording_id, call.call_id, call.agent, "long_silence", {"gap_ms": gap, "at_ms": at}
                )
            )
        loud = {leg: int(call.features.get(f"{leg}_loud_s") or 0) for leg in ("caller", "agent")}
        if max(loud.values()) >= rules.raised_voice_s:
            picks.append(Pick(call.recording_id, call.call_id, call.agent, "raised_voice", {"loud_s": loud}))
        heated = heated_words(segments, rules.heated_words)
        if heated:
            picks.append(Pick(call.recording_id, call.call_id, call.agent, "heated_words", {"found": heated}))
        for order in complaints:
            if complaint_concerns(
                order,
                call_id=call.call_id,
                caller_number=call.caller_number,
                started_at=call.started_at,
                order_numbers=call.order_numbers,
                lookback_days=rules.complaint_lookback_days,
            ):
                picks.append(
                    Pick(call.recording_id, call.call_id, call.agent, "complaint", {"order": order.number})
                )
                break
    return picks


def heated_words(segments: Iterable[Segment], words: Iterable[str]) -> list[dict[str, Any]]:
    """Each final segment holding one of ``words``: its leg, where it starts, and the word (at most 10)."""
    wanted = tuple(words)
    found: list[dict[str, Any]] = []
    for segment in segments:
        text = segment.text.replace(" ", "")
        word = next((w for w in wanted if w in text), None)
        if word is not None:
            found.append({"leg": segment.leg, "at_ms": segment.start_ms, "word": word})
        if len(found) >= 10:
            break
    return found


def run_sampling(
    ctx: RecordingsContext,
    orders: OrderLookup,
    transcripts: TranscriptSource,
    day: date,
    rules: SamplingRules,
    *,
    tz: str = "Asia/Shanghai",
) -> list[Pick]:
    """Sample the calls of one local day; returns the samples that are new (re-runs add nothing)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), zone)
    with ctx.session_factory() as session:
        calls = [
            CallFacts(
                r.id,
                r.call_id,
                r.agent,
                r.started_at,
                r.duration_ms,
                r.caller_number,
                tuple(r.order_numbers),
                dict(r.features),
            )
            for r in session.scalars(
                select(Recording)
                .where(
                    Recording.started_at >= start,
                    Recording.started_at < start + timedelta(days=1),
                    Recording.deleted_at.is_(None),
                )
                .order_by(Recording.id)
            )
        ]
    complaints = [o for o in orders.mentioning(rules.complaint_words)]
    picks = pick_random(calls, rules.random_percent, day) + pick_by_rules(
        calls, rules, transcripts, complaints
    )
    new = []
    for pick in picks:
        try:
            with ctx.writer() as session, session.begin():
                exists = session.scalar(
                    select(QaSample.id).where(
                        QaSample.recording_id == pick.recording_id, QaSample.reason == pick.reason
                    )
                )
                if exists is not None:
                    continue
                session.add(
                    QaSample(
                        recording_id=pick.recording_id,
                        call_id=pick.call_id,
                        agent=pick.agent,
                        reason=pick.reason,
                        detail=pick.detail,
                        sampled_on=day,
                        created_at=ctx.clock.now(),
                    )
                )
        except IntegrityError:  # sampled concurrently
            continue
        new.append(pick)
    return new
