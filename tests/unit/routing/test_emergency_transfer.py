"""国办发〔2022〕12号: a transfer or three-way call with 110/119/120/122 is kept on the order, with who and when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from routing.domain.errors import InvalidInput
from routing.domain.model import Actor
from tests.unit.routing.test_workorder import NOW, new_order

AGENT = Actor("agent1", "agent")


def test_the_order_records_the_transfer_with_who_and_when() -> None:
    order = new_order()
    at = NOW + timedelta(minutes=3)
    order.record_emergency_transfer(
        AGENT, at + timedelta(seconds=2), line="110", dialled="68521110", mode="transfer", call_id="c1", at=at
    )
    event = order.history[-1]
    assert (event.action, event.actor, event.actor_role, event.at) == (
        "emergency_transfer",
        "agent1",
        "agent",
        at + timedelta(seconds=2),
    )
    assert event.after == {
        "line": "110",
        "dialled": "68521110",
        "mode": "transfer",
        "call_id": "c1",
        "at": at.isoformat(),
    }
    assert event.note == "一键转接110（agent1）"
    order.record_emergency_transfer(
        AGENT, at, line="120", dialled="120", mode="conference", call_id="c1", at=at
    )
    assert order.history[-1].note == "与120三方通话（agent1）"


@pytest.mark.parametrize(("line", "mode"), [("911", "transfer"), ("110", "hold")])
def test_only_the_four_lines_and_two_ways(line: str, mode: str) -> None:
    order = new_order()
    before = len(order.history)
    with pytest.raises(InvalidInput):
        order.record_emergency_transfer(AGENT, NOW, line=line, dialled=line, mode=mode, call_id="c1", at=NOW)
    assert len(order.history) == before
