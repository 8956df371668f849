"""What the yellow cards and the dispatch check cost: intake through WorkOrderService with the yellow warnings
on (the shipped policy: two extra durable deadlines per unit and order) and off (yellow_* = 0), in alternating
blocks so that machine drift hits both alike; then one scheduler pass over the due warnings, against one over
as many response breaches. Figures are ratios within one run.

    .venv/bin/python bench/cards_overhead.py [--orders 300] [--postgres]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hotline.bootstrap import App, bootstrap
from hotline.migrate import upgrade
from kernel.bus import EventBus
from kernel.clock import FakeClock
from kernel.settings import Settings
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from routing.domain.sla import SlaTerms
from routing.reference import seed_all

ADMIN = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def intake_ms(hot: App, n: int, tag: str) -> list[float]:
    times = []
    for i in range(n):
        cmd = IntakeCommand(
            channel=Channel.WEB,
            description=f"小区楼道照明损坏 {tag} {i}",
            citizen_phone="13800001111",
            category_path="城乡建设/住房保障与房地产/物业服务",
            district="美兰区",
            location_text="美兰区海甸岛白沙门",
        )
        t = time.perf_counter()
        hot.work_orders.intake(cmd, Actor("bench", "agent"))
        times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()
    admin = None
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    if args.postgres:
        admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    clock = FakeClock()
    settings = Settings(
        environment="test", secret_key="bench", database_url=url, data_dir=Path(tempfile.mkdtemp())
    )
    hot = bootstrap(settings, clock=clock, bus=EventBus())
    try:
        upgrade(hot.engine)
        with hot.session_factory() as session, session.begin():
            seed_all(session, now=clock.now())
        hot.reload_reference()
        on = hot.routing_context.policy

        def quiet(terms: SlaTerms) -> SlaTerms:
            return dataclasses.replace(terms, yellow_response_minutes=0, yellow_resolution_working_days=0)

        off = dataclasses.replace(
            on,
            default=quiet(on.default),
            reopen=quiet(on.reopen),
            urgent=quiet(on.urgent),
            by_case_type=tuple((kind, quiet(terms)) for kind, terms in on.by_case_type),
        )
        hot.routing_context.policy = off
        intake_ms(hot, 20, "warm-up")
        with_cards: list[float] = []
        without: list[float] = []
        block = max(args.orders // 10, 1)
        for b in range(10):
            hot.routing_context.policy = off
            without += intake_ms(hot, block, f"off{b}")
            hot.routing_context.policy = on
            with_cards += intake_ms(hot, block, f"on{b}")
        clock.advance(minutes=20)  # the yellow cards of the orders filed with warnings fall due
        t = time.perf_counter()
        yellow = hot.scheduler.run_once()
        yellow_s = time.perf_counter() - t
        clock.advance(minutes=10)  # every order's response deadline passes
        t = time.perf_counter()
        red = hot.scheduler.run_once()
        red_s = time.perf_counter() - t
    finally:
        hot.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    load = os.getloadavg()
    print(f"{platform.node()} {'PostgreSQL' if args.postgres else 'SQLite'}, load {load[0]:.1f}")

    def q(xs: list[float], p: float) -> float:
        return statistics.quantiles(xs, n=100)[int(p) - 1]

    for label, xs in (("yellow cards off", without), ("yellow cards on", with_cards)):
        print(f"  intake, {label}: n={len(xs)} p50 {q(xs, 50):.1f} ms p95 {q(xs, 95):.1f} ms")
    print(f"  intake p50 ratio on/off: {q(with_cards, 50) / q(without, 50):.2f}")
    print(
        f"  scheduler: {yellow.fired} warnings in {yellow_s:.2f} s"
        f" ({1000 * yellow_s / max(yellow.fired, 1):.1f} ms each); {red.fired} breaches with their red cards"
        f" in {red_s:.2f} s ({1000 * red_s / max(red.fired, 1):.1f} ms each)"
    )


if __name__ == "__main__":
    main()
