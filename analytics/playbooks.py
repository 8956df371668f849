"""Event playbooks (预案): a named event (the gaokao, a typhoon) with its window, the issues prepared for it
(the articles: eight typical gaokao problems, e.g. a lost admission ticket), an IVR announcement, pinned
knowledge-base articles and dispatch shortcuts. A supervisor switches one on (the announcement goes on the
line through the roof's announcer) and off; its KPIs are reported for its window afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.errors import AnalyticsError
from analytics.kpis import kpis
from analytics.orm import PlaybookRow
from analytics.periods import HAIKOU, Period, local_today
from analytics.wiring import AnalyticsParts, Announcement
from routing.views import order_briefs


@dataclass(frozen=True)
class Playbook:
    id: int
    code: str
    name: str
    name_en: str
    starts_at: datetime
    ends_at: datetime
    issues: list[dict[str, Any]]
    keywords: list[str]
    announcement_zh: str
    announcement_en: str
    kb_keys: list[str]
    shortcuts: list[dict[str, Any]]
    active: bool
    activated_by: str | None
    activated_at: datetime | None


def _playbook(r: PlaybookRow) -> Playbook:
    return Playbook(
        r.id, r.code, r.name, r.name_en, r.starts_at, r.ends_at, list(r.issues), list(r.keywords),
        r.announcement_zh, r.announcement_en, list(r.kb_keys), list(r.shortcuts), r.active,
        r.activated_by, r.activated_at,
    )  # fmt: skip


def seed_playbooks(session: Session, now: datetime, path: Path | None = None) -> int:
    """Load the packaged playbooks (analytics/data/playbooks.yaml) that are not there yet; windows are the
    next occurrence of each event relative to ``now`` when the file gives month/day only."""
    path = path or Path(str(resources.files("analytics") / "data" / "playbooks.yaml"))
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    added = 0
    for item in raw.get("playbooks", []):
        if session.scalar(select(PlaybookRow.id).where(PlaybookRow.code == item["code"])):
            continue
        year = local_today(now).year
        start = datetime.fromisoformat(f"{year}-{item['starts']}").replace(tzinfo=HAIKOU)
        if start + timedelta(days=int(item["days"])) < now:
            start = start.replace(year=year + 1)
        session.add(
            PlaybookRow(
                code=item["code"],
                name=item["name"],
                name_en=item.get("name_en", ""),
                starts_at=start,
                ends_at=start + timedelta(days=int(item["days"])),
                issues=item.get("issues", []),
                keywords=item.get("keywords", []),
                announcement_zh=item.get("announcement_zh", ""),
                announcement_en=item.get("announcement_en", ""),
                kb_keys=item.get("kb_keys", []),
                shortcuts=item.get("shortcuts", []),
                active=False,
            )
        )
        added += 1
    return added


def list_playbooks(session: Session) -> list[Playbook]:
    return [_playbook(r) for r in session.scalars(select(PlaybookRow).order_by(PlaybookRow.starts_at))]


def active_playbook(session: Session) -> Playbook | None:
    row = session.scalars(select(PlaybookRow).where(PlaybookRow.active.is_(True))).first()
    return _playbook(row) if row else None


def switch(parts: AnalyticsParts, code: str, on: bool, by: str) -> Playbook:
    """Switch a playbook on (one at a time) or off; its IVR announcement follows."""
    now = parts.clock.now()
    with parts.write_session_factory() as session, session.begin():
        row = session.scalars(select(PlaybookRow).where(PlaybookRow.code == code)).first()
        if row is None:
            raise AnalyticsError(f"预案不存在：{code[:48]}", f"no playbook {code[:48]}")
        if on:
            for other in session.scalars(select(PlaybookRow).where(PlaybookRow.active.is_(True))):
                if other.id != row.id:
                    raise AnalyticsError(
                        f"预案「{other.name}」正在启用，请先关闭",
                        f"playbook {other.code} is on; switch it off first",
                    )
            row.active, row.activated_by, row.activated_at = True, by, now
        else:
            row.active, row.deactivated_by, row.deactivated_at = False, by, now
        playbook = _playbook(row)
    if parts.announcer is not None and playbook.announcement_zh:
        ident = f"playbook-{playbook.code}"
        if on:
            ends = max(playbook.ends_at, now + timedelta(hours=1))
            parts.announcer(
                ident, Announcement(ident, playbook.announcement_zh, playbook.announcement_en, now, ends)
            )
        else:
            parts.announcer(ident, None)
    return playbook


def report(parts: AnalyticsParts, code: str) -> dict[str, Any]:
    """The playbook's KPIs over its window, and how many orders matched each prepared issue."""
    now = parts.clock.now()
    with parts.session_factory() as session:
        row = session.scalars(select(PlaybookRow).where(PlaybookRow.code == code)).first()
        if row is None:
            raise AnalyticsError(f"预案不存在：{code[:48]}", f"no playbook {code[:48]}")
        start = min(row.starts_at, now)
        end = min(row.ends_at, now)
        first, last = local_today(start), local_today(end)
        figures = kpis(session, Period(first, last), now)
        counts = {issue["name"]: 0 for issue in row.issues}
        for order in order_briefs(session, start, end, limit=200_000):
            for issue in row.issues:
                if any(word in order.description for word in issue.get("keywords", [])):
                    counts[issue["name"]] += 1
    return {
        "code": code,
        "window": {"from": first.isoformat(), "to": last.isoformat()},
        "kpis": figures,
        "issues": counts,
    }
