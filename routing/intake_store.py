"""A new work order on PostgreSQL in one statement: the order, its children, audit and outbox rows.

Intake is the busiest write of the hotline (every call, web form, WeChat message and Open311 request makes
one), and through the ORM's unit of work it cost a BEGIN, one INSERT per table and a COMMIT: eight round
trips, with most of the rest of its time in the unit of work's bookkeeping. Here the pure domain still
builds the whole order (``WorkOrder`` with its assignments, deadlines, audit records and events, from
``now``); only the writing differs. One data-modifying statement inserts the order and, from its new id,
every non-empty child collection of the mapping and the outbox rows of its events::

    WITH o AS (INSERT INTO work_orders (…) SELECT … FROM jsonb_populate_record(NULL::work_orders, $1)
               RETURNING id),
         c0 AS (INSERT INTO order_assignments (order_id, …)
                SELECT o.id, r.… FROM o, jsonb_populate_recordset(NULL::order_assignments, $2)
                     WITH ORDINALITY AS r ORDER BY r.ordinality RETURNING id),
         …, x AS (INSERT INTO event_outbox …)
    SELECT (SELECT id FROM o), ARRAY(SELECT id FROM c0 ORDER BY id), …

The statement runs alone on a connection in autocommit mode, so PostgreSQL makes it one transaction of its
own: all rows or none, and durable (``synchronous_commit`` untouched) before the answer comes back. No
BEGIN or COMMIT travels.

The order's number must be known before the domain builds the order (it is in the first audit record and
in every event), so it cannot be drawn inside the statement that writes the order. Instead each statement
also draws a number for a later order of the same process (``nextval`` in its final SELECT): an intake
uses a number drawn one intake earlier and costs one round trip; only a process's first intake, or one
that finds every drawn number taken by concurrent intakes, draws its own first. Numbers stay unique and
increasing within a process; across processes they can be out of acceptance order by the few intakes in
flight (as sequence values always were by commit order), and a stopped process leaves a gap of the few
numbers it had drawn (as a rolled-back intake always did).

Which columns are written comes from the ORM mapping itself (every mapped column whose attribute the
object has, Python-side column defaults and the version counter applied as the ORM applies them), so a
column or child collection added to the mapping is written here too; ``tests/integration/
test_routing_intake_store.py`` holds this path and the ORM's to the same rows, column by column. SQLite
(the embedded default, one writer at a time) keeps the ORM's unit of work.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, ColumnElement, Engine, Table, TextClause, text
from sqlalchemy.orm import Mapper, Session, class_mapper, make_transient_to_detached, sessionmaker

from kernel.outbox import Outbox, event_outbox
from routing.domain.model import WorkOrder
from routing.orm import number_sequence
from routing.repository import PREDRAWN_NUMBER, WorkOrderRepository

NewOrderWork = tuple[Session, WorkOrderRepository, list[WorkOrder]]


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a new work order")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written by the intake store")


def _dumps(value: object) -> str:
    # Enum members are str subclasses and are written as their values, as the ORM's Enum type writes them.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


@dataclass(frozen=True, eq=False)  # cached, compared by identity
class _Part:
    """One INSERT of the statement: a table, the attribute that holds each written column, and how the
    ORM fills a column whose attribute the object lacks."""

    table_name: str
    columns: tuple[tuple[str, str], ...]  # (column name, attribute key)
    fills: tuple[tuple[str, ColumnElement[Any]], ...]  # (attribute key, column with a Python-side default)
    parent: tuple[str, str] | None = None  # (column, attribute key) of a child's reference to its order


_OUTBOX = _Part(event_outbox.name, tuple((c, c) for c in ("type", "payload", "created_at")), ())


class _NewOrders(WorkOrderRepository):
    """The repository of a new-order unit of work: ``add`` leaves the order to the store's statement."""

    def add(self, order: WorkOrder) -> None:
        pass


