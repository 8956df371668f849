"""Bulk-create open, dispatched work orders with pending response deadlines, for the SLA benchmarks.

Orders are written with plain INSERTs (not through the service) because 100,000 of them through the
ORM would take minutes; they look exactly like dispatched orders: an audit row, an assignment, a
response deadline and a resolution deadline each.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert

from routing.orm import order_assignments, order_audit, order_deadlines, work_orders


def seed_open_orders(
    engine: Engine,
    count: int,
    now: datetime,
    *,
    due_soon: int = 0,
    due_window_s: float = 60.0,
    due_start: datetime | None = None,
    unit: str = "city.housing",
    batch: int = 5000,
) -> None:
    """``count`` open orders; ``due_soon`` of them have response deadlines spread over ``due_window_s``
    seconds from ``due_start``; the rest fall due hours later."""
    rng = random.Random(42)
    start = due_start or now
    with engine.begin() as conn:
        for first in range(0, count, batch):
            n = min(batch, count - first)
            orders, audits, assigns, deadlines = [], [], [], []
            for i in range(first, first + n):
                oid = i + 1
                if i < due_soon:
                    due = start + timedelta(seconds=rng.uniform(0, due_window_s))
                else:
                    due = now + timedelta(hours=2, seconds=rng.uniform(0, 3600))
                orders.append(
                    {
                        "id": oid,
                        "number": f"HKBENCH{oid:09d}",
                        "case_type": "complaint",
                        "channel": "phone",
                        "urgency": "normal",
                        "category_path": "城乡建设/住房保障与房地产/物业服务",
                        "title": "bench",
                        "description": "bench order",
                        "citizen_name": "",
                        "citizen_phone": "13800000000",
                        "location_text": "",
                        "state": "dispatched",
                        "reply": "",
                        "redo_count": 0,
                        "escalation_level": 0,
                        "dispatch_round": 1,
                        "accepted_at": now,
                        "accepted_by": "bench",
                        "first_dispatched_at": now,
                        "response_due_at": due,
                        "call_ids": [],
                        "version": 1,
                    }
                )
                audits.append(
                    {
                        "order_id": oid,
                        "seq": 1,
                        "at": now,
                        "actor": "bench",
                        "actor_role": "system",
                        "action": "dispatch",
                        "before": {},
                        "after": {"state": "dispatched"},
                        "note": "",
                    }
                )
                assigns.append(
                    {
                        "order_id": oid,
                        "unit_code": unit,
                        "role": "lead",
                        "assigned_at": now,
                        "round": 1,
                        "active": True,
                    }
                )
                deadlines.append(
                    {
                        "order_id": oid,
                        "kind": "response",
                        "due_at": due,
                        "unit_code": unit,
                        "level": 1,
                        "created_at": now,
                    }
                )
                deadlines.append(
                    {
                        "order_id": oid,
                        "kind": "resolution",
                        "due_at": now + timedelta(days=7),
                        "unit_code": unit,
                        "level": 0,
                        "created_at": now,
                    }
                )
            conn.execute(insert(work_orders), orders)
            conn.execute(insert(order_audit), audits)
            conn.execute(insert(order_assignments), assigns)
            conn.execute(insert(order_deadlines), deadlines)
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval('work_orders_id_seq', (SELECT max(id) FROM work_orders))")
            conn.exec_driver_sql("ANALYZE")
