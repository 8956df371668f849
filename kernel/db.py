"""Database engine and session factory: SQLite (embedded default, WAL) or PostgreSQL (production).

All tables of all components live in one ``MetaData`` (``kernel.db.metadata``) so that one Alembic
history migrates them. Nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, registry, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
mapper_registry = registry(metadata=metadata)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (the web pages) run while the scheduler or an intake writes; a busy timeout makes a
    # second writer wait instead of failing at once. SQLite enforces foreign keys only when asked.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A unit of work that will write takes the write lock when it begins (BEGIN IMMEDIATE), so that its
    # read-then-write (e.g. the scheduler claiming deadlines) cannot be overtaken by another writer and it
    # waits on the busy timeout instead of failing. Readers begin deferred and never block writers (WAL).
    if conn.get_execution_options().get("sqlite_write_lock"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    # hide_parameters: a failed statement's message (logged, or in a traceback) never quotes its values,
    # which are citizens' phone numbers, names and descriptions.
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy (below) emit BEGIN itself

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )


def make_session_factory(engine: Engine, *, for_writing: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or (``for_writing``) for units of work that write: on SQLite the latter take
    the write lock at BEGIN. On PostgreSQL both are the same; row locks do the work there."""
    bind = engine.execution_options(sqlite_write_lock=True) if for_writing else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


# ---- column types shared by every component ------------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no time zone; we store naive UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONType(TypeDecorator[Any]):
    """JSON documents: JSONB on PostgreSQL, JSON text on SQLite. A named type, so that Alembic's
    autogenerate renders ``kernel.db.JSONType()`` instead of a dialect variant it cannot import."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())


class Base(DeclarativeBase):
    """Declarative base for reference data and component records, on the one shared ``metadata``."""

    metadata = metadata
    registry = mapper_registry
