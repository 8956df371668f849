"""Erlang C against its closed form and a published example; the day-type forecast on a synthetic series."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from analytics.forecast import PER_DAY, backtest, day_start_index, day_type, fit, seasonal_naive
from analytics.staffing import agents_needed, erlang_c, service_level


def erlang_c_closed_form(n: int, a: float) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("n", "a"), [(5, 3.0), (12, 10.0), (30, 24.0), (60, 50.5)])
def test_erlang_c_matches_the_closed_form(n: int, a: float) -> None:
    assert erlang_c(n, a) == pytest.approx(erlang_c_closed_form(n, a), rel=1e-9)


def test_the_usual_worked_example_24_erlangs_needs_29_agents_for_80_in_20() -> None:
    # 360 calls an hour, 240 s handle time = 24 erlangs: 28 agents answer ~76 % within 20 s, 29 reach 80 %.
    assert service_level(28, 24.0, 240, 20) == pytest.approx(0.7613, abs=1e-3)
    assert service_level(29, 24.0, 240, 20) >= 0.8 > service_level(28, 24.0, 240, 20)
    assert agents_needed(180, 240, 1800, 0.8, 20) == 29


def test_more_calls_need_more_agents_and_none_need_none() -> None:
    assert agents_needed(0, 180) == 0
    counts = [agents_needed(c, 180) for c in (10, 50, 100, 200, 400)]
    assert counts == sorted(counts) and counts[0] >= 1


def _series(first: date, days: int, seed: int = 1) -> dict[int, int]:
    rng = random.Random(seed)
    shape = [max(0.05, math.sin(math.pi * (i - 12) / 36)) if 12 <= i < 48 else 0.05 for i in range(PER_DAY)]
    total = sum(shape)
    out: dict[int, int] = {}
    for k in range(days):
        day = first + timedelta(days=k)
        level = 5000 * (0.75 if day.weekday() >= 5 else 1.1 if day.weekday() == 0 else 1.0)
        for i in range(PER_DAY):
            expected = level * shape[i] / total
            out[day_start_index(day) + i] = max(0, round(rng.gauss(expected, math.sqrt(expected))))
    return out


def test_the_model_beats_seasonal_naive_when_a_storm_hits_the_baseline_week() -> None:
    first = date(2026, 2, 2)  # includes the 2026 Spring Festival holidays
    series = _series(first, 70)
    storm = first + timedelta(days=50)
    for i in range(PER_DAY):
        series[day_start_index(storm) + i] *= 3
    result = backtest(series, first, first + timedelta(days=69))
    assert result.mape is not None and result.baseline_mape is not None
    assert result.mape < result.baseline_mape
    assert result.mape < 0.15


def test_holidays_and_adjusted_working_days_have_their_own_type() -> None:
    assert day_type(date(2026, 10, 1)) == "holiday"  # National Day
    assert day_type(date(2026, 11, 21)) == "weekend5"  # a plain Saturday
    assert day_type(date(2026, 11, 23)) == "weekday0"
    model = fit(_series(date(2026, 3, 2), 28), date(2026, 3, 2), date(2026, 3, 29))
    assert model.day_total(date(2026, 4, 4)) < model.day_total(date(2026, 4, 7))  # Qingming < a Tuesday


def test_seasonal_naive_repeats_the_last_observed_week() -> None:
    first = date(2026, 3, 2)
    series = _series(first, 21)
    last = first + timedelta(days=13)
    for k in range(1, 15):
        day = last + timedelta(days=k)
        source = day - timedelta(days=7 * math.ceil(k / 7))
        assert seasonal_naive(series, last, day) == [
            float(series.get(day_start_index(source) + i, 0)) for i in range(PER_DAY)
        ]
