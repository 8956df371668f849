"""Calls per 30 minutes for the next 14 days, and its backtest against a seasonal-naive baseline.

The model is a plain multiplicative day-type profile, chosen because a supervisor can read it and because it
knows the Chinese calendar (decisions.md): forecast(day, interval) = recent level × factor of the day's
type × that type's share of the day in the interval × planned-event uplift.

- day types: Monday … Friday, 调休 working weekend (treated as a Monday), plain weekend day, statutory
  holiday, first working day after a long holiday (from ``chinesecalendar``);
- level: the median, over the last 14 days, of each day's calls divided by its type factor (the median
  ignores a typhoon day);
- type factors and intraday profiles: medians over the training window; a type never seen there
  (a holiday in a short history) takes a prior from the Haikou shape (holiday 0.70, after-holiday 1.25);
- planned events (a playbook with an expected uplift) multiply their window.

The baseline is weekly seasonal naive: the same interval of the last observed week.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from kernel.holidays import holiday_name, is_workday
from kernel.sqltime import bucket_start

INTERVAL_SECONDS = 1800
PER_DAY = 86400 // INTERVAL_SECONDS
PRIORS = {"holiday": 0.70, "after_holiday": 1.25, "weekend5": 0.80, "weekend6": 0.75}
SURGE_RATIO = 1.8
SHRINK = 2.0  # prior weight, in days, of a day type's factor


def day_type(day: date) -> str:
    if holiday_name(day):
        return "holiday"
    if not is_workday(day):
        return f"weekend{day.weekday()}"
    if all(not is_workday(day - timedelta(days=k)) for k in (1, 2, 3)):
        return "after_holiday"
    return f"weekday{min(day.weekday(), 4) if day.weekday() < 5 else 0}"  # 调休 weekend works like a Monday


def _profile_key(kind: str) -> str:
    return "work" if kind.startswith("weekday") or kind == "after_holiday" else "rest"


@dataclass(frozen=True)
class PlannedEvent:
    start: datetime
    end: datetime
    factor: float
    name: str = ""


@dataclass
class DayProfileModel:
    level: float
    factors: dict[str, float]
    profiles: dict[str, list[float]]
    notes: list[str] = field(default_factory=list)

    def day_total(self, day: date) -> float:
        kind = day_type(day)
        return self.level * self.factors.get(kind, PRIORS.get(kind, 1.0))

    def predict(self, day: date, events: list[PlannedEvent] = ()) -> list[float]:  # type: ignore[assignment]
        total = self.day_total(day)
        shares = self.profiles[_profile_key(day_type(day))]
        out = [total * s for s in shares]
        if events:
            first = day_start_index(day)
            for i in range(PER_DAY):
                start = bucket_start(first + i, INTERVAL_SECONDS)
                for event in events:
                    if event.start <= start < event.end:
                        out[i] *= event.factor
        return out


def day_start_index(day: date) -> int:
    from kernel.sqltime import day_index

    return day_index(day) * PER_DAY


def fit(series: dict[int, int], first: date, last: date) -> DayProfileModel:
    """Fit on whole days ``first``…``last`` of ``series`` (interval index → calls; missing = 0)."""
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    if len(days) < 7:
        raise ValueError("the forecast needs at least 7 days of history")
    per_day = {d: [series.get(day_start_index(d) + i, 0) for i in range(PER_DAY)] for d in days}
    totals = {d: sum(v) for d, v in per_day.items()}
    overall = statistics.median(totals.values()) or 1.0
    # Surge days (a typhoon: twice an ordinary day or more) cannot be foreseen from the calendar; they are
    # left out of the factors and profiles so that one storm does not raise every future Sunday.
    usual = [d for d in days if totals[d] <= SURGE_RATIO * overall] or days
    notes: list[str] = [f"left out {len(days) - len(usual)} surge day(s)"] if len(usual) < len(days) else []
    by_type: dict[str, list[float]] = defaultdict(list)
    for d in usual:
        by_type[day_type(d)].append(totals[d] / overall)
    raw = {kind: statistics.median(v) for kind, v in by_type.items()}
    base = statistics.mean(raw.get(f"weekday{k}", 1.0) for k in range(5))
    factors: dict[str, float] = {}
    for kind, value in raw.items():
        # Few examples of a type are shrunk towards its prior (weekdays 1.0, others from the Haikou shape).
        n = len(by_type[kind])
        prior = PRIORS.get(kind, 1.0)
        factors[kind] = (n * value / base + SHRINK * prior) / (n + SHRINK)
    for kind, prior in PRIORS.items():
        if kind not in factors:
            factors[kind] = prior
            notes.append(f"no {kind} in history: prior factor {prior}")
    recent = [d for d in usual if d >= days[-1] - timedelta(days=13)] or usual[-14:]
    level = statistics.median(totals[d] / factors.get(day_type(d), 1.0) for d in recent)
    profiles: dict[str, list[float]] = {}
    for key in ("work", "rest"):
        chosen = [d for d in usual if _profile_key(day_type(d)) == key and totals[d] > 0] or [
            d for d in usual if totals[d] > 0
        ]
        shares = [statistics.median(per_day[d][i] / totals[d] for d in chosen) for i in range(PER_DAY)]
        norm = sum(shares) or 1.0
        profiles[key] = [s / norm for s in shares]
    return DayProfileModel(level, factors, profiles, notes)


def seasonal_naive(series: dict[int, int], last_observed: date, day: date) -> list[float]:
    """The same interval one week (or two…) before, from the last observed week."""
    lag = 7 * (((day - last_observed).days + 6) // 7) if day > last_observed else 7
    source = day - timedelta(days=lag)
    return [float(series.get(day_start_index(source) + i, 0)) for i in range(PER_DAY)]


def mape(actual: list[float], predicted: list[float], floor: float) -> float | None:
    """Mean absolute percentage error over intervals whose actual reaches ``floor`` calls (night intervals
    with a handful of calls would make a percentage meaningless)."""
    errors = [abs(p - a) / a for a, p in zip(actual, predicted, strict=True) if a >= floor]
    return statistics.mean(errors) if errors else None


@dataclass(frozen=True)
class Backtest:
    mape: float | None
    baseline_mape: float | None
    wape: float | None
    baseline_wape: float | None
    days: int
    intervals_scored: int
    floor: float


def backtest(
    series: dict[int, int], first: date, last: date, horizon: int = 14, floor: float = 10.0
) -> Backtest:
    """Fit on the days before the last ``horizon`` days, forecast those, compare with the baseline."""
    cut = last - timedelta(days=horizon)
    model = fit(series, first, cut)
    actual: list[float] = []
    predicted: list[float] = []
    naive: list[float] = []
    for k in range(1, horizon + 1):
        day = cut + timedelta(days=k)
        actual += [float(series.get(day_start_index(day) + i, 0)) for i in range(PER_DAY)]
        predicted += model.predict(day)
        naive += seasonal_naive(series, cut, day)

    def wape(pred: list[float]) -> float | None:
        total = sum(actual)
        return sum(abs(p - a) for a, p in zip(actual, pred, strict=True)) / total if total else None

    return Backtest(
        mape(actual, predicted, floor),
        mape(actual, naive, floor),
        wape(predicted),
        wape(naive),
        horizon,
        sum(1 for a in actual if a >= floor),
        floor,
    )
