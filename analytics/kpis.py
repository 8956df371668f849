"""The hotline's KPIs (docs/kpis.md): one definition each, computed from routing's and telephony's views.

Every KPI is a ratio or an average of additive daily counts, so a period's figure is the sum of its days'
counts divided afterwards (never an average of daily rates). Closed days are read from the daily roll-up
(``analytics_kpi_daily``, refreshed by :func:`refresh_rollup`); days not rolled up yet (today, or a database
that was never rolled up) are counted live from the views, with the same code.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from analytics.errors import AnalyticsError
from analytics.orm import ROLLUP_METRICS, kpi_daily
from analytics.periods import Period, local_midnight, local_today
from kernel.sqltime import day_index, day_of
from routing.views import DIMENSIONS, KEY_SEPARATOR, Dimension, known_units, order_facts
from telephony.views import CallDimension, call_facts

Grain = Literal["day", "week", "month", "total"]
DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")
CALL_DIMS = {"all": "all", "agent": "agent"}  # calls carry no district, unit, category or channel
# The roll-up computes several dimensions in one pass over the orders, then splits them.
_COMBINED: tuple[Dimension, ...] = ("district", "category", "channel")

Facts = dict[tuple[int, str], Counter[str]]


def _ratio(num: float, den: float) -> float | None:
    return None if not den else max(0.0, min(1.0, num / den))


def _avg(total: float, n: float) -> float | None:
    return None if not n else round(total / n, 1)


def kpi_values(c: Counter[str], *, with_calls: bool = True) -> dict[str, Any]:
    """The KPI object from summed counts (rates in [0, 1], or null when nothing was counted)."""
    out: dict[str, Any] = {}
    if with_calls:
        answered = c["calls_answered"]
        out.update(
            calls_offered=c["calls_offered"],
            calls_answered=answered,
            calls_abandoned=c["calls_abandoned_queue"] + c["calls_ended_in_ivr"],
            calls_abandoned_in_queue=c["calls_abandoned_queue"],
            calls_abandoned_in_ivr=c["calls_ended_in_ivr"],
            calls_callback_requested=c["calls_callback_requested"],
            answered_within_15s=c["answered_within_15s"],
            answered_within_15s_rate=_ratio(c["answered_within_15s"], answered + c["calls_abandoned_queue"]),
            connection_rate=_ratio(answered, c["calls_queued"]),
            average_speed_of_answer_s=_avg(c["answer_wait_seconds"], answered),
            average_handle_time_s=_avg(c["talk_seconds"], answered),
            missed_calls_called_back=c["missed_called_back"],
            missed_call_callback_rate=_ratio(c["missed_called_back"], c["calls_abandoned_queue"]),
        )
    out.update(
        orders_accepted=c["orders_accepted"],
        orders_urgent=c["orders_urgent"],
        answered_on_the_spot=c["answered_on_the_spot"],
        on_time_response_rate=_ratio(c["responses_due"] - c["responses_late"], c["responses_due"]),
        on_time_resolution_rate=_ratio(c["resolutions_due"] - c["resolutions_late"], c["resolutions_due"]),
        first_contact_resolution_rate=_ratio(c["closed_first_contact"], c["closed"]),
        satisfaction_rate=_ratio(c["satisfied"], c["callbacks"]),
        callback_rate=_ratio(c["resolved_with_callback"], c["resolved_by_unit"]),
        supervision_resolution_rate=_ratio(c["supervisions_resolved"], c["supervisions"]),
        responses_due=c["responses_due"],
        responses_late=c["responses_late"],
        resolutions_due=c["resolutions_due"],
        resolutions_late=c["resolutions_late"],
        closed=c["closed"],
        callbacks=c["callbacks"],
        returns=c["returns"],
        returns_upheld=c["returns_upheld"],
        appeals=c["appeals"],
        supervisions=c["supervisions"],
    )
    return out


# ---- counts: roll-up where available, live elsewhere ------------------------------------------------------
def _live(session: Session, first: date, last: date, by: Dimension) -> Facts:
    since, until = local_midnight(first), local_midnight(last + timedelta(days=1))
    out: Facts = defaultdict(Counter)
    for (day, key), counts in order_facts(session, since, until, by).items():
        out[(int(day or 0), key)].update(counts)
    call_dim = CALL_DIMS.get(by)
    if call_dim is not None:
        for (day, key), counts in call_facts(session, since, until, call_dim).items():  # type: ignore[arg-type]
            out[(int(day or 0), key)].update(counts)
    return out


def facts(session: Session, p: Period, now: datetime, by: Dimension) -> Facts:
    """Counts per (day, key) over the period: rolled-up days from the table, the others live."""
    if by not in DIMENSIONS:
        raise AnalyticsError(f"未知的统计维度 {by}", f"unknown dimension {by}")
    k = kpi_daily.c
    out: Facts = defaultdict(Counter)
    rolled: set[int] = set()
    rows = session.execute(
        select(k.day, k.key, *(k[m] for m in ROLLUP_METRICS)).where(
            k.dim == by, k.day >= p.day_indexes.start, k.day < p.day_indexes.stop
        )
    )
    for row in rows:
        m = row._mapping
        rolled.add(int(m["day"]))
        counter = out[(int(m["day"]), str(m["key"]))]
        for name in ROLLUP_METRICS:
            if m[name]:
                counter[name] += int(m[name])
    rolled |= _rolled_days(session, p)
    missing = [d for d in p.day_indexes if d not in rolled]
    for first, last in _runs(missing):
        for key, counts in _live(session, day_of(first), day_of(last), by).items():
            out[key].update(counts)
    return out


def _rolled_days(session: Session, p: Period) -> set[int]:
    k = kpi_daily.c
    return {
        int(d)
        for (d,) in session.execute(
            select(k.day).where(k.dim == "all", k.day >= p.day_indexes.start, k.day < p.day_indexes.stop)
        )
    }


def _runs(days: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for d in days:
        if runs and runs[-1][1] == d - 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


# ---- the public reads ---------------------------------------------------------------------------------
def check_key(session: Session, by: Dimension, key: str | None) -> None:
    """An unknown unit or district is bad input (4xx), not an empty answer."""
    if key is None or by in ("all", "agent", "category", "channel"):
        return
    if by == "district" and key not in DISTRICTS:
        raise AnalyticsError(f"未知的区：{key[:20]}", f"unknown district: {key[:20]}")
    if by == "unit" and key not in known_units(session):
        raise AnalyticsError(f"未知的单位：{key[:64]}", f"unknown unit: {key[:64]}")


def kpis(
    session: Session, p: Period, now: datetime, by: Dimension = "all", key: str | None = None
) -> dict[str, Any]:
    """One KPI object for the period (the hotline, or one unit/district/… with ``by`` and ``key``)."""
    check_key(session, by, key)
    total: Counter[str] = Counter()
    for (_day, k), counts in facts(session, p, now, by).items():
        if key is None or k == key:
            total.update(counts)
    out = {"period": p.as_dict(), "by": by, "key": key}
    out.update(kpi_values(total, with_calls=by in CALL_DIMS))
    return out


def _bucket(day: int, grain: Grain) -> str:
    d = day_of(day)
    if grain == "day":
        return d.isoformat()
    if grain == "week":
        return (d - timedelta(days=d.weekday())).isoformat()
    if grain == "month":
        return d.strftime("%Y-%m")
    return "total"


def breakdown(
    session: Session, p: Period, now: datetime, by: Dimension = "all", grain: Grain = "day"
) -> list[dict[str, Any]]:
    """KPIs per (day/week/month) and per dimension value, for tables, charts and reports."""
    grouped: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for (day, key), counts in facts(session, p, now, by).items():
        grouped[(_bucket(day, grain), key)].update(counts)
    names = known_units(session) if by == "unit" else {}
    rows = []
    for (bucket, key), counts in sorted(grouped.items()):
        row: dict[str, Any] = {"period": bucket, "key": key, "name": names.get(key, key)}
        row.update(kpi_values(counts, with_calls=by in CALL_DIMS))
        rows.append(row)
    return rows


# ---- the daily roll-up --------------------------------------------------------------------------------
def refresh_rollup(session: Session, first: date, last: date, now: datetime) -> int:
    """Recompute the roll-up for closed days ``first``…``last`` (today is never rolled up: it is live)."""
    last = min(last, local_today(now) - timedelta(days=1))
    if first > last:
        return 0
    since, until = local_midnight(first), local_midnight(last + timedelta(days=1))
    rows: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)
    for (day, key), counts in order_facts(session, since, until, _COMBINED).items():
        parts = key.split(KEY_SEPARATOR)
        rows[("all", int(day or 0), "")].update(counts)
        for dim, value in zip(_COMBINED, parts, strict=True):
            rows[(dim, int(day or 0), value)].update(counts)
    order_dims: tuple[Dimension, ...] = ("unit", "agent")
    for order_dim in order_dims:
        for (day, key), counts in order_facts(session, since, until, order_dim).items():
            rows[(order_dim, int(day or 0), key)].update(counts)
    call_dims: tuple[CallDimension, ...] = ("all", "agent")
    for call_dim in call_dims:
        for (day, key), counts in call_facts(session, since, until, call_dim).items():
            rows[(call_dim, int(day or 0), key)].update(counts)
    for d in range(day_index(first), day_index(last) + 1):
        rows[("all", d, "")].update({})  # an "all" row marks the day as rolled up, even when empty
    k = kpi_daily.c
    session.execute(delete(kpi_daily).where(k.day >= day_index(first), k.day <= day_index(last)))
    values = [
        {
            "dim": dim,
            "day": day,
            "key": key[:200],
            "refreshed_at": now,
            **{m: int(c[m]) for m in ROLLUP_METRICS},
        }
        for (dim, day, key), c in rows.items()
    ]
    for start in range(0, len(values), 5000):
        session.execute(insert(kpi_daily), values[start : start + 5000])
    return len(values)
