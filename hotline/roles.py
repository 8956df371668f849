"""Process roles: what one process of the hotline runs. ``hotline run ROLE [ROLE ...]`` or ``hotline run all``.

- ``web``        the web desk, REST API and Open311 (any number of processes, behind a load balancer);
- ``telephony``  follows the switch over ARI: call records, screen pops, transfers, live transcription taps
                 and suggestions, recordings on call end (one active per switch: a lease, standbys wait);
- ``campaign``   the outbound application: satisfaction callbacks, callback-in-queue (one per switch);
- ``scheduler``  SLA deadlines (any number on PostgreSQL), the daily recordings job, the outbox sweep;
- ``ivr``        the FastAGI IVR server Asterisk calls (any number);
- ``asr``        speech-recognition workers (any number, on any machine).

``all`` runs every role in one process (``make run``: SQLite, the in-process bus). Roles in several
processes need PostgreSQL and the broker (``HOTLINE_BROKER_URL``); a role started without what it needs
refuses to start with one line naming what is missing (:class:`RoleRefused`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import typer

from hotline.bootstrap import App
from kernel.broker import NatsBridge
from kernel.lease import Lease
from kernel.runtime import freeze_startup_heap

if TYPE_CHECKING:
    from fastapi import FastAPI

    from analytics.wiring import AnalyticsParts

log = logging.getLogger(__name__)

ROLES = ("web", "telephony", "campaign", "scheduler", "ivr", "asr")
SWITCH_ROLES = ("telephony", "campaign", "ivr", "asr")


class RoleRefused(Exception):
    """A role cannot start here; the message is the one line that says why."""


def roles_for(names: Sequence[str], *, telephony: bool) -> list[str]:
    """The roles named (``all``: every role, those that need a switch only when telephony is enabled)."""
    if "all" in names:
        return [r for r in ROLES if telephony or r not in SWITCH_ROLES]
    unknown = [n for n in names if n not in ROLES]
    if unknown:
        raise RoleRefused(f"unknown role {', '.join(unknown)} (roles: {', '.join(ROLES)}, all)")
    return list(dict.fromkeys(names))


def check_requirements(app: App, roles: Sequence[str], *, alone: bool) -> None:
    """Refuse what cannot work. ``alone``: the other roles run in other processes."""
    s = app.settings
    if alone and not s.broker_url:
        raise RoleRefused(
            f"role {'+'.join(roles)} runs beside other processes, so it needs the broker: "
            "set HOTLINE_BROKER_URL (e.g. nats://127.0.0.1:4222), or run `hotline run all`"
        )
    if alone and s.is_sqlite and list(roles) != ["asr"]:  # a worker keeps nothing in the database
        raise RoleRefused(
            "several processes need PostgreSQL (HOTLINE_DATABASE_URL); SQLite serves one process only"
        )
    if "asr" in roles and s.asr_enabled:
        from asr.profiles import ProfileRefused, choose_profile

        try:  # names the model and the language when the call language's profile cannot start
            choose_profile(s)
        except ProfileRefused as exc:
            raise RoleRefused(str(exc)) from exc
    needs_switch = [r for r in roles if r in ("telephony", "campaign")]
    if needs_switch and not s.telephony_enabled:
        raise RoleRefused(
            f"role {'+'.join(needs_switch)} needs a switch: set HOTLINE_TELEPHONY_ENABLED=true and "
            f"HOTLINE_ARI_URL (now {s.ari_url})"
        )


# ---- the roles ------------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def _leased(app: App, name: str, stop: asyncio.Event) -> AsyncIterator[Lease]:
    """Hold the role's lease while the role runs; losing it (the database connection broke) stops the
    process, since another may hold it by then."""
    lease = Lease(app.engine, name)
    await lease.acquire()
    watch = asyncio.create_task(lease.watch(), name=f"lease-{name}")
    watch.add_done_callback(lambda _t: stop.set() if lease.lost.is_set() else None)
    try:
        yield lease
    finally:
        watch.cancel()
        await asyncio.to_thread(lease.release)


@contextlib.asynccontextmanager
async def telephony_role(app: App, stop: asyncio.Event) -> AsyncIterator[None]:
    from hotline.live_calls import LiveAssist
    from hotline.wiring import live_assist, recordings_on_call_end, telephony_parts

    async with _leased(app, "telephony", stop):
        parts = telephony_parts(app)
        loop = asyncio.get_running_loop()
        app.desk.call_control = parts.desk_telephony(loop)
        ingestor = recordings_on_call_end(app)
        assist: LiveAssist = live_assist(app, loop)
        coordinator = assist.coordinator
        watch = asyncio.create_task(coordinator.run(stop), name="asr-coordinator") if coordinator else None
        service = asyncio.create_task(parts.service().run(), name="telephony")
        try:
            yield
        finally:
            service.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await service
            await parts.client.aclose()
            if coordinator is not None and watch is not None:
                stop.set()
                await _finish(watch)
                await coordinator.tap.aclose()
            ingestor.close()
            app.recordings.ingestor = None


@contextlib.asynccontextmanager
async def campaign_role(app: App, stop: asyncio.Event) -> AsyncIterator[None]:
    from hotline.campaign import serve_outbound

    async with _leased(app, "campaign", stop):
        task = asyncio.create_task(serve_outbound(app, stop), name="campaign")
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def scheduler_role(app: App, stop: asyncio.Event) -> AsyncIterator[None]:
    from analytics.jobs import run_jobs
    from hotline.wiring import analytics_parts
    from recordings.jobs import daily_recordings_jobs

    halt = threading.Event()
    thread = threading.Thread(
        target=app.scheduler.run_forever,
        args=(halt, app.settings.scheduler_poll_seconds),
        name="sla-scheduler",
        daemon=True,
    )
    thread.start()
    # Sweep, compress and apply retention once a day (one process of several claims the day).
    jobs = asyncio.create_task(daily_recordings_jobs(app.recordings), name="recordings-jobs")
    # The KPI roll-up, scheduled reports and playbook windows (each report written once, whoever runs it).
    parts = analytics_parts(app)
    analytics = asyncio.create_task(run_jobs(parts, stop), name="analytics-jobs")
    # Hot events around new orders: one scheduler process watches (its lease), off the intakes' path.
    hot_events = asyncio.create_task(_watch_hot_events(app, parts, stop, halt), name="hot-events")
    try:
        yield
    finally:
        halt.set()
        jobs.cancel()
        analytics.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(hot_events, 5)
        await asyncio.to_thread(thread.join, 5)


async def _watch_hot_events(
    app: App, parts: AnalyticsParts, stop: asyncio.Event, halt: threading.Event
) -> None:
    from analytics.hot_events import HotEventWatcher

    watcher = HotEventWatcher(parts).install()
    lease = Lease(app.engine, "hot-events")
    acquired = asyncio.create_task(lease.acquire(announce=False))
    halted = asyncio.create_task(asyncio.to_thread(halt.wait))
    await asyncio.wait({acquired, halted}, return_when="FIRST_COMPLETED")
    if not acquired.done():
        acquired.cancel()
        return
    halted.cancel()
    try:
        await asyncio.to_thread(watcher.run, halt)
    finally:
        await asyncio.to_thread(lease.release)


@contextlib.asynccontextmanager
async def ivr_role(app: App, stop: asyncio.Event) -> AsyncIterator[None]:
    from hotline.wiring import ivr_services
    from ivr.fastagi import start_server

    s = app.settings
    handle = start_server(s.fastagi_host, s.fastagi_port, services=ivr_services(app))
    log.info("FastAGI IVR on %s:%d", handle.host, handle.port)
    try:
        yield
    finally:
        await asyncio.to_thread(handle.stop)


@contextlib.asynccontextmanager
async def asr_role(app: App, stop: asyncio.Event) -> AsyncIterator[None]:
    """One ASR worker: loads the recognizers, announces itself, transcribes the calls it is handed."""
    from hotline.wiring import asr_worker

    if not app.settings.asr_enabled:
        yield
        return
    try:
        worker = await asyncio.to_thread(asr_worker, app)
    except Exception as exc:  # no model here: the desks say that no transcript is available
        log.warning("ASR worker not started: %s", exc)
        yield
        return
    task = asyncio.create_task(worker.run(stop), name="asr-worker")
    try:
        yield
    finally:
        stop.set()
        await _finish(task)


RoleStarter = Callable[[App, asyncio.Event], contextlib.AbstractAsyncContextManager[None]]
STARTERS: dict[str, RoleStarter] = {
    "telephony": telephony_role,
    "campaign": campaign_role,
    "scheduler": scheduler_role,
    "ivr": ivr_role,
    "asr": asr_role,
}


# ---- running them ---------------------------------------------------------------------------------------
def web_app(app: App) -> FastAPI:
    """The web role's application: the components' routes and this process's live desk picture."""
    from hotline.live_calls import DeskProjection
    from hotline.web import create_web_app
    from hotline.wiring import desk_switch_ports

    DeskProjection(app.desk.feed).install(app.bus)
    desk_switch_ports(app)
    return create_web_app(app)


