"""The outbox on SQLite and PostgreSQL (nothing lost when a process dies between commit and publish, nothing
sent for a rollback), and the PostgreSQL lease that single-active roles hold (a standby takes over when the
holder is killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.bootstrap import App
from kernel.clock import FakeClock
from kernel.lease import Lease
from kernel.outbox import Outbox, event_outbox
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.events import WorkOrderAccepted, WorkOrderDispatched
from routing.domain.model import Actor

AGENT = Actor("agent1", "agent")


def intake(hot: App, text: str = "小区路灯不亮") -> str:
    cmd = IntakeCommand(channel=Channel.PHONE, description=text, citizen_phone="13800138000")
    return hot.work_orders.intake(cmd, AGENT).number


def unsent(hot: App) -> int:
    with hot.session_factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(event_outbox).where(event_outbox.c.published_at.is_(None))
            )
            or 0
        )


def test_events_are_written_in_the_transaction_and_marked_once_published(hot: App) -> None:
    number = intake(hot)
    kinds = [type(e) for e in hot.bus.published if getattr(e, "order_number", None) == number]
    assert WorkOrderAccepted in kinds and WorkOrderDispatched in kinds
    assert unsent(hot) == 2  # published, not yet marked (marked in batches)
    assert hot.outbox.mark() == 2 and unsent(hot) == 0


def test_a_process_that_dies_after_the_commit_loses_no_event(hot: App, clock: FakeClock) -> None:
    # The unit of work commits, then the process dies before publishing: the rows stay unsent.
    staged_rows: list[object] = []
    real_publish = hot.outbox.publish
    hot.outbox.publish = staged_rows.append  # type: ignore[method-assign]
    number = intake(hot)
    hot.outbox.publish = real_publish  # type: ignore[method-assign]
    assert staged_rows and not [e for e in hot.bus.published if getattr(e, "order_number", "") == number]
    # Another process sweeps once the rows are older than a few seconds.
    other = Outbox(hot.write_session_factory, hot.bus, clock.now, sweep_after=timedelta(seconds=5))
    assert other.sweep() == 0  # too young: its own process may still publish them
    clock.advance(seconds=6)
    assert other.sweep() == 2 and unsent(hot) == 0
    swept = [type(e) for e in hot.bus.published if getattr(e, "order_number", "") == number]
    assert swept == [WorkOrderAccepted, WorkOrderDispatched]
    assert other.sweep() == 0  # exactly once


def test_a_change_that_rolls_back_sends_nothing(hot: App) -> None:
    number = intake(hot)
    hot.outbox.mark()
    before = len(hot.bus.published)

    def reopen_then_fail() -> None:
        with hot.routing_context.unit_of_work() as (_session, touched):
            order = hot.work_orders.get(number)
            order.acknowledge(Actor("u", "department"), hot.clock.now(), order.lead_unit or "")
            touched.append(order)
            raise RuntimeError("the database refused")

    with pytest.raises(RuntimeError):
        reopen_then_fail()
    assert hot.bus.published[before:] == [] and unsent(hot) == 0


LEASE_HOLDER = textwrap.dedent(
    """
    import asyncio, sys, time
    from sqlalchemy import create_engine
    from kernel.lease import Lease

    async def main():
        lease = Lease(create_engine(sys.argv[1]), "test-role", poll_s=0.1)
        await lease.acquire(announce=False)
        print("held", time.time(), flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


@pytest.mark.postgres
def test_a_standby_takes_over_when_the_holder_is_killed(pg_database: str, tmp_path: Path) -> None:
    script = tmp_path / "holder.py"
    script.write_text(LEASE_HOLDER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, str(script), pg_database]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    assert first.stdout is not None
    held = first.stdout.readline()  # the first holds the lease before the second starts
    second = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert second.stdout is not None
        assert held.startswith("held")
        from sqlalchemy import create_engine

        probe_engine = create_engine(pg_database)
        probe = Lease(probe_engine, "test-role")
        assert not probe.try_acquire()  # held: nobody else gets it
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        line = second.stdout.readline()  # the standby takes over (its poll is 0.1 s)
        assert line.startswith("held")
        assert not probe.try_acquire()
        probe_engine.dispose()
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.mark.postgres
def test_the_holder_learns_when_its_connection_is_gone(pg_database: str) -> None:
    import asyncio

    from sqlalchemy import create_engine, text

    engine = create_engine(pg_database)

    async def scenario() -> bool:
        lease = Lease(engine, "watched", check_s=0.1)
        await lease.acquire(announce=False)
        watch = asyncio.create_task(lease.watch())
        admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid <> pg_backend_pid()"
                )
            )
        admin.dispose()
        await asyncio.wait_for(watch, 30)
        return lease.lost.is_set()

    assert asyncio.run(scenario())
    engine.dispose()
