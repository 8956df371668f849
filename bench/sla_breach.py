"""SLA breach detection: 100,000 open orders, 1,000 response deadlines falling due within one minute.

Two scheduler processes run at once against PostgreSQL; one is killed with SIGKILL halfway through the
minute and restarted. Figures: delay from each deadline to its alarm (p50/p95/p99/max), deadlines
missed, alarms doubled.

    .venv/bin/python bench/sla_breach.py [--orders 100000] [--due 1000] [--window 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.seed_open_orders import seed_open_orders
from hotline.migrate import upgrade
from hotline.models import import_all
from kernel.db import make_engine
from routing.reference import (
    data_file,
    load_units,
)

ADMIN = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def scheduler(url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_SCHEDULER_POLL_SECONDS": "0.2",
    }
    log = (data_dir / f"scheduler-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "hotline.cli", "scheduler"], env=env, stdout=log, stderr=log
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=1000)
    ap.add_argument("--window", type=float, default=60.0)
    args = ap.parse_args()
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    data_dir = Path(f"/tmp/{name}")
    data_dir.mkdir()
    try:
        import_all()
        engine = make_engine(url)
        upgrade(engine)
        with engine.begin() as conn:
            from sqlalchemy.orm import Session

            with Session(bind=conn) as session:
                load_units(session, data_file("departments.yaml"))
                session.flush()
        now = datetime.now(UTC)
        t0 = time.monotonic()
        seed_open_orders(engine, args.orders, now)
        # Only now, with the schedulers about to start, put 1,000 response deadlines into the coming minute.
        start = datetime.now(UTC) + timedelta(seconds=10)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE order_deadlines SET due_at = :start + random() * :window * interval '1 second' "
                    "WHERE kind = 'response' AND order_id <= :due"
                ),
                {"start": start, "window": args.window, "due": args.due},
            )
        print(
            f"seeded {args.orders} open orders ({args.due} due within {args.window:.0f} s) in "
            f"{time.monotonic() - t0:.1f} s",
            flush=True,
        )
        procs = [scheduler(url, data_dir), scheduler(url, data_dir)]
        wait_until = start + timedelta(seconds=args.window / 2)
        time.sleep(max(0.0, (wait_until - datetime.now(UTC)).total_seconds()))
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        print("killed scheduler 1 with SIGKILL at mid-window; restarting it", flush=True)
        procs[0] = scheduler(url, data_dir)
        end = start + timedelta(seconds=args.window + 5)
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    text(
                        "SELECT EXTRACT(EPOCH FROM (fired_at - due_at)) FROM order_deadlines "
                        "WHERE kind = 'response' AND due_at <= :end AND fired_at IS NOT NULL"
                    ),
                    {"end": end},
                )
                .scalars()
                .all()
            )
            missed = conn.execute(
                text(
                    "SELECT count(*) FROM order_deadlines WHERE kind = 'response' AND due_at <= :end "
                    "AND fired_at IS NULL AND cancelled_at IS NULL"
                ),
                {"end": end - timedelta(seconds=5)},
            ).scalar_one()
            doubled = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT order_id, count(*) c FROM order_alarms "
                    "WHERE kind = 'response_breach' AND addressed_to <> 'hotline' GROUP BY order_id HAVING count(*) > 1) x"
                )
            ).scalar_one()
            alarms = conn.execute(
                text(
                    "SELECT count(*) FROM order_alarms WHERE kind = 'response_breach' AND addressed_to <> 'hotline'"
                )
            ).scalar_one()
            timeline = conn.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM (fired_at - :start))::int AS s, count(*), "
                    "max(EXTRACT(EPOCH FROM (fired_at - due_at))) FROM order_deadlines WHERE kind = 'response' "
                    "AND fired_at IS NOT NULL GROUP BY 1 ORDER BY 1"
                ),
                {"start": start},
            ).all()
        if os.environ.get("BENCH_VERBOSE"):
            for second, n, worst in timeline:
                print(f"  t+{second:>3}s fired {n:>4} worst delay {float(worst):.2f}s")
            for log in sorted(data_dir.glob("scheduler-*.log")):
                print(log.name, log.read_text()[-2000:])
        delays = sorted(float(d) for d in rows)
        q = statistics.quantiles(delays, n=100) if len(delays) > 1 else delays * 99
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}, "
            f"{datetime.now(UTC):%Y-%m-%d}"
        )
        print(
            f"deadlines fired: {len(delays)} / {args.due}; alarms {alarms}; missed {missed}; doubled {doubled}"
        )
        print(
            f"delay deadline→alarm: p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, "
            f"max {delays[-1] * 1000:.0f} ms"
        )
        engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
