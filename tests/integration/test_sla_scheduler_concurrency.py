"""Several schedulers at once never fire a deadline twice (PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from hotline.bootstrap import App
from kernel.clock import FakeClock
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from routing.orm import order_alarms, order_deadlines
from routing.scheduler import SlaScheduler


@pytest.mark.slow
def test_four_schedulers_fire_each_deadline_once(hot: App, clock: FakeClock) -> None:
    for i in range(40):
        hot.work_orders.intake(
            IntakeCommand(
                channel=Channel.WEB,
                description=f"路灯不亮 {i}",
                citizen_phone="13800001111",
                district="美兰区",
                targets=[{"unit_code": "city.municipal"}],
            ),  # type: ignore[list-item]
            Actor("a", "agent"),
        )
    clock.advance(minutes=31)
    schedulers = [SlaScheduler(hot.routing_context, batch_size=7) for _ in range(4)]
    errors: list[BaseException] = []

    def run(s: SlaScheduler) -> None:
        try:
            s.run_once()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with hot.session_factory() as session:
        fired = session.scalar(
            select(func.count())
            .select_from(order_deadlines)
            .where(order_deadlines.c.kind == "response", order_deadlines.c.fired_at.is_not(None))
        )
        pending_due = session.scalar(
            select(func.count())
            .select_from(order_deadlines)
            .where(
                order_deadlines.c.fired_at.is_(None),
                order_deadlines.c.cancelled_at.is_(None),
                order_deadlines.c.due_at <= clock.now(),
            )
        )
        per_order = session.execute(
            select(order_alarms.c.order_id, func.count())
            .where(order_alarms.c.addressed_to == "city.municipal")
            .group_by(order_alarms.c.order_id)
        ).all()
    assert fired == 40 and pending_due == 0
    assert len(per_order) == 40 and {n for _, n in per_order} == {1}
