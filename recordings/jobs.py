"""The daily recordings job: sweep the switch's spool for leftovers, compress new recordings, apply retention,
and keep a report of what was deleted, compressed and held.

Run by hand: ``hotline recordings retention`` (a dry run that reports) or ``--run`` (applies). Run daily by
the scheduler role: ``daily_recordings_jobs(parts)`` is an asyncio task for its lifespan; it wakes at
``$HOTLINE_RECORDINGS_JOB_AT`` (local time, default 03:30) and also catches up at start-up when today's run
has not happened yet. Each day's scheduled run first claims its slot (``recording_job_runs.slot``, unique),
so with several processes exactly one of them runs it. A run that dies mid-way leaves its row
``running``; the next day runs as usual.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from recordings.compress import CompressionFailed, compress_recording, pending_compression
from recordings.context import RecordingsContext
from recordings.orders import OrderLookup
from recordings.orm import RecordingJobRun
from recordings.retention import RetentionPolicy, run_retention

if TYPE_CHECKING:
    from recordings.call_end import CallEndIngestor
    from recordings.parts import RecordingsParts

log = logging.getLogger(__name__)

JOB_RETENTION = "retention"
JOB_AT_VARIABLE = "HOTLINE_RECORDINGS_JOB_AT"
DEFAULT_AT = time(3, 30)  # the quiet hours of a 24-hour hotline


@dataclass
class RetentionJobReport:
    run_id: int | None
    dry_run: bool
    swept: list[dict[str, Any]] = field(default_factory=list)
    compressed: list[dict[str, Any]] = field(default_factory=list)
    compress_failed: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    bytes_freed: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def run_retention_job(
    ctx: RecordingsContext,
    orders: OrderLookup,
    policy: RetentionPolicy,
    *,
    dry_run: bool = False,
    compress: bool = True,
    codec: str = "opus",
    ingestor: CallEndIngestor | None = None,
    trigger: str = "cli",
    run_on: date | None = None,
    slot: str | None = None,
) -> RetentionJobReport | None:
    """One run; None when ``slot`` was already claimed (another process ran or runs it)."""
    now = ctx.clock.now()
    try:
        with ctx.writer() as session, session.begin():
            row = RecordingJobRun(
                job=JOB_RETENTION,
                run_on=run_on or now.date(),
                slot=slot,
                trigger=trigger,
                status="running",
                dry_run=dry_run,
                started_at=now,
                report={},
            )
            session.add(row)
            session.flush()
            run_id = row.id
    except IntegrityError:
        return None
    report = RetentionJobReport(run_id, dry_run)
    try:
        if ingestor is not None and not dry_run:
            report.swept = [
                {
                    "call_id": o.call_id,
                    "outcome": o.outcome,
                    "recording_id": o.recording_id,
                    "detail": o.detail,
                }
                for o in ingestor.sweep()
            ]
        if compress and not dry_run:
            too_old = now - timedelta(days=policy.delete_after_days)
            for recording_id in pending_compression(ctx, started_after=too_old):
                try:
                    done = compress_recording(ctx, recording_id, codec)
                except (CompressionFailed, LookupError) as exc:
                    report.compress_failed.append({"recording_id": recording_id, "error": str(exc)[:300]})
                    continue
                if done is not None:
                    report.compressed.append(asdict(done))
        retention = run_retention(ctx, orders, policy, dry_run=dry_run)
        report.deleted = [_plain(asdict(a)) for a in retention.actions]
        report.held = [_plain(asdict(h)) for h in retention.held]
        report.bytes_freed = retention.bytes_freed
    except Exception as exc:
        _finish(ctx, run_id, "failed", {**report.as_json(), "error": f"{type(exc).__name__}: {exc}"[:1000]})
        raise
    _finish(ctx, run_id, "done", report.as_json())
    return report


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Tuples as lists, as the report reads back from its JSON column."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in row.items()}


def _finish(ctx: RecordingsContext, run_id: int, status: str, report: dict[str, Any]) -> None:
    with ctx.writer() as session, session.begin():
        row = session.get(RecordingJobRun, run_id)
        assert row is not None
        row.status, row.finished_at, row.report = status, ctx.clock.now(), report


def job_runs(ctx: RecordingsContext, limit: int = 30) -> list[dict[str, Any]]:
    with ctx.session_factory() as session:
        rows = session.scalars(select(RecordingJobRun).order_by(RecordingJobRun.id.desc()).limit(limit))
        return [
            {
                "id": r.id,
                "job": r.job,
                "run_on": r.run_on.isoformat(),
                "trigger": r.trigger,
                "status": r.status,
                "dry_run": r.dry_run,
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "report": r.report,
            }
            for r in rows
        ]


def run_daily_retention(hot: RecordingsParts, day: date) -> RetentionJobReport | None:
    """The scheduled run for one local day (claims ``retention:<day>``); None when it ran already."""
    return run_retention_job(
        hot.ctx,
        hot.orders,
        RetentionPolicy.from_env(),
        ingestor=hot.ingestor,
        trigger="schedule",
        run_on=day,
        slot=f"{JOB_RETENTION}:{day.isoformat()}",
    )


def job_time(value: str | None = None) -> time:
    value = value if value is not None else os.environ.get(JOB_AT_VARIABLE, "")
    return time.fromisoformat(value) if value else DEFAULT_AT


def next_run(now: datetime, at: time, tz: ZoneInfo) -> tuple[date, datetime]:
    """The local day whose run is due next and when: today's if ``at`` has passed (catch up now), else
    today's at ``at``. The caller sleeps until then and runs it; a claimed day is simply skipped."""
    local = now.astimezone(tz)
    due = datetime.combine(local.date(), at, tz)
    return local.date(), max(due, local)


async def daily_recordings_jobs(hot: RecordingsParts, *, at: time | None = None) -> None:
    """Run the retention job once a day for the life of the web process (cancel the task to stop)."""
    tz = ZoneInfo(hot.settings.timezone)
    at = at or job_time()
    while True:
        day, when = next_run(hot.clock.now(), at, tz)
        delay = (when - hot.clock.now().astimezone(tz)).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            report = await asyncio.to_thread(run_daily_retention, hot, day)
        except Exception:
            log.exception("recordings retention job for %s failed", day)
            report = None
        if report is not None:
            log.info(
                "recordings retention %s: %d compressed, %d deleted, %d held, %d bytes freed",
                day,
                len(report.compressed),
                len(report.deleted),
                len(report.held),
                report.bytes_freed,
            )
        # tomorrow's run: sleep past midnight local time, then compute again
        tomorrow = datetime.combine(day + timedelta(days=1), time(0, 0), tz)
        await asyncio.sleep(max(1.0, (tomorrow - hot.clock.now().astimezone(tz)).total_seconds()))