async def _outbox_flusher(app: App, stop: asyncio.Event) -> None:
    """Mark published outbox rows (batched) and publish what a dead process left unsent."""
    beats = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        try:
            await asyncio.to_thread(app.outbox.mark)
            beats += 1
            if beats % 20 == 0:
                await asyncio.to_thread(app.outbox.sweep)
        except Exception:
            log.exception("outbox upkeep failed; retrying")


async def run_roles(app: App, roles: Sequence[str], *, host: str, port: int) -> None:
    """Run the roles in this process until SIGINT/SIGTERM (or a lost lease), then stop them all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        if app.settings.broker_url:
            bridge = NatsBridge(app.bus, app.settings.broker_url, namespace=app.settings.broker_namespace)
            await bridge.start()
            stack.push_async_callback(bridge.stop)
        if app.settings.metrics_port and "web" not in roles:
            from prometheus_client import start_http_server

            from kernel.metrics import REGISTRY

            start_http_server(app.settings.metrics_port, addr="127.0.0.1", registry=REGISTRY)
        if list(roles) != ["asr"]:  # a worker writes no outbox rows
            flusher = asyncio.create_task(_outbox_flusher(app, stop), name="outbox")
            stack.push_async_callback(_finish, flusher)
        for role in roles:
            if role != "web":
                await stack.enter_async_context(STARTERS[role](app, stop))
                log.info("role %s started", role)
        if "web" in roles:
            await _serve_web(app, host, port, stop)
        else:
            await stop.wait()
        stop.set()
    log.info("stopped: %s", ", ".join(roles))


async def _finish(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, 5)


async def _serve_web(app: App, host: str, port: int, stop: asyncio.Event) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the roles handle SIGINT/SIGTERM: every role stops, not only the web server

    web = web_app(app)
    freeze_startup_heap()
    server = Server(uvicorn.Config(web, host=host, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve(), name="web")
    log.info("web desk on http://%s:%d/", host, port)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when="FIRST_COMPLETED")
    stopping.cancel()
    server.should_exit = True
    await serving


def run_from_cli(ctx: typer.Context, names: Sequence[str], *, alone: bool | None = None) -> None:
    """``hotline run ...`` and the older commands that are roles (``serve``, ``scheduler``, ``callbacks run``)."""
    from kernel.cli import parts

    app = parts(ctx, App)
    try:
        roles = roles_for(names, telephony=app.settings.telephony_enabled)
        check_requirements(app, roles, alone=alone if alone is not None else "all" not in names)
    except RoleRefused as exc:
        typer.echo(f"hotline run: {exc}", err=True)
        raise typer.Exit(2) from exc
    s = app.settings
    asyncio.run(run_roles(app, roles, host=s.http_host, port=s.http_port))
