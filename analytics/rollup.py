"""Refreshing the daily KPI roll-up: after the demo generator, from the CLI and from the daily job."""

from __future__ import annotations

from datetime import date, timedelta

from analytics.kpis import refresh_rollup
from analytics.periods import local_today
from analytics.wiring import AnalyticsParts
from routing.views import first_order_at
from telephony.views import first_call_at


def refresh(parts: AnalyticsParts, days: int | None = 7) -> int:
    """Recompute the last ``days`` closed days (``None``: every day since the first order or call)."""
    now = parts.clock.now()
    last = local_today(now) - timedelta(days=1)
    if days is None:
        with parts.session_factory() as session:
            starts = [t for t in (first_order_at(session), first_call_at(session)) if t is not None]
        if not starts:
            return 0
        first: date = local_today(min(starts))
    else:
        first = last - timedelta(days=max(1, days) - 1)
    written = 0
    day = first
    while day <= last:  # a month per transaction keeps each one short
        end = min(last, day + timedelta(days=30))
        with parts.write_session_factory() as session, session.begin():
            written += refresh_rollup(session, day, end, now)
        day = end + timedelta(days=1)
    return written
