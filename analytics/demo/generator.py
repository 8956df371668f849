"""``hotline demo generate``: a realistic, deterministic history of calls and orders, shaped like Haikou.

Calls go into telephony's tables through :mod:`telephony.simulation`; orders go through routing's domain
with :mod:`routing.simulation` (dispatch rules, clocks, late responses, escalation, supervision orders,
returns, extensions, callbacks, redo). One transaction per day. Demo rows are marked (order
``external_ref`` ``demo:<seed>``, call ids ``demo-…``); a database holding real orders is refused unless
``force`` is given. Generating again replaces the previous demo history.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from analytics.demo.cases import PLACES, CaseFactory, Place, plant_cluster_times
from analytics.demo.haikou import CALLS_PER_DAY, CLUSTER_TEXTS, HOURLY
from analytics.demo.traffic import (
    HAIKOU,
    CallOutcome,
    Surge,
    call_outcome,
    call_times,
    plan_day,
    plan_surges,
    surge_times,
)
from analytics.demo.writer import DayWritten, init_worker, write_day, write_day_in_worker
from analytics.errors import AnalyticsError
from analytics.orm import DemoRunRow
from kernel.clock import Clock
from routing.domain.enums import Channel
from routing.domain.sla import SlaPolicy, WorkCalendar
from routing.simulation import DEMO_REF, CaseScript, delete_demo_orders
from routing.views import category_paths, has_orders_other_than, training_texts
from telephony.simulation import DEMO_CALL_PREFIX, SimulatedCall, delete_demo_calls

log = logging.getLogger(__name__)
MAX_DAYS = 400
OTHER_CHANNELS = ((Channel.WECHAT, 0.10), (Channel.WEB, 0.06), (Channel.GRID, 0.05), (Channel.OPEN311, 0.01))


@dataclass
class DemoReport:
    days: int
    calls: int = 0
    orders: int = 0
    rows: int = 0
    seconds: float = 0.0
    clusters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class _Day:
    calls: list[SimulatedCall] = field(default_factory=list)
    scripts: list[CaseScript] = field(default_factory=list)
    labels: list[str | None] = field(default_factory=list)  # ground-truth cluster per script


class DemoGenerator:
    def __init__(
        self,
        write_session_factory: sessionmaker[Session],
        policy: SlaPolicy,
        calendar: WorkCalendar,
        clock: Clock,
    ) -> None:
        self.factory = write_session_factory
        self.policy = policy
        self.calendar = calendar
        self.clock = clock

    def generate(
        self,
        days: int,
        seed: int,
        *,
        scale: float = 1.0,
        force: bool = False,
        workers: int = 2,
        progress: Callable[[date, int], None] | None = None,
    ) -> DemoReport:
        """Write ``days`` of history ending now. ``workers`` processes replay the days (0: in this one)."""
        if not 1 <= days <= MAX_DAYS:
            raise AnalyticsError(f"天数须在 1 至 {MAX_DAYS} 之间", f"days must be 1 to {MAX_DAYS}")
        if not 0 < scale <= 5:
            raise AnalyticsError("规模须大于 0 且不超过 5", "scale must be above 0 and at most 5")
        now = self.clock.now()
        with self.factory() as session:
            real = has_orders_other_than(session, DEMO_REF)
            paths = category_paths(session)
        if real and not force:
            raise AnalyticsError(
                "数据库中已有真实工单，拒绝写入演示数据（确需写入请加 --force）",
                "the database holds real (non-demo) orders; refusing to add demo data (use --force)",
            )
        if not paths:
            raise AnalyticsError(
                "请先导入基础数据（hotline seed）", "seed the reference data first (hotline seed)"
            )
        started = time.perf_counter()
        self.remove()
        factory = CaseFactory(seed, paths, training_texts(), f"{DEMO_REF}{seed}")
        today = now.astimezone(HAIKOU).date()
        first = today - timedelta(days=days - 1)
        surges = plan_surges(seed, first, today)
        report = DemoReport(days)
        labels: dict[str, list[str]] = {}
        pool = self._pool(workers)
        try:
            pending: list[tuple[date, _Day, Future[DayWritten] | DayWritten]] = []
            for k in range(days):
                day = first + timedelta(days=k)
                plan = self._day(seed, day, surges, scale, factory, now)
                if pool is None:
                    job: Future[DayWritten] | DayWritten = write_day(
                        self.factory, self.policy, self.calendar, plan.calls, plan.scripts, now
                    )
                else:
                    job = pool.submit(write_day_in_worker, plan.calls, plan.scripts, now)
                pending.append((day, plan, job))
                while pending and (len(pending) > 2 * max(1, workers) or k == days - 1):
                    done_day, done_plan, done_job = pending.pop(0)
                    written = done_job.result() if isinstance(done_job, Future) else done_job
                    for label, number in zip(done_plan.labels, written.numbers, strict=True):
                        if label and number:
                            labels.setdefault(label, []).append(number)
                    report.rows += written.rows
                    report.calls += len(done_plan.calls)
                    report.orders += len(done_plan.scripts) - written.errors
                    if progress is not None:
                        progress(done_day, report.rows)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        report.seconds = time.perf_counter() - started
        report.clusters = {k: v for k, v in labels.items() if len(v) >= 5}
        with self.factory() as session, session.begin():
            session.add(
                DemoRunRow(
                    seed=seed,
                    days=days,
                    scale=scale,
                    started_at=now,
                    seconds=report.seconds,
                    calls=report.calls,
                    orders=report.orders,
                    rows=report.rows,
                    clusters=report.clusters,
                )
            )
        self._refresh_statistics()
        return report

    def _refresh_statistics(self) -> None:
        """After a bulk load PostgreSQL's planner still holds the empty tables' statistics until autovacuum
        comes by: measured on a month of history, the big screen's backlog query took 218 ms on them and
        44 ms after ANALYZE. Refresh them now rather than leave the first minutes of the screen slow."""
        bind = self.factory.kw["bind"]
        if bind.dialect.name != "postgresql":
            return
        with bind.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")

    def _pool(self, workers: int) -> ProcessPoolExecutor | None:
        if workers <= 0:
            return None
        bind = self.factory.kw["bind"]
        url = bind.url.render_as_string(hide_password=False)
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(url, self.policy, self.calendar),
        )

    def remove(self) -> tuple[int, int]:
        """Delete every demo order and call (and the demo runs' records); real rows are untouched."""
        with self.factory() as session, session.begin():
            orders = delete_demo_orders(session)
            calls = delete_demo_calls(session)
            session.execute(delete(DemoRunRow))
        return orders, calls

    # ---- one day ---------------------------------------------------------------------------------
    def _day(
        self, seed: int, day: date, surges: list[Surge], scale: float, factory: CaseFactory, now: datetime
    ) -> _Day:
        rng = random.Random(f"{seed}:{day}")
        plan = plan_day(seed, day, surges, scale)
        out = _Day()
        arrivals: list[tuple[datetime, str | None, Place | None]] = [
            (t, None, None) for t in call_times(rng, plan)
        ]
        for surge in plan.surges:
            surge_rng = random.Random(f"{seed}:{surge.start.isoformat()}")
            where = [p for p in PLACES if surge.district in (None, p.district)]
            street = surge_rng.choice(where).street
            local = [p for p in where if p.street == street] if surge.kind == "outage" else where
            for t in surge_times(rng, plan, surge, scale):
                spot = rng.choice(local)
                tag = f"outage:{surge.start:%Y%m%d%H}" if surge.kind == "outage" else f"typhoon:{spot.street}"
                arrivals.append((t, surge.kind + "|" + tag, spot))
        arrivals.sort(key=lambda a: a[0])
        load = _hourly_load(arrivals, scale)
        retries: list[tuple[datetime, str]] = []
        for n, (at, surge_tag, place) in enumerate(arrivals, start=1):
            if at >= now:
                break
            outcome = call_outcome(rng, load.get(at.astimezone(HAIKOU).hour, 1.0))
            call_id = f"{DEMO_CALL_PREFIX}{seed}-{day:%Y%m%d}-{n:05d}"
            script: CaseScript | None = None
            label: str | None = None
            if outcome.outcome == "answered" and rng.random() < 0.93:
                assert outcome.agent is not None
                if surge_tag is not None and place is not None:
                    kind, label = surge_tag.split("|", 1)
                    script = factory.surge(rng, at, kind, place, outcome.agent, call_id, now)
                else:
                    script = factory.ordinary(rng, at, Channel.PHONE, outcome.agent, call_id, now)
            phone = script.phone if script else factory.phone(rng, place or factory.place(rng), day)
            out.calls.append(_call(call_id, phone, at, outcome, now))
            if script is not None:
                out.scripts.append(script)
                out.labels.append(label)
            if outcome.outcome == "abandoned" and rng.random() < 0.55:
                retries.append((at + timedelta(minutes=rng.uniform(3, 180)), phone))
        for k, (at, phone) in enumerate(retries):
            if at >= now:
                continue
            agent = rng.choice(("demo-agent-001", "demo-agent-002", "demo-agent-003"))
            call_id = f"{DEMO_CALL_PREFIX}{seed}-{day:%Y%m%d}-r{k:04d}"
            out.calls.append(
                _call(call_id, phone, at, CallOutcome("answered", rng.uniform(2, 14), 150.0, agent), now)
            )
        self._other_channels(rng, out, arrivals, factory, now)
        self._planted(rng, seed, day, out, factory, now)
        order = sorted(range(len(out.scripts)), key=lambda i: out.scripts[i].accepted_at)
        out.scripts = [out.scripts[i] for i in order]
        out.labels = [out.labels[i] for i in order]
        return out

    def _other_channels(
        self,
        rng: random.Random,
        out: _Day,
        arrivals: list[tuple[datetime, str | None, Place | None]],
        factory: CaseFactory,
        now: datetime,
    ) -> None:
        phone_orders = len(out.scripts)
        for channel, share in OTHER_CHANNELS:
            for _ in range(round(phone_orders * share)):
                at = rng.choice(arrivals)[0] + timedelta(minutes=rng.uniform(-30, 30))
                if at < now:
                    script = factory.ordinary(rng, at, channel, f"demo:{channel.value}", None, now)
                    out.scripts.append(script)
                    out.labels.append(None)

    def _planted(
        self, rng: random.Random, seed: int, day: date, out: _Day, factory: CaseFactory, now: datetime
    ) -> None:
        if rng.random() >= 0.4:
            return
        day_start = datetime.combine(day, clock_time(0), HAIKOU).astimezone(UTC)
        which = rng.randrange(len(CLUSTER_TEXTS))
        place = rng.choice(PLACES)
        label = f"planted:{day:%Y%m%d}"
        for k, at in enumerate(plant_cluster_times(rng, day_start, rng.randint(6, 10))):
            if at >= now:
                continue
            call_id = None
            agent = "demo:wechat"
            if rng.random() < 0.7:
                call_id = f"{DEMO_CALL_PREFIX}{seed}-{day:%Y%m%d}-h{k:03d}"
                agent = rng.choice(("demo-agent-010", "demo-agent-011", "demo-agent-012"))
            script = factory.cluster_case(rng, at, which, place, agent, call_id, now)
            if call_id:
                wait = rng.uniform(1, 12)
                out.calls.append(
                    _call(call_id, script.phone, at, CallOutcome("answered", wait, 140.0, agent), now)
                )
            out.scripts.append(script)
            out.labels.append(label)


def _hourly_load(arrivals: list[tuple[datetime, str | None, Place | None]], scale: float) -> dict[int, float]:
    """Calls in each local hour against an ordinary day's calls in that hour (1.0: ordinary)."""
    counts: dict[int, int] = {}
    for at, _tag, _place in arrivals:
        h = at.astimezone(HAIKOU).hour
        counts[h] = counts.get(h, 0) + 1
    total = sum(HOURLY)
    return {h: n / max(1.0, CALLS_PER_DAY * scale * HOURLY[h] / total) for h, n in counts.items()}


def _call(call_id: str, phone: str, at: datetime, o: CallOutcome, now: datetime) -> SimulatedCall:
    queued = (
        at + timedelta(seconds=25) if o.outcome in ("answered", "abandoned", "callback_requested") else None
    )
    answered = queued + timedelta(seconds=o.wait or 0) if o.outcome == "answered" and queued else None
    if answered is not None:
        end = answered + timedelta(seconds=o.talk or 0)
    elif queued is not None:
        end = queued + timedelta(seconds=o.wait or 0)
    else:
        end = at + timedelta(seconds=40)
    return SimulatedCall(
        call_id=call_id,
        caller_number=phone,
        started_at=at,
        ended_at=min(end, max(now, at)),
        outcome=o.outcome,
        queued_at=queued,
        answered_at=answered,
        queue="complaint" if queued else None,
        agent=o.agent if answered else None,
        queue_wait_seconds=o.wait if queued else None,
        talk_seconds=o.talk if answered else None,
        ivr_choices="1" if queued else "",
    )
