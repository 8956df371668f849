"""How many citizens call, when, and what happens to their calls: the demo's call traffic.

Deterministic for a seed: every day draws from its own ``random.Random(f"{seed}:{day}")``, so a day's
calls do not depend on how many days are generated before it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from analytics.demo.haikou import (
    AFTER_HOLIDAY_FACTOR,
    CALLS_PER_DAY,
    HOLIDAY_FACTOR,
    HOURLY,
    WEEKDAY_FACTOR,
)
from kernel.holidays import holiday_name, is_workday

HAIKOU = ZoneInfo("Asia/Shanghai")
AGENTS = tuple(f"demo-agent-{n:03d}" for n in range(1, 151))


@dataclass(frozen=True)
class Surge:
    """Extra calls in one place for a few hours: a typhoon (city-wide) or a power outage (one street)."""

    kind: str  # "typhoon" or "outage"
    start: datetime
    hours: float
    calls: int
    district: str | None = None


@dataclass
class DayPlan:
    day: date
    calls: int
    factor: float
    surges: list[Surge] = field(default_factory=list)


def official_holiday(day: date) -> bool:
    """A statutory holiday (not a plain weekend); 调休 working weekends are working days."""
    return holiday_name(day) is not None


def day_factor(day: date) -> float:
    """Relative volume of a day: weekly cycle, holidays, adjusted working days, the day after a holiday."""
    if official_holiday(day):
        return HOLIDAY_FACTOR
    if not is_workday(day):
        return WEEKDAY_FACTOR[day.weekday()]
    factor = WEEKDAY_FACTOR[day.weekday()] if day.weekday() < 5 else WEEKDAY_FACTOR[0]  # 调休: like a Monday
    if all(not is_workday(day - timedelta(days=k)) for k in (1, 2, 3)):
        factor = max(factor, AFTER_HOLIDAY_FACTOR)  # the first working day after a long holiday
    return factor


def plan_surges(seed: int, first: date, last: date) -> list[Surge]:
    """One typhoon and one power outage a month, at seeded moments."""
    rng = random.Random(f"{seed}:surges")
    days = (last - first).days + 1
    surges: list[Surge] = []
    if days >= 7:
        offset = rng.randrange(max(1, days // 10), max(2, days * 6 // 10))
        start = datetime.combine(first + timedelta(days=offset), time(6), HAIKOU)
        # 20,000 calls on the worst day (the articles): ~14,000 extra over a day and a half.
        surges.append(Surge("typhoon", start.astimezone(UTC), 30.0, 14000))
    for k in range(max(1, days // 30)):
        offset = rng.randrange(0, days)
        start = datetime.combine(first + timedelta(days=offset), time(rng.randrange(9, 19)), HAIKOU)
        district = rng.choice(("秀英区", "龙华区", "琼山区", "美兰区"))
        surges.append(Surge("outage", start.astimezone(UTC), 3.0, 180 + 40 * k, district))
    return surges


def plan_day(seed: int, day: date, surges: list[Surge], scale: float) -> DayPlan:
    rng = random.Random(f"{seed}:{day}:volume")
    factor = day_factor(day) * math.exp(rng.gauss(0, 0.05))
    start = datetime.combine(day, time(0), HAIKOU).astimezone(UTC)
    end = start + timedelta(days=1)
    mine = [s for s in surges if s.start < end and s.start + timedelta(hours=s.hours) > start]
    return DayPlan(day, round(CALLS_PER_DAY * scale * factor), factor, mine)


_HOUR_WEIGHTS = [w / sum(HOURLY) for w in HOURLY]


def call_times(rng: random.Random, plan: DayPlan) -> list[datetime]:
    """Start times of the day's ordinary calls, by the intraday profile."""
    start = datetime.combine(plan.day, time(0), HAIKOU)
    hours = rng.choices(range(24), weights=_HOUR_WEIGHTS, k=plan.calls)
    return sorted((start + timedelta(hours=h, seconds=rng.random() * 3600)).astimezone(UTC) for h in hours)


def surge_times(rng: random.Random, plan: DayPlan, surge: Surge, scale: float) -> list[datetime]:
    """Extra calls of a surge that fall on this day (front-loaded: most call in the first hours)."""
    day_start = datetime.combine(plan.day, time(0), HAIKOU).astimezone(UTC)
    day_end = day_start + timedelta(days=1)
    out: list[datetime] = []
    for _ in range(round(surge.calls * scale)):
        at = surge.start + timedelta(hours=min(surge.hours, rng.expovariate(2.5 / surge.hours)))
        if day_start <= at < day_end:
            out.append(at)
    return out


@dataclass(frozen=True)
class CallOutcome:
    outcome: str
    wait: float | None
    talk: float | None
    agent: str | None


def call_outcome(rng: random.Random, load: float) -> CallOutcome:
    """What happened to one call at a given load (1.0 = an ordinary day): IVR only, callback, abandoned
    in the queue, or answered after a wait. Waits grow steeply with load (a queue near capacity)."""
    r = rng.random()
    if r < 0.045:
        return CallOutcome("ivr_only", None, None, None)
    if r < 0.053:
        return CallOutcome("callback_requested", rng.uniform(20, 120), None, None)
    mean_wait = 6.0 * load**4
    wait = rng.expovariate(1 / mean_wait) if mean_wait > 0 else 0.0
    patience = rng.expovariate(1 / 75.0)
    if wait > patience:
        return CallOutcome("abandoned", patience, None, None)
    talk = min(1800.0, rng.lognormvariate(math.log(165), 0.5))
    return CallOutcome("answered", wait, talk, rng.choice(AGENTS))
