"""Issue 11, item 2: twelve wrong passwords sent at once to one account, against a real server process
(uvicorn, two worker processes) on SQLite and PostgreSQL. Every attempt is counted, at most five
passwords are tested, and the account ends locked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from agent_ui.orm import AccessAudit, User
from agent_ui.security import use_fast_hashing_for_tests
from agent_ui.users import UserService
from kernel.clock import SystemClock
from kernel.db import make_engine, make_session_factory

PASSWORD = "right-password-12"
ATTEMPTS = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(seeded_db_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": seeded_db_url,
        "HOTLINE_ENVIRONMENT": "test",
        "HOTLINE_SECRET_KEY": "lockout-test-secret",
        "HOTLINE_DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_TELEPHONY_ENABLED": "false",
    }
    args = ["-m", "uvicorn", "--factory", "hotline.web:app_factory", "--port", str(port), "--workers", "2"]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, *args, "--host", "127.0.0.1", "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_2_parallel_wrong_passwords_lock_the_account(seeded_db_url: str, server: str) -> None:
    engine = make_engine(seeded_db_url)
    factory = make_session_factory(engine)
    use_fast_hashing_for_tests()
    UserService(factory, SystemClock()).create("target1", "目标", "agent", password=PASSWORD)

    page = httpx.get(f"{server}/login")
    token = page.cookies["hotline_login_csrf"]
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        form = {"username": "target1", "password": f"wrong-{i}", "csrf_token": token}
        with httpx.Client(cookies={"hotline_login_csrf": token}, timeout=60) as client:
            barrier.wait()
            status = client.post(f"{server}/login", data=form).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(set(statuses)) <= [401, 429] and len(statuses) == ATTEMPTS
    assert statuses.count(401) <= 4  # attempts 1-4 may fail plainly; the fifth locks

    with factory() as session:
        user = session.scalar(select(User).where(User.username == "target1"))
        assert user is not None and user.locked_until is not None
        assert user.locked_until > datetime.now(UTC)
        failed = session.scalar(
            select(func.count()).where(AccessAudit.subject == "target1", AccessAudit.action == "login_failed")
        )
        locked = session.scalar(
            select(func.count()).where(AccessAudit.subject == "target1", AccessAudit.action == "login_locked")
        )
    assert failed is not None and failed <= 5  # no more than five passwords were ever tested
    assert (failed or 0) + (locked or 0) == ATTEMPTS  # and every attempt left its audit row

    # the right password is refused while the lock holds
    right = {"username": "target1", "password": PASSWORD, "csrf_token": token}
    r = httpx.post(f"{server}/login", data=right, cookies={"hotline_login_csrf": token})
    assert r.status_code == 429
    engine.dispose()
