"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (where reachable).

``HOTLINE_REQUIRE=postgres,asterisk,...`` (set by .ci/run) turns a skip of a test carrying one of those
markers into a failure, so that CI cannot pass while the real database, switch or model silently went away.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hotline.bootstrap import App, bootstrap
from hotline.migrate import upgrade
from kernel.bus import EventBus
from kernel.clock import FakeClock
from kernel.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRED_MARKERS = {m for m in os.environ.get("HOTLINE_REQUIRE", "").split(",") if m}


def _required_marker(item: pytest.Item) -> str | None:
    for marker in item.iter_markers():
        if marker.name in REQUIRED_MARKERS:
            return marker.name
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    marker = _required_marker(item)
    if marker and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"required '{marker}' test was skipped (HOTLINE_REQUIRE): {reason}"


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = create_engine(
            PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def pg_server() -> str:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    return PG_ADMIN_URL


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database; every test using it runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _migrate_and_seed(url: str) -> None:
    from routing.reference import seed_all

    hot = bootstrap(
        Settings(environment="test", secret_key="test-secret", database_url=url, data_dir=Path("/tmp"))
    )
    upgrade(hot.engine)
    with hot.session_factory() as session, session.begin():
        seed_all(session)
    hot.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and seeded once per run; each test gets a copy (seeding takes seconds, a copy milliseconds)."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite3"
    _migrate_and_seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    name = f"hotline_tpl_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _migrate_and_seed(make_url(pg_server).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def seeded_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database holding the Haikou reference data, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "hotline.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    with pg_copy(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template")) as url:
        yield url


@contextmanager
def pg_copy(server: str, template: str) -> Iterator[str]:
    """A new PostgreSQL database copied from ``template`` (its URL), dropped on leaving."""
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(
    db_url: str, tmp_path: Path, clock: FakeClock, *, seed: bool = True, migrate: bool = True
) -> App:
    settings = Settings(
        environment="test", secret_key="test-secret", data_dir=tmp_path / "var", database_url=db_url
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    hot = bootstrap(settings, clock=clock, bus=EventBus(keep_history=True))
    if migrate:
        upgrade(hot.engine)
    if seed:
        from routing.reference import seed_all

        with hot.session_factory() as session, session.begin():
            seed_all(session)
    hot.reload_reference()
    return hot


@pytest.fixture
def hot(seeded_db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[App]:
    """A migrated, seeded application on SQLite and on PostgreSQL, with a fake clock."""
    app = make_app(seeded_db_url, tmp_path, clock, seed=False, migrate=False)
    try:
        yield app
    finally:
        app.close()
