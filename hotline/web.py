"""The one web application: REST API, Open311, knowledge base, suggestions, recordings, and the web desk.

``create_web_app(app)`` only mounts what the components offer; what runs in the background (the switch's
events, the SLA scheduler, the callback campaign) belongs to the process roles (``hotline/roles.py``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import FastAPI, Request, Response

from agent_ui import app as desk_app
from hotline.bootstrap import App
from hotline.wiring import install_analytics
from kernel.http_edge import install_edge
from kernel.metrics import exposition
from kernel.runtime import freeze_startup_heap
from recordings import api as recordings_api
from routing import api as routing_api
from routing import open311
from routing.kb import api as kb_api
from routing.suggest import api as suggest_api


def _mounts(app: App) -> dict[str, Callable[[FastAPI], None]]:
    """Each component's web part by name, with the parts it is built on."""
    return {
        "routing.api": lambda web: routing_api.install(web, app.routing),
        "routing.open311": lambda web: open311.install(web, app.routing),
        "routing.kb.api": lambda web: kb_api.install(web, app.routing),
        "routing.suggest.api": lambda web: suggest_api.install(web, app.routing),
        "recordings.api": lambda web: recordings_api.install(web, app.recordings),
        "agent_ui.app": lambda web: desk_app.install(web, app.desk),
        "analytics.api": lambda web: install_analytics(web, app),
    }


WEB_COMPONENTS = (
    "routing.api",
    "routing.open311",
    "routing.kb.api",
    "routing.suggest.api",
    "recordings.api",
    "agent_ui.app",
    "analytics.api",
)


def create_web_app(app: App, *, components: tuple[str, ...] = WEB_COMPONENTS) -> FastAPI:
    mounts = _mounts(app)
    unknown = [name for name in components if name not in mounts]
    if unknown:
        raise ValueError(f"no web component named {', '.join(unknown)} (known: {', '.join(mounts)})")
    production = app.settings.environment == "production"
    web = FastAPI(
        title="海口12345 热线 API / Haikou 12345 hotline API",
        version="0.1.0",
        docs_url=None if production else "/docs",  # the interactive docs and schema are closed in production
        redoc_url=None if production else "/redoc",
        openapi_url=None if production else "/openapi.json",
    )
    install_edge(web, https=app.settings.https, production=production)
    web.state.hot = app  # the roof's own handle (tests, the roles); components read their own parts
    web.state.routing = app.routing
    web.state.recordings = app.recordings
    for name in components:
        mounts[name](web)
    if {"routing.api", "agent_ui.app"} <= set(components):
        # Full phone numbers read through the API land in the desk's access audit, beside the pages' own.
        routing_api.use_contact_audit(web, app.desk.users.record_phone_views)
    _metrics_route(web, app)
    return web


LOOPBACK = {"127.0.0.1", "::1", "testclient"}


def _metrics_route(web: FastAPI, app: App) -> None:
    """Prometheus scrapes ``/metrics`` from loopback, or with ``HOTLINE_METRICS_TOKEN`` as a bearer token."""
    token = app.settings.metrics_token

    @web.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        client = request.client.host if request.client else ""
        if not (token and secrets.compare_digest(given, token)) and client not in LOOPBACK:
            return Response("forbidden", status_code=403, media_type="text/plain")
        return Response(exposition(), media_type="text/plain; version=0.0.4")


def app_factory() -> FastAPI:
    """For ``uvicorn --factory hotline.web:app_factory`` (settings from the environment)."""
    from hotline.bootstrap import bootstrap

    web = create_web_app(bootstrap())
    freeze_startup_heap()
    return web
