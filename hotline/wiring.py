"""How the roles connect the components to each other (composition only; each piece is one component's)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from asr.events import CallTranscriptClosed
from hotline.bootstrap import App

if TYPE_CHECKING:
    from analytics.wiring import AnalyticsParts
    from asr.worker import AsrWorker
from hotline.live_calls import LiveAssist
from ivr.orders import order_number_from_keys
from ivr.service import IvrServices
from recordings.call_end import CallEndIngestor, start_ingest
from recordings.call_end_terms import IngestRules
from routing.domain.errors import NotFound
from routing.domain.events import WorkOrderAccepted
from routing.repository import WorkOrderRepository
from telephony import parts as telephony
from telephony.events import CallEnded

log = logging.getLogger(__name__)


def telephony_parts(app: App) -> telephony.TelephonyParts:
    """The process's telephony parts (built once), and the calls an order names linked on intake."""
    if app.telephony is None:
        app.telephony = telephony.build(app.core, calendar=app.routing.calendar)
        app.bus.subscribe(WorkOrderAccepted, app.telephony.link_orders_on_intake())
    return app.telephony


def desk_switch_ports(app: App) -> None:
    """Where this process can reach the switch: agents' queue states and live monitoring for the desk."""
    if not app.settings.telephony_enabled:
        return
    parts = telephony_parts(app)
    app.desk.agent_switch = parts.agent_desk
    app.desk.call_monitor = parts.call_monitor


def recordings_on_call_end(
    app: App, monitor_dir: Path | None = None, *, rules: IngestRules | None = None, sweep_now: bool = True
) -> CallEndIngestor:
    """Every ended call's recording is ingested; its transcript is linked when ASR closes it."""
    ingestor = start_ingest(app.recordings, monitor_dir, rules=rules, sweep_now=sweep_now)
    app.bus.subscribe(CallEnded, ingestor.on_call_ended)
    app.bus.subscribe(CallTranscriptClosed, ingestor.on_transcript_closed)
    return ingestor


def live_assist(app: App, loop: asyncio.AbstractEventLoop) -> LiveAssist:
    """Suggestions of answered calls, and the coordinator that hands each call to an ASR worker, in the
    process that follows the switch (it loads no speech model: workers do, ``asr_worker``)."""
    from agent_ui.wiring import category_ids
    from routing.assist.service import Assistant

    coordinator = None
    if app.settings.asr_enabled:
        from asr.ari_tap import AriTap
        from asr.coordinator import TapCoordinator
        from asr.transcripts import SqlSegmentStore

        endpoint = telephony_parts(app).endpoint
        tap = AriTap(endpoint.base_url, endpoint.user, endpoint.password, endpoint.app)
        # The one writer of transcript segments: what any worker hears is stored here, once.
        store = SqlSegmentStore(app.session_factory)
        lapse = app.settings.asr_worker_lapse_seconds
        coordinator = TapCoordinator(app.bus, tap, loop, store=store, lapse_s=lapse).install()
    assist = LiveAssist(
        bus=app.bus,
        loop=loop,
        coordinator=coordinator,
        suggestions=app.routing.suggestions,
        category_ids=category_ids(app.desk),
        assist=Assistant(),  # the order form fills itself from the citizen's finals
    ).install(app.bus)
    # Load the classifier now, not on the first caller's first sentence.
    threading.Thread(target=app.routing.suggestions.get, name="suggestions-preload", daemon=True).start()
    return assist


def asr_worker(app: App) -> AsrWorker:
    """An ASR worker from settings: the recognizers (``asr.service.build_service``), where the switch sends
    its RTP, its capacity. It stores nothing; its segments reach the coordinator over the bus."""
    from asr.service import NullSegmentStore, build_service
    from asr.worker import AsrWorker

    s = app.settings
    service = build_service(
        app.core, store=NullSegmentStore(), host=s.asr_rtp_bind or s.asr_rtp_host, announce_closed=False
    )
    worker = AsrWorker(
        service,
        app.bus,
        worker_id=s.asr_worker_id or None,
        host=s.asr_rtp_host,
        capacity=s.asr_worker_capacity,
    )
    return worker.install()


class RoutingOrderLookup:
    """The IVR's "query my work order" port over routing's repository (read without locking the row)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def status(self, number: str) -> str | None:
        with self.session_factory() as session:
            try:
                order = WorkOrderRepository(session).get(order_number_from_keys(number), for_update=False)
            except NotFound:
                return None
            return str(order.state)


def ivr_services(app: App) -> IvrServices:
    return IvrServices.from_core(app.core, app.routing.calendar, RoutingOrderLookup(app.session_factory))


def analytics_announcer(app: App) -> Callable[[str, Any], None]:
    """Playbooks put their announcement on the line through the IVR's operator file (analytics never
    imports the IVR)."""
    from analytics.wiring import Announcement
    from ivr import announcements as ivr_file

    path = ivr_file.default_announcements_path(app.settings.data_dir)

    def announce(ident: str, ann: Announcement | None) -> None:
        if ann is None:
            ivr_file.remove_announcement(path, ident)
            return
        text = {"zh": ann.text_zh, "en": ann.text_en}
        item = ivr_file.Announcement(
            id=ident, starts_at=ann.starts_at, ends_at=ann.ends_at, text=text, detail=text, on_press=None
        )
        ivr_file.upsert_announcement(path, item)

    return announce


def analytics_parts(app: App) -> AnalyticsParts:
    from analytics.wiring import build

    return build(app, analytics_announcer(app))


def install_analytics(web: FastAPI, app: App) -> None:
    """KPIs, the big screen, hot events, forecasts and playbooks; API keys checked by routing's key store."""
    from analytics.api import install
    from routing.apikeys import authenticate

    install(web, app, lambda key: authenticate(app.session_factory, key), announcer=analytics_announcer(app))
