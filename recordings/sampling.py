"""Which calls QA reviews: a random share of each agent's calls per day, plus rules — a complaint about the
agent, a long silence in the transcript, a raised voice on either leg.

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
from recordings.orders import OrderLookup, OrderSummary
from recordings.orm import QaSample, Recording
from recordings.transcripts import Segment, TranscriptSource

# Words in a work order that mark a complaint about the hotline's own staff (话务员 = the agent).
COMPLAINT_WORDS = ("话务员", "工作人员态度", "接线员", "客服态度")


@dataclass(frozen=True)
class SamplingRules:
    random_percent: float = 5.0
    long_silence_s: float = 15.0
    raised_voice_s: int = 3  # seconds above audio.RAISED_VOICE_DBFS on one leg
    complaint_lookback_days: int = 30
    complaint_words: tuple[str, ...] = COMPLAINT_WORDS


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
        gap, at = longest_silence(transcripts.segments(call.call_id))
        if gap >= rules.long_silence_s * 1000:
            picks.append(
                Pick(
                    call.recording_id, call.call_id, call.agent, "long_silence", {"gap_ms": gap, "at_ms": at}
                )
            )
        loud = {leg: int(call.features.get(f"{leg}_loud_s") or 0) for leg in ("caller", "agent")}
        if max(loud.values()) >= rules.raised_voice_s:
            picks.append(Pick(call.recording_id, call.call_id, call.agent, "raised_voice", {"loud_s": loud}))
        for order in complaints:
            if _complaint_concerns(order, call, rules):
                picks.append(
                    Pick(call.recording_id, call.call_id, call.agent, "complaint", {"order": order.number})
                )
                break
    return picks


def _complaint_concerns(order: OrderSummary, call: CallFacts, rules: SamplingRules) -> bool:
    """The complaint is linked to the call itself, or the same citizen called in the days before it."""
    if order.number in call.order_numbers or call.call_id in order.call_ids:
        return True
    if not (order.citizen_phone and call.caller_number == order.citizen_phone and order.accepted_at):
        return False
    return (
        order.accepted_at - timedelta(days=rules.complaint_lookback_days)
        <= call.started_at
        <= order.accepted_at
    )


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
            with ctx.session_factory() as session, session.begin():
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
