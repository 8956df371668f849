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


@pytest.mark.slow
def test_four_schedulers_issue_each_yellow_and_red_card_once(hot: App, clock: FakeClock) -> None:
    from routing.orm import order_cards

    for i in range(30):
        hot.work_orders.intake(
            IntakeCommand(
                channel=Channel.WEB,
                description=f"井盖缺失 {i}",
                citizen_phone="13800001111",
                targets=[{"unit_code": "city.municipal"}],
            ),  # type: ignore[list-item]
            Actor("a", "agent"),
        )
    for minutes in (20, 10):  # the yellow cards (10 minutes before), then the red cards (the breach)
        clock.advance(minutes=minutes)
        schedulers = [SlaScheduler(hot.routing_context, batch_size=4) for _ in range(4)]
        threads = [threading.Thread(target=s.run_once) for s in schedulers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    with hot.session_factory() as session:
        per_order = session.execute(
            select(order_cards.c.order_id, order_cards.c.color, func.count()).group_by(
                order_cards.c.order_id, order_cards.c.color
            )
        ).all()
        warnings = session.scalar(
            select(func.count())
            .select_from(order_deadlines)
            .where(order_deadlines.c.kind == "response_warning", order_deadlines.c.fired_at.is_not(None))
        )
    assert warnings == 30
    assert len(per_order) == 60 and {n for _, _, n in per_order} == {1}
