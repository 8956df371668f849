"""Analytics figures for docs/benchmarks.md: demo generator speed, KPI query and big-screen refresh latency
(p50/p95), forecast MAPE against seasonal naive, hot-event precision/recall — on one database.

    HOTLINE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/hotline_bench \\
        .venv/bin/python -m bench.analytics_bench --days 30 --scale 1.0

Run under ``flock /tmp/hotline-heavy.lock``; write ``uptime`` beside the figures. Never a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Any, runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(pct(times, 0.95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    from analytics.bigscreen import snapshot
    from analytics.demo.generator import DemoGenerator
    from analytics.evaluation import demo_labels, evaluate
    from analytics.hot_events import scan
    from analytics.kpis import breakdown, kpis
    from analytics.periods import Period, local_today
    from analytics.planning import plan
    from analytics.rollup import refresh
    from analytics.wiring import build
    from hotline.bootstrap import bootstrap
    from hotline.migrate import upgrade
    from routing.orm import Unit, work_orders
    from routing.reference import seed_all

    hot = bootstrap()
    upgrade(hot.engine)
    with hot.session_factory() as s, s.begin():
        if not s.scalar(select(func.count()).select_from(Unit)):
            seed_all(s)
    hot.reload_reference()
    parts = build(hot)
    out: dict[str, Any] = {
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    }
    if not args.skip_generate:
        gen = DemoGenerator(hot.write_session_factory, hot.policy, hot.calendar, hot.clock)
        report = gen.generate(args.days, args.seed, scale=args.scale, workers=2)
        started = time.perf_counter()
        rolled = refresh(parts, None)
        out["generator"] = {
            "days": report.days,
            "calls": report.calls,
            "orders": report.orders,
            "rows": report.rows,
            "seconds": round(report.seconds, 1),
            "rows_per_s": round(report.rows_per_second),
            "rollup_rows": rolled,
            "rollup_seconds": round(time.perf_counter() - started, 1),
        }
    now = hot.clock.now()
    today = local_today(now)
    with hot.session_factory() as s:
        out["orders_in_db"] = s.scalar(select(func.count()).select_from(work_orders))
        out["calls_in_db"] = s.scalar(text("SELECT count(*) FROM tel_calls"))
        whole = Period(today - timedelta(days=364), today)
        month = Period(today - timedelta(days=29), today)
        out["kpis_year_all"] = timed(lambda: kpis(s, whole, now), args.runs)
        out["kpis_month_by_unit_table"] = timed(lambda: breakdown(s, month, now, "unit", "total"), args.runs)
        out["kpis_today_live"] = timed(lambda: kpis(s, Period(today, today), now), args.runs)
    out["bigscreen_snapshot"] = timed(lambda: snapshot(parts), args.runs)
    fc = plan(parts, 14, with_backtest=True)
    out["forecast"] = {
        "mape": fc["mape"],
        "baseline_mape": fc["baseline_mape"],
        "backtest": fc.get("backtest"),
    }
    clusters = scan(parts, now - timedelta(days=args.days), now, save=False)
    out["hot_events"] = evaluate(clusters, demo_labels(parts))
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
