"""The big screen's picture (大屏): one JSON snapshot, computed at most every two seconds however many
screens watch, from the views of routing and telephony and analytics' own tables.

Everything "today" is counted live; the 30-day trend comes from the daily roll-up. No personal data: order
numbers, places, units and counts only.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from analytics.hot_events import list_events
from analytics.kpis import facts, kpi_values
from analytics.orm import PlaybookRow
from analytics.periods import HAIKOU, Period, local_midnight, local_today
from analytics.wiring import AnalyticsParts
from kernel.sqltime import day_of
from routing.views import (
    accepted_per_bucket,
    backlog_by_unit,
    count_by,
    order_facts_accepted,
    recent_hotline_alarms,
)
from telephony.views import live_calls

TTL_SECONDS = 2.0
DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")


def snapshot(parts: AnalyticsParts) -> dict[str, Any]:
    now = parts.clock.now()
    today = local_today(now)
    start = local_midnight(today)
    with parts.session_factory() as session:
        live = live_calls(session, now)
        # One pass over the 30 days (rolled-up days from the table, today counted live) serves the trend and
        # today's figures alike.
        today_index = Period(today, today).day_indexes.start
        month = Period(today - timedelta(days=29), today)
        totals: Counter[str] = Counter()
        trend: dict[str, Counter[str]] = {}
        for (d, _key), counts in facts(session, month, now, "all").items():
            trend.setdefault(day_of(d).isoformat(), Counter()).update(counts)
            if d == today_index:
                totals.update(counts)
        k = kpi_values(totals)
        hourly_today = accepted_per_bucket(session, start, now + timedelta(seconds=1), 3600)
        hourly_yesterday = accepted_per_bucket(session, start - timedelta(days=1), start, 3600)
        week = order_facts_accepted(
            session, start - timedelta(days=6), now + timedelta(seconds=1), "district"
        )
        today_by_district = order_facts_accepted(session, start, now + timedelta(seconds=1), "district")
        categories = count_by(session, "category", start, now + timedelta(seconds=1), 8)
        backlog = backlog_by_unit(session, now)[:10]
        alarms = recent_hotline_alarms(session, now - timedelta(hours=24), 12)
        events = list_events(session, "open", 6)
        playbook = session.scalars(select(PlaybookRow).where(PlaybookRow.active.is_(True))).first()
    first_hour = (int(start.timestamp()) + 8 * 3600) // 3600  # local hour buckets (UTC+8)
    return {
        "at": now.astimezone(HAIKOU).isoformat(timespec="seconds"),
        "live": {
            "waiting": live.waiting,
            "in_talk": live.in_talk,
            "longest_wait_s": live.longest_wait_seconds,
        },
        "today": {
            key: k[key]
            for key in (
                "calls_offered",
                "calls_answered",
                "calls_abandoned",
                "answered_within_15s_rate",
                "connection_rate",
                "average_speed_of_answer_s",
                "orders_accepted",
                "orders_urgent",
                "on_time_response_rate",
                "satisfaction_rate",
            )
        },
        "trend": [
            {
                "day": d,
                "calls": c["calls_offered"],
                "orders": c["orders_accepted"],
                "service_level": kpi_values(c)["answered_within_15s_rate"],
            }
            for d, c in sorted(trend.items())
        ],
        "hourly": [
            {
                "hour": h,
                "today": hourly_today.get(first_hour + h, 0),
                "yesterday": hourly_yesterday.get(first_hour - 24 + h, 0),
            }
            for h in range(24)
        ],
        "districts": [
            {"name": d, "today": today_by_district.get(d, 0), "week": week.get(d, 0)} for d in DISTRICTS
        ],
        "categories": [{"name": name or "未分类", "orders": n} for name, n in categories],
        "overdue_units": [
            {
                "unit": u.unit_name,
                "code": u.unit_code,
                "open": u.open_orders,
                "response_overdue": u.response_overdue,
                "resolution_overdue": u.resolution_overdue,
            }
            for u in backlog
            if u.response_overdue or u.resolution_overdue
        ],
        "alarms": [
            {
                "order": a.order_number,
                "kind": a.kind,
                "level": a.level,
                "message": a.message_zh,
                "message_en": a.message_en,
                "time": a.raised_at.astimezone(HAIKOU).strftime("%H:%M"),
            }
            for a in alarms
        ],
        "hot_events": [
            {"id": e.id, "place": e.place, "summary": e.summary, "size": e.size, "since": _hm(e.window_start)}
            for e in events
        ],
        "playbook": {"code": playbook.code, "name": playbook.name, "name_en": playbook.name_en}
        if playbook
        else None,
    }


def _hm(at: datetime) -> str:
    return at.astimezone(HAIKOU).strftime("%m-%d %H:%M")


class SnapshotCache:
    """One snapshot shared by every screen and stream, recomputed when older than :data:`TTL_SECONDS`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._at = 0.0

    def get(self, parts: AnalyticsParts) -> dict[str, Any]:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > TTL_SECONDS:
                self._value = snapshot(parts)
                self._at = time.monotonic()
            return self._value


def snapshot_cache(app: Any) -> SnapshotCache:
    cache = getattr(app.state, "analytics_snapshots", None)
    if not isinstance(cache, SnapshotCache):
        cache = SnapshotCache()
        app.state.analytics_snapshots = cache
    return cache
