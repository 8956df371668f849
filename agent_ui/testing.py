"""Helpers for tests and demonstrations: a web app with only the desk installed, log-in, demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator
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
