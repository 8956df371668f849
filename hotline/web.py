"""The one web application: REST API, Open311, and the web desk, built on a bootstrapped ``App``."""

from __future__ import annotations

import asyncio
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
        ingestor = None
        if hot.settings.telephony_enabled and "recordings.api" in installed:
            from recordings.wiring import install_ingest_on_call_end

            # Subscribed before the ARI follower can publish CallEnded: every ended call is ingested.
            ingestor = install_ingest_on_call_end(hot)
        telephony = _start_telephony(hot) if hot.settings.telephony_enabled else None
        if telephony is not None:
            _start_live_calls(hot)
        recordings_jobs = None
        if run_scheduler and "recordings.api" in installed:
            from recordings.jobs import daily_recordings_jobs

            # Sweep, compress and apply retention once a day (one process of several claims the day).
            recordings_jobs = asyncio.create_task(daily_recordings_jobs(hot), name="recordings-jobs")
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
        if recordings_jobs is not None:
            recordings_jobs.cancel()
        if telephony is not None:
            telephony.cancel()
        if ingestor is not None:
            ingestor.close()
        if thread is not None:
            thread.join(timeout=5)

    web = FastAPI(
        title="海口12345 热线 API / Haikou 12345 hotline API",
        version="0.1.0",
        lifespan=lifespan,
    )
    web.state.hot = hot
    installed = []
    for name in components:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) is None or importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).install(web, hot)
        installed.append(name)
    if {"agent_ui.app", "recordings.api"} <= set(installed):
        _listeners_are_desk_users(hot)
    return web


def _listeners_are_desk_users(hot: App) -> None:
    """The recordings API asks who is listening; the answer is the web desk's logged-in user."""
    from fastapi import Request

    from agent_ui.deps import optional_user
    from recordings.access import LISTENER_RESOLVER, Listener

    def resolve(request: Request) -> Listener | None:
        user = optional_user(request)
        return Listener(user.username, user.role.value) if user is not None else None

    hot.extras[LISTENER_RESOLVER] = resolve


def _start_telephony(hot: App) -> asyncio.Task[None]:
    """Follow Asterisk's ARI events into call records and screen pops (reconnects on its own)."""
    from telephony.ari import AriClient, AriEndpoint
    from telephony.records import CallRecorder
    from telephony.secrets import load_or_create
    from telephony.service import TelephonyService

    s = hot.settings
    secrets = load_or_create(s.data_dir, ari_password_override=s.ari_password)
    client = AriClient(AriEndpoint(s.ari_url, s.ari_user, secrets.ari_password, s.ari_app))
    if importlib.util.find_spec("telephony.monitor") is not None:
        from telephony.monitor import AriCallMonitor

        # Supervisors listen, whisper or barge through ARI snoops (the desk's call_monitor port).
        hot.extras["call_monitor"] = AriCallMonitor(s.ari_url, s.ari_user, secrets.ari_password, s.ari_app)
    service = TelephonyService(client, CallRecorder(hot.session_factory, hot.bus))
    return asyncio.create_task(service.run(), name="telephony")


def _start_live_calls(hot: App) -> None:
    """Screen pops, live transcripts and suggestions of answered calls reach the agent's desk."""
    from hotline.live_calls import start_live_calls

    if importlib.util.find_spec("agent_ui") is None:
        return
    start_live_calls(hot, asyncio.get_running_loop())
    holder = hot.extras.get("suggestions")
    get = getattr(holder, "get", None)
    if callable(get):  # load the classifier now, not on the first caller's first sentence
        threading.Thread(target=get, name="suggestions-preload", daemon=True).start()


def app_factory() -> FastAPI:
    """For ``uvicorn --factory hotline.web:app_factory`` (several worker processes, settings from env)."""
    from hotline.bootstrap import bootstrap

    return create_web_app(bootstrap())
