"""The one web application: REST API, Open311, and the web desk, built on a bootstrapped ``App``."""

from __future__ import annotations

import asyncio
import contextlib
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
        outbound = _start_outbound(hot) if telephony is not None and hot.settings.outbound_enabled else None
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
        if outbound is not None:
            outbound[0].set()
            outbound[1].cancel()
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
    """Follow Asterisk's ARI events into call records and screen pops; transfers and call-order links."""
    from telephony.secrets import load_or_create
    from telephony.wiring import start_telephony

    s = hot.settings
    if importlib.util.find_spec("telephony.monitor") is not None:
        from telephony.monitor import AriCallMonitor

        # Supervisors listen, whisper or barge through ARI snoops (the desk's call_monitor port).
        secrets = load_or_create(s.data_dir, ari_password_override=s.ari_password)
        hot.extras["call_monitor"] = AriCallMonitor(s.ari_url, s.ari_user, secrets.ari_password, s.ari_app)
    return start_telephony(hot)


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


def _start_outbound(hot: App) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """Satisfaction callbacks (回访) and callback-in-queue on the switch's outbound ARI application."""
    from routing.callback_campaign import CallbackCampaign
    from routing.callback_policy import policy_from_settings
    from telephony.outbound import AriDialer, outbound_from_settings
    from telephony.queue_callback import QueueCallbacks, QueueCallbackStore

    ari, plan = outbound_from_settings(hot.settings)
    campaign = CallbackCampaign(hot.work_orders, AriDialer(ari, plan), policy_from_settings(hot.settings))
    queue_callbacks = QueueCallbacks(ari, QueueCallbackStore(hot.write_session_factory), hot.clock, plan=plan)
    hot.extras["callback_campaign"] = campaign
    stop = asyncio.Event()

    async def run() -> None:
        with contextlib.suppress(TimeoutError):
            await ari.start()  # keeps reconnecting while the switch is down
        try:
            await asyncio.gather(campaign.run_forever(stop), queue_callbacks.run_forever(stop))
        finally:
            await ari.aclose()

    return stop, asyncio.create_task(run(), name="outbound")


def app_factory() -> FastAPI:
    """For ``uvicorn --factory hotline.web:app_factory`` (several worker processes, settings from env)."""
    from hotline.bootstrap import bootstrap

    return create_web_app(bootstrap())
