"""Helpers for tests and demonstrations: a web app with only the desk installed, log-in, demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from agent_ui.app import install
from agent_ui.parts import DeskParts
from agent_ui.security import use_fast_hashing_for_tests
from agent_ui.users import NewAccount, UserService, create_demo_accounts

TEST_PASSWORD = "test-password-123"  # noqa: S105 - test accounts only
DEMO_UNIT = "city.housing"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_web(hot: DeskParts) -> FastAPI:
    """The desk alone on a FastAPI app (hotline.web.create_web_app adds the other components' APIs)."""
    web = FastAPI()
    web.state.hot = hot
    install(web, hot)
    return web


def demo_accounts(hot: DeskParts, unit_code: str = DEMO_UNIT) -> list[NewAccount]:
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


def wait_js(page: Any, expression: str, *, timeout_s: float = 15.0) -> Any:
    """Wait until a JavaScript expression is truthy in the page. Playwright's ``wait_for_function`` polls
    with a string the page's Content-Security-Policy refuses to evaluate (no 'unsafe-eval'); ``evaluate``
    runs through the debugging protocol, which the policy does not govern, so the pages keep their CSP."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        page.wait_for_timeout(50)
