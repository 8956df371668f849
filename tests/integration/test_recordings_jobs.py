"""The retention job on SQLite and PostgreSQL: real work orders hold recordings (linked, or an open complaint
about the agent from the same citizen); the daily run is claimed once per day across processes; the report
is kept and served; ``hotline recordings retention`` reports without ``--run`` and applies with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.bootstrap import App
from hotline.cli import app as cli
from recordings import api
from recordings.access import Listener
from recordings.context import RecordingsContext
from recordings.ingest import ingest
from recordings.jobs import daily_recordings_jobs, run_daily_retention, run_retention_job
from recordings.orders import SqlOrderLookup
from recordings.orm import Recording, RecordingJobRun
from recordings.retention import RetentionPolicy
from recordings.storage import LocalStore
from recordings.testing import write_mixmonitor_files
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor

POLICY = RetentionPolicy(keep_original_days=5, delete_after_days=10)
AGENT = Actor("agent1001", "agent")


@pytest.fixture
def ctx(hot: App) -> RecordingsContext:
    return hot.recordings.use_store(LocalStore(hot.settings.resolved_recordings_dir))


def record(ctx: RecordingsContext, tmp_path: Path, call_id: str, started_at: datetime, caller: str) -> int:
    write_mixmonitor_files(tmp_path / "spool", call_id, seconds=1)
    return ingest(
        ctx, call_id, tmp_path / "spool", agent="agent1001", caller_number=caller, started_at=started_at
    ).recording_id


def complaint(hot: App, phone: str, *, call_id: str | None = None, closed: bool = False) -> str:
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="投诉话务员态度恶劣，没有听完就挂了我的电话",
            citizen_phone=phone,
            call_id=call_id,
            dispatch=False,
            answer_on_the_spot="已向市民致歉并记录" if closed else None,
        ),
        AGENT,
    )
    return order.number


def test_open_orders_and_complaints_about_the_call_hold_it(
    hot: App, ctx: RecordingsContext, tmp_path: Path
) -> None:
    now = hot.clock.now()
    ids = {
        name: record(ctx, tmp_path, f"{name}.1", now - timedelta(days=20), phone)
        for name, phone in [
            ("plain", "13800000001"),
            ("linked", "13800000002"),
            ("complained", "13800000003"),
            ("settled", "13800000004"),
        ]
    }
    linked = complaint(hot, "13900000000", call_id="linked.1")  # an open order taken on that call
    about = complaint(hot, "13800000003")  # the same citizen complains about the agent afterwards
    complaint(hot, "13800000004", closed=True)  # answered and closed: holds nothing

    report = run_retention_job(ctx, SqlOrderLookup(ctx.session_factory), POLICY, compress=False)
    assert report is not None
    assert sorted(d["call_id"] for d in report.deleted) == ["plain.1", "settled.1"]
    assert {h["call_id"]: h["open_orders"] for h in report.held} == {
        "linked.1": [linked],
        "complained.1": [about],
    }
    assert report.bytes_freed > 0
    with hot.session_factory() as session:
        states = {r.id: r.retention_state for r in session.scalars(select(Recording))}
        [run] = session.scalars(select(RecordingJobRun)).all()
    assert states[ids["plain"]] == "deleted" and states[ids["complained"]] == "active"
    assert (run.status, run.trigger, run.slot) == ("done", "cli", None)
    assert run.report["deleted"] == report.as_json()["deleted"]


def test_the_daily_run_happens_once_per_day_and_its_report_is_served(
    hot: App, ctx: RecordingsContext, tmp_path: Path
) -> None:
    record(ctx, tmp_path, "old.1", hot.clock.now() - timedelta(days=800), "13800000001")
    record(ctx, tmp_path, "new.2", hot.clock.now() - timedelta(hours=1), "13800000002")

    async def two_processes() -> None:
        # the fake clock says 09:00 in Haikou, past 03:30: both catch up at once, one claims the day
        tasks = [asyncio.create_task(daily_recordings_jobs(hot.recordings, at=time(3, 30))) for _ in range(2)]
        for _ in range(600):
            with hot.session_factory() as session:
                runs = list(session.scalars(select(RecordingJobRun)))
            if runs and all(r.status != "running" for r in runs):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # let the other task try its claim
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(two_processes())
    with hot.session_factory() as session:
        [run] = session.scalars(select(RecordingJobRun)).all()
    assert (run.slot, run.trigger, run.status) == ("retention:2026-11-23", "schedule", "done")
    assert [d["call_id"] for d in run.report["deleted"]] == ["old.1"]
    assert [c["recording_id"] for c in run.report["compressed"]] == [2]  # the young one got its Opus copy
    assert run_daily_retention(hot.recordings, run.run_on) is None  # claimed already

    def listener(request: Request) -> Listener:
        return Listener("boss", request.headers["x-role"])

    hot.recordings.listener = listener
    web = FastAPI()
    web.state.hot = hot
    api.install(web, hot.recordings)
    client = TestClient(web)
    assert client.get("/api/recordings/jobs", headers={"x-role": "qa"}).status_code == 403
    [served] = client.get("/api/recordings/jobs", headers={"x-role": "supervisor"}).json()
    assert served["report"]["deleted"][0]["call_id"] == "old.1" and served["status"] == "done"


def test_cli_reports_without_run_and_applies_with_it(
    hot: App, ctx: RecordingsContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI runs on the system clock, so the recording is old by today's date."""
    record(ctx, tmp_path, "cli.1", datetime.now(UTC) - timedelta(days=800), "13800000001")
    for name, value in {
        "HOTLINE_DATABASE_URL": hot.settings.resolved_database_url,
        "HOTLINE_DATA_DIR": str(hot.settings.data_dir),
        "HOTLINE_ENVIRONMENT": "test",
        "HOTLINE_SECRET_KEY": "test-secret",
        "HOTLINE_CONFIG": str(tmp_path / "none.toml"),
        "HOTLINE_RECORDINGS_MONITOR_DIR": str(tmp_path / "empty-spool"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HOTLINE_RECORDINGS_STORE", raising=False)
    runner = CliRunner()

    dry = runner.invoke(cli, ["recordings", "retention", "--no-compress"])
    assert dry.exit_code == 0, dry.output
    assert "would delete (dry run)" in dry.output and "cli.1" in dry.output and "(dry run)" in dry.output
    with hot.session_factory() as session:
        assert session.scalars(select(Recording.retention_state)).one() == "active"

    done = runner.invoke(cli, ["recordings", "retention", "--run", "--no-compress"])
    assert done.exit_code == 0, done.output
    assert "1 deleted" in done.output
    with hot.session_factory() as session:
        assert session.scalars(select(Recording.retention_state)).one() == "deleted"
        runs = [
            (r.dry_run, r.status)
            for r in session.scalars(select(RecordingJobRun).order_by(RecordingJobRun.id))
        ]
    assert runs == [(True, "done"), (False, "done")]
    assert ctx.store.list() == []
