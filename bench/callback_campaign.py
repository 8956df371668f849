"""The satisfaction-callback campaign's own cost, without the switch: N orders resolved, then rounds of the
campaign with an instant fake dialer (answers 1, 5: every order closes), on SQLite or PostgreSQL.

Figures: seconds to create the N tasks (sync), orders settled per second (record_callback through
WorkOrderService + the attempt row), and the p50/p95 of one settle. The real calls take 20–30 s each (the
survey's prompts); this says how many calls the database side could follow at once.

    .venv/bin/python bench/callback_campaign.py [--orders 300] [--concurrency 20] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hotline.bootstrap import bootstrap
from hotline.migrate import upgrade
from kernel.bus import EventBus
from kernel.clock import FakeClock
from kernel.settings import Settings
from routing.callback_campaign import CallbackCampaign
from routing.callback_policy import CampaignPolicy
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from routing.lifecycle import Acknowledge, Resolve
from routing.orm import Category
from routing.reference import seed_all
from telephony.outbound import Citizen, FakeDialer

ADMIN = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-callbacks-"))
    admin = None
    if args.postgres:
        name = f"bench_cb_{uuid.uuid4().hex[:8]}"
        admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
    clock = FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # 10:00 in Haikou
    hot = bootstrap(
        Settings(environment="test", secret_key="b", database_url=url, data_dir=work),
        clock=clock,
        bus=EventBus(),
    )
    try:
        upgrade(hot.engine)
        with hot.session_factory() as session, session.begin():
            seed_all(session)
        hot.reload_reference()
        with hot.session_factory() as session:
            category = session.scalars(
                select(Category.id).where(Category.path.startswith("城乡建设/"))
            ).first()
        agent = Actor("bench", "agent")
        phones = [f"138{i:08d}" for i in range(args.orders)]
        started = time.perf_counter()
        for phone in phones:
            cmd = IntakeCommand(
                channel=Channel.PHONE,
                description="海甸五西路工地夜间施工噪音扰民",
                citizen_phone=phone,
                location_text="美兰区海甸五西路",
                district="美兰区",
                category_id=category,
            )
            number = hot.work_orders.intake(cmd, agent).number
            lead = hot.work_orders.get(number).lead_unit or ""
            unit = Actor("handler", "department", lead)
            hot.work_orders.handle(Acknowledge(number, lead), unit)
            hot.work_orders.handle(Resolve(number, lead, "已处理"), unit)
        print(f"{args.orders} orders taken and resolved in {time.perf_counter() - started:.1f} s")

        dialer = FakeDialer({p: [Citizen("answer", ("1", "5"))] for p in phones})
        campaign = CallbackCampaign(
            hot.work_orders,
            dialer,
            CampaignPolicy(first_call_after=timedelta(0)),
            concurrency=args.concurrency,
        )
        t0 = time.perf_counter()
        created, _ = campaign.sync(clock.now())
        sync_s = time.perf_counter() - t0
        settles: list[float] = []
        original = campaign.settle

        def timed_settle(*a: object, **kw: object) -> str:
            t = time.perf_counter()
            try:
                return original(*a, **kw)  # type: ignore[arg-type]
            finally:
                settles.append(time.perf_counter() - t)

        campaign.settle = timed_settle  # type: ignore[method-assign]
        t0 = time.perf_counter()
        closed = 0
        while True:
            report = asyncio.run(campaign.run_once())
            closed += report.results.get("closed", 0)
            if not report.called:
                break
        total = time.perf_counter() - t0
        q = statistics.quantiles(settles, n=20)
        print(
            f"{platform.node()} ({os.cpu_count()} CPU), {'PostgreSQL' if args.postgres else 'SQLite'}: "
            f"sync created {created} tasks in {sync_s:.2f} s; {closed} orders closed in {total:.1f} s "
            f"({closed / total:.0f}/s, concurrency {args.concurrency}); settle p50 {1000 * q[9]:.1f} ms, "
            f"p95 {1000 * q[18]:.1f} ms"
        )
    finally:
        hot.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
