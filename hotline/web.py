"""The one web application: REST API, Open311, and the web desk, built on a bootstrapped ``App``."""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hotline.bootstrap import App

# Components that serve pages or APIs: each module has ``install(web: FastAPI, app: App) -> None``.
WEB_COMPONENTS = (
    "routing.api",
    "routing.open311",
    "routing.kb.api",
    "routing.suggest.api",
    "telephony.api",
    "recordings.api",
    "agent_ui.app",
)


def create_web_app(
    hot: App, *, run_scheduler: bool = False, components: tuple[str, ...] = WEB_COMPONENTS
) -> FastAPI:
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_web: FastAPI) -> AsyncIterator[None]:
        thread = None
        if run_scheduler:
            thread = threading.Thread(
                target=hot.scheduler.run_forever,
                args=(stop, hot.settings.scheduler_poll_seconds),
                name="sla-scheduler",
                daemon=True,
            )
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=5)

    web = FastAPI(
        title="海口12345 热线 API / Haikou 12345 hotline API",
        version="0.1.0",
        lifespan=lifespan,
    )
    web.state.hot = hot
    for name in components:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) is None or importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).install(web, hot)
    return web


def app_factory() -> FastAPI:
    """For ``uvicorn --factory hotline.web:app_factory`` (several worker processes, settings from env)."""
    from hotline.bootstrap import bootstrap

    return create_web_app(bootstrap())
