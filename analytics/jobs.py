"""Analytics' periodic work, run by the roof in the process that runs the scheduler: the KPI roll-up of the
last two days, the scheduled reports, and the packaged playbooks on first start."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from analytics.playbooks import seed_playbooks
from analytics.reports import run_due
from analytics.rollup import refresh
from analytics.wiring import AnalyticsParts

log = logging.getLogger(__name__)


def run_once(parts: AnalyticsParts) -> None:
    with parts.write_session_factory() as session, session.begin():
        seed_playbooks(session, parts.clock.now())
    refresh(parts, 2)
    for path in run_due(parts):
        log.info("report written: %s", path.name)


async def run_jobs(parts: AnalyticsParts, stop: asyncio.Event, every_seconds: float = 600.0) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(run_once, parts)
        except Exception:
            log.exception("analytics jobs failed; retrying at the next round")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)