class IntakeStore:
    def __init__(self, bind: Engine, outbox: Outbox) -> None:
        self.bind = bind.execution_options(isolation_level="AUTOCOMMIT")
        self.outbox = outbox
        self._quote = bind.dialect.identifier_preparer.quote
        self._parts: dict[tuple[type, tuple[str, ...]], _Part] = {}
        self._numbers: deque[int] = deque()  # drawn by earlier statements for the next orders
        self._statements: dict[tuple[_Part, ...], TextClause] = {}

    @classmethod
    def for_factory(cls, factory: sessionmaker[Session], outbox: Outbox) -> IntakeStore | None:
        """A store for PostgreSQL sessions; None for any other database (SQLite keeps the ORM)."""
        bind = factory.kw.get("bind")
        if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
            return cls(bind, outbox)
        return None

    @contextmanager
    def unit_of_work(self) -> Iterator[NewOrderWork]:
        """Like ``RoutingContext.unit_of_work`` for one new order: the body reads (the number, a category,
        units) through the session and puts the order it built in the list; on leaving, the order graph
        and its outbox rows are written in one statement, then the events are published."""
        touched: list[WorkOrder] = []
        info: dict[str, Any] = {}
        with suppress(IndexError):  # none left: the allocator draws one itself
            info[PREDRAWN_NUMBER] = self._numbers.popleft()
        with self.bind.connect() as conn:
            with Session(bind=conn, autoflush=False, info=info) as session:
                yield session, _NewOrders(session), touched
            if len(touched) != 1:
                raise RuntimeError("an intake unit of work writes exactly one new order")
            order = touched[0]
            rows, staged = self.outbox.rows(order.events)
            staged.numbered(self.insert(conn, order, rows))
            order.events.clear()
        self.outbox.publish(staged)

    def insert(self, conn: Any, order: WorkOrder, outbox_rows: Sequence[dict[str, Any]] = ()) -> list[int]:
        """Write ``order`` (not yet persisted) and its children, and ``outbox_rows``, in one statement on
        ``conn`` (autocommit: the statement is its own transaction). Sets the new ids on the objects and
        leaves them detached, as a committed and closed ORM session would. Returns the outbox row ids."""
        mapper = class_mapper(WorkOrder)
        parts = [self._part(mapper, order)]
        params: dict[str, str] = {"p0": _dumps(self._values(mapper, parts[0], order))}
        children: list[list[Any]] = []
        for rel in mapper.relationships:
            objs = list(getattr(order, rel.key))
            if not objs:
                continue
            part = self._part(rel.mapper, objs[0], parent=rel.synchronize_pairs[0][1])
            params[f"p{len(parts)}"] = _dumps([self._values(rel.mapper, part, o) for o in objs])
            parts.append(part)
            children.append(objs)
        if outbox_rows:
            params[f"p{len(parts)}"] = _dumps(list(outbox_rows))
            parts.append(_OUTBOX)
        row = conn.execute(self._statement(tuple(parts)), params).one()
        self._numbers.append(int(row[-1]))
        order.id = row[0]
        ids: list[list[int]] = list(row[1:-1])
        for objs, new_ids, part in zip(children, ids, parts[1:], strict=False):
            for obj, new_id in zip(objs, new_ids, strict=True):
                obj.id = new_id
                if part.parent is not None:
                    setattr(obj, part.parent[1], order.id)
                make_transient_to_detached(obj)
        make_transient_to_detached(order)
        return ids[len(children)] if outbox_rows else []

    # ---- building the statement -----------------------------------------------------------------------
    def _part(self, mapper: Mapper[Any], obj: Any, parent: ColumnElement[Any] | None = None) -> _Part:
        present = tuple(sorted(obj.__dict__))
        key = (mapper.class_, present)
        part = self._parts.get(key)
        if part is None:
            columns: list[tuple[str, str]] = []
            fills: list[tuple[str, ColumnElement[Any]]] = []
            table = cast(Table, mapper.local_table)
            for column in table.columns:
                if column.primary_key or column is parent:
                    continue
                attr = mapper.get_property_by_column(column).key
                if attr in obj.__dict__ or column is mapper.version_id_col:
                    columns.append((column.name, attr))
                elif column.default is not None:
                    columns.append((column.name, attr))
                    fills.append((attr, column))
                # else: the database's own default applies, as it does under the ORM
            link = (
                None
                if parent is None
                else (cast(Column[Any], parent).name, mapper.get_property_by_column(parent).key)
            )
            part = _Part(table.name, tuple(columns), tuple(fills), link)
            self._parts[key] = part
        return part

    @staticmethod
    def _values(mapper: Mapper[Any], part: _Part, obj: Any) -> dict[str, Any]:
        values = {name: obj.__dict__.get(attr) for name, attr in part.columns}
        for attr, column in part.fills:
            default = cast(Column[Any], column).default
            arg = getattr(default, "arg", None)
            value = arg(None) if getattr(default, "is_callable", False) and callable(arg) else arg
            values[cast(Column[Any], column).name] = value
            setattr(obj, attr, value)
        version = mapper.version_id_col
        generator = mapper.version_id_generator
        if version is not None and callable(generator):
            # the ORM numbers the first version itself, whatever the object says
            values[cast(Column[Any], version).name] = generator(None)
            setattr(obj, mapper.get_property_by_column(version).key, generator(None))
        return values

    def _statement(self, parts: tuple[_Part, ...]) -> TextClause:
        statement = self._statements.get(parts)
        if statement is not None:
            return statement
        q = self._quote
        ctes: list[str] = []
        for i, part in enumerate(parts):
            table = q(part.table_name)
            names = [q(name) for name, _attr in part.columns]
            picked = ", ".join(f"r.{n}" for n in names)
            if i == 0:
                ctes.append(
                    f"c0 AS (INSERT INTO {table} ({', '.join(names)}) SELECT {picked} "
                    f"FROM jsonb_populate_record(NULL::{table}, CAST(:p0 AS jsonb)) AS r RETURNING id)"
                )
                continue
            into, picks, source = names, picked, ""
            if part.parent is not None:
                into, picks, source = [q(part.parent[0]), *names], f"c0.id, {picked}", "c0, "
            ctes.append(
                f"c{i} AS (INSERT INTO {table} ({', '.join(into)}) SELECT {picks} "
                f"FROM {source}jsonb_populate_recordset(NULL::{table}, CAST(:p{i} AS jsonb)) "
                f"WITH ORDINALITY AS r ORDER BY r.ordinality RETURNING id)"
            )
        ids = "".join(f", ARRAY(SELECT id FROM c{i} ORDER BY id)" for i in range(1, len(parts)))
        sequence = q(number_sequence.name)
        sql = f"WITH {', '.join(ctes)} SELECT (SELECT id FROM c0){ids}, nextval('{sequence}')"
        statement = text(sql)
        self._statements[parts] = statement
        return statement
