"""The forecast and staffing plan as the CLI, the API and the staffing page show them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from analytics.errors import AnalyticsError
from analytics.forecast import (
    INTERVAL_SECONDS,
    PER_DAY,
    PlannedEvent,
    backtest,
    day_start_index,
    day_type,
    fit,
)
from analytics.periods import HAIKOU, local_midnight, local_today
from analytics.staffing import agents_needed, load_roster, scheduled
from analytics.wiring import AnalyticsParts
from kernel.sqltime import bucket_start
from telephony.views import average_handle_seconds, calls_per_interval

HISTORY_DAYS = 56
DEFAULT_HANDLE_SECONDS = 180.0


def plan(
    parts: AnalyticsParts,
    days: int = 14,
    *,
    with_backtest: bool = True,
    events: list[PlannedEvent] | None = None,
) -> dict[str, Any]:
    """Calls per 30 minutes for ``days`` days from tomorrow, agents needed, the roster; and the backtest."""
    if not 1 <= days <= 31:
        raise AnalyticsError("预测天数须在 1 至 31 之间", "forecast days must be 1 to 31")
    now = parts.clock.now()
    today = local_today(now)
    last = today - timedelta(days=1)
    first = last - timedelta(days=HISTORY_DAYS - 1)
    with parts.session_factory() as session:
        series = calls_per_interval(session, local_midnight(first), local_midnight(today), INTERVAL_SECONDS)
        handle = average_handle_seconds(
            session, local_midnight(last - timedelta(days=27)), local_midnight(today)
        )
    observed = sorted({k // PER_DAY for k in series})
    if len(observed) < 21 if with_backtest else len(observed) < 7:
        raise AnalyticsError(
            "通话历史不足，无法预测（至少 7 天，回测至少 21 天）",
            "not enough call history to forecast (7 days at least, 21 for the backtest)",
        )
    start = max(first, _day(observed[0]))
    handle = handle or DEFAULT_HANDLE_SECONDS
    model = fit(series, start, last)
    roster = load_roster(parts.data_dir)
    intervals: list[dict[str, Any]] = []
    for k in range(1, days + 1):
        day = today + timedelta(days=k - 1)
        predicted = model.predict(day, events or [])
        on_roster = scheduled(roster, day)
        for i, calls in enumerate(predicted):
            at = bucket_start(day_start_index(day) + i, INTERVAL_SECONDS).astimezone(HAIKOU)
            intervals.append(
                {
                    "start": at.isoformat(),
                    "day_type": day_type(day),
                    "calls": round(calls, 1),
                    "agents_needed": agents_needed(calls, handle),
                    "scheduled": on_roster[i],
                }
            )
    out: dict[str, Any] = {
        "generated_at": now.astimezone(HAIKOU).isoformat(),
        "history": {"from": start.isoformat(), "to": last.isoformat()},
        "average_handle_time_s": round(handle, 1),
        "service_level_target": {"share": 0.8, "seconds": 15},
        "level_calls_per_day": round(model.level, 1),
        "day_type_factors": {k: round(v, 3) for k, v in sorted(model.factors.items())},
        "notes": model.notes,
        "mape": None,
        "baseline_mape": None,
        "intervals": intervals,
    }
    if with_backtest:
        result = backtest(series, start, last)
        out.update(mape=result.mape, baseline_mape=result.baseline_mape, backtest=asdict(result))
    return out


def _day(index: int) -> date:
    from kernel.sqltime import day_of

    return day_of(index)
