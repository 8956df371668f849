"""Migratory birds (候鸟): compounds whose callers come from other provinces in winter, and their water and
power start/stop requests (报开 / 报停), with a forecast per compound so the water and power companies can
prepare, as the Haikou articles describe.

A caller's home province comes from the mobile number's prefix (offline, analytics.phones). The compound
is read from the order's address. Per compound and ISO week: the share of callers from outside Hainan and
the number of start/stop requests. The forecast for the coming weeks is the last four weeks' mean scaled
by the trend of the season (the ratio of the last four weeks to the four before), explainable and cautious.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from analytics.periods import HAIKOU
from analytics.phones import is_out_of_province
from analytics.wiring import AnalyticsParts
from routing.views import PlaceWords, caller_orders, place_words

COMPOUND = re.compile(r"([\u4e00-\u9fa5]{2,8}(?:小区|花园|家园|公寓|名苑|新村|国际|海岸|水韵|湾|苑))")
DISTRICT_WORDS = ("海口市", "秀英区", "龙华区", "琼山区", "美兰区")


def compound_of(location: str, places: PlaceWords) -> str | None:
    """The residential compound in an address: what is left once the city, district, street and road
    names (routing's place words) are taken out, up to its 小区/花园/公寓… ending."""
    rest = location.strip()
    for word in DISTRICT_WORDS:
        rest = rest.replace(word, "")
    for word, _code in places.places:
        if len(word) >= 2 and word in rest:
            rest = rest.replace(word, "", 1)
    found = COMPOUND.search(rest)
    return found.group(1) if found else None


START_STOP = ("报开", "报停", "恢复供水", "开通用电", "暂停用水", "停用水电", "报停水电")
MIN_CALLERS = 8


@dataclass
class CompoundSeason:
    compound: str
    district: str | None
    weeks: dict[str, list[int]] = field(
        default_factory=dict
    )  # ISO week -> [callers, out of province, start/stop]

    def share(self, week: str) -> float | None:
        callers, out, _ = self.weeks.get(week, [0, 0, 0])
        return out / callers if callers else None

    def as_dict(self, weeks: list[str], ahead: int = 4) -> dict[str, Any]:
        requests = [self.weeks.get(w, [0, 0, 0])[2] for w in weeks]
        shares = [self.share(w) for w in weeks]
        recent, before = requests[-4:], requests[-8:-4]
        trend = (sum(recent) + 1) / (sum(before) + 1) if before else 1.0
        base = statistics.mean(recent) if recent else 0.0
        forecast = [round(base * min(trend, 3.0) ** ((k + 1) / 4), 1) for k in range(ahead)]
        known = [s for s in shares if s is not None]
        return {
            "compound": self.compound,
            "district": self.district,
            "weeks": weeks,
            "out_of_province_share": shares,
            "start_stop_requests": requests,
            "share_rise": round(known[-1] - known[0], 3) if len(known) >= 2 else None,
            "forecast_start_stop_per_week": forecast,
        }


def week_of(at: datetime) -> str:
    year, week, _ = at.astimezone(HAIKOU).isocalendar()
    return f"{year}-W{week:02d}"


def analyse(parts: AnalyticsParts, weeks: int = 12, top: int = 10) -> dict[str, Any]:
    """Compounds ranked by the rise of their out-of-province share, with start/stop requests and forecast."""
    now = parts.clock.now()
    since = now - timedelta(weeks=weeks)
    seasons: dict[str, CompoundSeason] = {}
    with parts.session_factory() as session:
        places = place_words(session)
        for order in caller_orders(session, since, now):
            name = compound_of(order.location_text, places)
            if not name:
                continue
            season = seasons.setdefault(name, CompoundSeason(name, order.district))
            cell = season.weeks.setdefault(week_of(order.accepted_at), [0, 0, 0])
            outside = is_out_of_province(order.phone)
            if outside is not None:
                cell[0] += 1
                cell[1] += int(outside)
            if any(word in order.description for word in START_STOP):
                cell[2] += 1
    all_weeks = sorted({w for s in seasons.values() for w in s.weeks})
    ranked = [s for s in seasons.values() if sum(c[0] for c in s.weeks.values()) >= MIN_CALLERS]
    rows = [s.as_dict(all_weeks) for s in ranked]
    rows.sort(key=lambda r: (-(r["share_rise"] or 0), -sum(r["start_stop_requests"])))
    city: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in seasons.values():
        for w, (callers, out, _) in s.weeks.items():
            city[w][0] += callers
            city[w][1] += out
    return {
        "generated_at": now.astimezone(HAIKOU).isoformat(timespec="seconds"),
        "weeks": all_weeks,
        "city_out_of_province_share": [city[w][1] / city[w][0] if city[w][0] else None for w in all_weeks],
        "compounds": rows[:top],
    }


def season_start(day: date) -> date:
    """The first day of the current winter season (October 1st), for reports."""
    year = day.year if day.month >= 10 else day.year - 1
    return date(year, 10, 1)
