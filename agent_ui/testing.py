"""Helpers for tests and demonstrations: a web app with only the desk installed, log-in, demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from agent_ui.app import install
from agent_ui.security import use_fast_hashing_for_tests
from agent_ui.users import NewAccount, UserService, create_demo_accounts
from hotline.bootstrap import App

TEST_PASSWORD = "test-password-123"  # noqa: S105 - test accounts only
DEMO_UNIT = "city.housing"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_web(hot: App) -> FastAPI:
    """The desk alone on a FastAPI app (hotline.web.create_web_app adds the other components' APIs)."""
    web = FastAPI()
    web.state.hot = hot
    install(web, hot)
    return web


def demo_accounts(hot: App, unit_code: str = DEMO_UNIT) -> list[NewAccount]:
    use_fast_hashing_for_tests()
    return create_demo_accounts(
        UserService(hot.session_factory, hot.clock), unit_code, fixed_password=TEST_PASSWORD
    )


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    if match is None:
        raise AssertionError("no CSRF token in the page")
    return match.group(1)


def login(client: TestClient, username: str, password: str = TEST_PASSWORD) -> str:
    """Log in and return the session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise AssertionError(f"log-in as {username} failed: {response.status_code}")
    return csrf_from(client.get(response.headers["location"]).text)


def iter_api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, also inside routers that FastAPI includes lazily (0.16x)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            yield from iter_api_routes(route.original_router.routes, prefix + getattr(context, "prefix", ""))


def make_full_web(hot: App, *, with_kb: bool = True) -> FastAPI:
    """The desk with the recordings API (audio with ranges, audited) and, optionally, the knowledge base,
    composed as hotline.web does it (the recordings API learns the listener from the desk's session)."""
    from hotline.web import create_web_app

    components = (
        ("recordings.api", "routing.kb.api", "agent_ui.app")
        if with_kb
        else ("recordings.api", "agent_ui.app")
    )
    return create_web_app(hot, components=components)


@dataclass(frozen=True)
class DemoSegment:
    leg: str  # caller | agent
    start_ms: int
    end_ms: int
    text: str


def ingest_recording(
    hot: App,
    spool: Path,
    call_id: str,
    *,
    agent: str = "agent1",
    queue: str = "consultation",
    caller: str = "13812345678",
    seconds: float = 6.0,
    started_at: datetime | None = None,
    order_numbers: tuple[str, ...] = (),
    segments: tuple[DemoSegment, ...] = (),
) -> int:
    """A call's MixMonitor files (a real 8 kHz PCM WAV per leg and their mix) ingested by the recordings
    component, and its final transcript segments as asr stores them. Returns the recording id."""
    from asr.orm import TranscriptSegmentRow
    from recordings.context import recordings_context
    from recordings.ingest import ingest
    from recordings.testing import write_mixmonitor_files

    write_mixmonitor_files(spool, call_id, seconds)
    result = ingest(
        recordings_context(hot),
        call_id,
        spool,
        agent=agent,
        queue=queue,
        caller_number=caller,
        started_at=started_at or hot.clock.now() - timedelta(seconds=seconds),
        order_numbers=order_numbers,
    )
    if segments:
        with hot.session_factory() as session, session.begin():
            for seq, s in enumerate(segments):
                session.add(
                    TranscriptSegmentRow(
                        call_id=call_id,
                        leg=s.leg,
                        seq=seq,
                        start_ms=s.start_ms,
                        end_ms=s.end_ms,
                        text=s.text,
                        text_redacted=s.text,
                        is_final=True,
                        engine="test",
                        created_at=hot.clock.now(),
                    )
                )
    return result.recording_id


DEMO_SEGMENTS = (
    DemoSegment("agent", 0, 1400, "您好，12345 热线，请问有什么可以帮您？"),
    DemoSegment("caller", 1500, 3200, "我们小区楼道的灯坏了一个月了，一直没人修。"),
    DemoSegment("agent", 3300, 4600, "请问小区的具体地址是哪里？"),
    DemoSegment("caller", 4700, 5900, "美兰区海甸岛和平大道三十二号。"),
)


@contextmanager
def serving(web: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn on a free local port in a thread; yields the base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def why_no_browser() -> str | None:
    """None when Debian's Chromium and Playwright are here, else the reason a browser test must skip."""
    if not CHROMIUM.exists():
        return "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None
