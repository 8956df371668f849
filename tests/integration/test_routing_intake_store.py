"""A new work order written in one statement (``routing.intake_store``, PostgreSQL) and through the ORM's
unit of work (PostgreSQL and SQLite): the same rows in every column of every table, the same events, the
same answer; bad input writes nothing on either path; idempotent intake holds on both."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from hotline.bootstrap import App
from kernel.clock import FakeClock
from kernel.db import metadata
from kernel.outbox import event_outbox
from routing.api.shapes import order_json
from routing.commands import IntakeCommand
from routing.domain.errors import InvalidInput
from routing.domain.model import Actor, WorkOrder
from routing.intake_store import IntakeStore
from routing.orm import Category, order_audit, work_orders
from tests.conftest import make_app, pg_copy

AGENT = Actor("agent007", "agent")
API = Actor("api:wechat", "integration")

# One of each kind of new order: routed by keyword with a street assisting, chosen category and units,
# urgent class, answered on the spot, accepted without dispatch, and every optional field filled in.
COMMANDS: list[dict[str, Any]] = [
    {
        "channel": "web",
        "description": "海甸五西路工地夜间施工噪音扰民，凌晨两点还在打桩",
        "citizen_phone": "138 1234 5678",
        "location_text": "海口市美兰区海甸岛人民大道58号",
    },
    {
        "channel": "phone",
        "description": "小区门口路灯不亮已经一周，晚上出行不安全",
        "citizen_phone": "13912345678",
        "citizen_name": "王明",
        "title": "路灯不亮",
        "district": "龙华区",
        "category": "城乡建设/",
        "targets": [{"unit_code": "city.municipal"}, {"unit_code": "city.housing", "role": "assist"}],
        "urgency": "urgent",
        "call_id": "1733300000.42",
        "external_ref": "desk-1",
    },
    {
        "channel": "wechat",
        "description": "我们小区突然停电了，整栋楼都没电，家里有老人",
        "citizen_phone": "13712345678",
        "district": "琼山区",
    },
    {
        "channel": "phone",
        "description": "咨询社保卡补办需要带什么材料",
        "citizen_phone": "13612345678",
        "case_type": "consultation",
        "answer_on_the_spot": "携带身份证到就近社保经办网点办理",
    },
    {
        "channel": "open311",
        "description": "琼山区府城街道路面破损",
        "citizen_phone": "13512345678",
        "dispatch": False,
    },
]


def _command(hot: App, fields: dict[str, Any]) -> IntakeCommand:
    fields = dict(fields)
    prefix = fields.pop("category", None)
    if prefix:
        with hot.session_factory() as session:
            fields["category_id"] = session.scalars(
                select(Category.id).where(Category.path.startswith(prefix)).order_by(Category.id)
            ).first()
    return IntakeCommand.model_validate(fields)


def _order_tables() -> list[Table]:
    """work_orders and every table that refers to it (whichever component owns it)."""
    return [work_orders] + [
        t
        for t in metadata.sorted_tables
        if any(fk.column is work_orders.c.id for fk in t.foreign_keys) and t is not work_orders
    ]


def _rows(hot: App) -> dict[str, list[dict[str, Any]]]:
    """Every row the intakes wrote, as Python values (dates in UTC, JSON parsed), without surrogate ids;
    children name their order by number."""
    out: dict[str, list[dict[str, Any]]] = {}
    with hot.session_factory() as session:
        for table in _order_tables():
            if table is work_orders:
                stmt = select(table).order_by(table.c.number)
            else:
                fk = next(fk for fk in table.foreign_keys if fk.column is work_orders.c.id).parent
                stmt = (
                    select(table, work_orders.c.number.label("of_order"))
                    .join(work_orders, fk == work_orders.c.id)
                    .order_by(work_orders.c.number, table.c.id)
                )
            rows = [dict(r._mapping) for r in session.execute(stmt)]
            for row in rows:
                row.pop("id", None)
                row.pop("order_id", None)
            out[table.name] = rows
        outbox = []
        for r in session.execute(select(event_outbox).order_by(event_outbox.c.id)):
            row = dict(r._mapping)
            row.pop("id")
            payload = json.loads(row.pop("payload"))
            payload.pop("id")  # a fresh uuid per message
            payload.pop("at")  # the wall-clock moment the message was encoded
            outbox.append({**row, "payload": payload})
        out["event_outbox"] = outbox
    return out


def _run(hot: App, clock: FakeClock) -> list[WorkOrder]:
    made = []
    for fields in COMMANDS:
        made.append(hot.work_orders.intake(_command(hot, fields), API if "external_ref" in fields else AGENT))
        clock.advance(minutes=7)
    return made


@pytest.fixture
def three(tmp_path: Path, sqlite_template: Path, pg_server: str, pg_template: str) -> Iterator[list[App]]:
    """PostgreSQL writing in one statement, PostgreSQL through the ORM, SQLite through the ORM: each a fresh
    copy of the seeded template, each with its own clock at the same start."""
    with ExitStack() as stack:
        apps: list[App] = []
        for i, url in enumerate(
            [stack.enter_context(pg_copy(pg_server, pg_template)) for _ in range(2)]
            + [f"sqlite:///{tmp_path / 'orm.sqlite3'}"]
        ):
            if url.startswith("sqlite"):
                shutil.copyfile(sqlite_template, tmp_path / "orm.sqlite3")
            app = make_app(url, tmp_path / f"app{i}", FakeClock(), seed=False, migrate=False)
            stack.callback(app.close)
            apps.append(app)
        apps[1].work_orders.one_statement_intake = False
        yield apps


@pytest.mark.postgres
def test_one_statement_and_the_orm_write_the_same_rows(three: list[App]) -> None:
    store_pg, orm_pg, orm_sqlite = three
    assert store_pg.work_orders._intake_store is not None
    assert orm_sqlite.work_orders._intake_store is None  # SQLite keeps the ORM's unit of work
    made = {}
    for app in three:
        clock = app.clock
        assert isinstance(clock, FakeClock)
        made[id(app)] = _run(app, clock)
    expected = _rows(orm_pg)
    assert {name: len(rows) for name, rows in expected.items()} == {
        **{t.name: 0 for t in _order_tables()},
        "work_orders": 5,
        "order_assignments": 6,  # keyword + street; lead + assist; urgent class; none; none
        "order_deadlines": 16,  # response per unit, resolution, and the yellow-card warnings
        "order_audit": 9,
        "event_outbox": 9,
    }
    for app in (store_pg, orm_sqlite):
        assert _rows(app) == expected
        assert app.bus.published == orm_pg.bus.published
    # what the intake hands back is what a fresh read finds, ids and version included
    for order in made[id(store_pg)]:
        again = store_pg.work_orders.get(order.number)
        assert order_json(order, show_phone=True) == order_json(again, show_phone=True)
        for collection in ("assignments", "deadlines", "history"):
            mine = [(o.id, o.__dict__.get("order_id")) for o in getattr(order, collection)]
            assert mine == [(o.id, again.id) for o in getattr(again, collection)]
        assert (order.id, order.version, order.events) == (again.id, again.version, [])


def _counts(hot: App) -> tuple[int, ...]:
    with hot.session_factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(t)) or 0
            for t in (work_orders, order_audit, event_outbox)
        )


def test_bad_input_writes_nothing_and_announces_nothing(hot: App) -> None:
    good = {"channel": "web", "description": "路灯不亮", "citizen_phone": "13812345678"}
    with pytest.raises(InvalidInput):
        hot.work_orders.intake(IntakeCommand.model_validate({**good, "category_id": 999999}), AGENT)
    with pytest.raises(InvalidInput):
        hot.work_orders.intake(
            IntakeCommand.model_validate({**good, "targets": [{"unit_code": "no.such.unit"}]}), AGENT
        )
    with pytest.raises(InvalidInput):  # two leads: refused by the domain, after the number was drawn
        hot.work_orders.intake(
            IntakeCommand.model_validate(
                {**good, "targets": [{"unit_code": "city.municipal"}, {"unit_code": "city.housing"}]}
            ),
            AGENT,
        )
    assert _counts(hot) == (0, 0, 0)
    assert hot.bus.published == []


def test_a_racing_duplicate_reference_writes_nothing_and_returns_the_first_order(
    hot: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmd = IntakeCommand.model_validate(
        {
            "channel": "wechat",
            "description": "路灯不亮",
            "citizen_phone": "13812345678",
            "external_ref": "wx-9",
        }
    )
    first = hot.work_orders.intake(cmd, API)
    before, published = _counts(hot), len(hot.bus.published)
    real = hot.work_orders._by_reference
    calls: list[str] = []

    def late(client: str, ref: str) -> WorkOrder | None:  # the other request committed after this look-up
        calls.append(ref)
        return None if len(calls) == 1 else real(client, ref)

    monkeypatch.setattr(hot.work_orders, "_by_reference", late)
    order, created = hot.work_orders.submit(cmd, API)
    assert (order.number, created, len(calls)) == (first.number, False, 2)
    assert _counts(hot) == before and len(hot.bus.published) == published
    with pytest.raises(IntegrityError):
        hot.work_orders._intake(cmd, API)
    assert _counts(hot) == before


def test_only_postgresql_gets_the_one_statement_store(hot: App) -> None:
    store = IntakeStore.for_factory(hot.routing.write_session_factory, hot.core.outbox)
    assert (store is not None) == (hot.engine.dialect.name == "postgresql")
