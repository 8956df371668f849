"""Missed-call callbacks (漏接电话回拨, 国办函〔2025〕66号) for supervisors: every call the hotline missed in a
period, the callback it is owed, each call made and how it ended, the share called back in time; as a page and
as JSON (same data). Phone numbers are shown in full to supervisors, and each view is audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from agent_ui.deps import Hot, Lang, SupervisorUser, Users
from agent_ui.parts import DeskParts
from agent_ui.ports import CallbackReports
from agent_ui.rendering import render

router = APIRouter()
MAX_DAYS = 31


class PeriodError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _reports(hot: DeskParts) -> CallbackReports | None:
    return hot.callback_reports


def period(timezone: str, now: datetime, day: str, days: str) -> tuple[datetime, datetime]:
    """``day`` (YYYY-MM-DD, Haikou time; today by default) and the ``days`` before it, up to a month."""
    tz = ZoneInfo(timezone)
    try:
        last = date.fromisoformat(day) if day else now.astimezone(tz).date()
    except ValueError as exc:
        raise PeriodError("日期格式应为 YYYY-MM-DD", "the day is YYYY-MM-DD") from exc
    count = int(days) if days.isdigit() else 0 if days else 1
    if not 1 <= count <= MAX_DAYS:
        raise PeriodError(f"天数应为 1–{MAX_DAYS}", f"days is 1–{MAX_DAYS}")
    until = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return until - timedelta(days=count), until


def _report(request: Request, hot: DeskParts, user: Any, users: Any, day: str, days: str) -> dict[str, Any]:
    reports = _reports(hot)
    since, until = period(hot.settings.timezone, hot.clock.now(), day, days)
    if reports is None:
        return {"connected": False, "since": since, "until": until, "summary": {}, "callbacks": []}
    client = request.client.host if request.client else ""
    users.audit(user.username, user.role.value, "view_missed_callbacks", f"{since:%Y-%m-%d}..{until:%Y-%m-%d}",
                "phone numbers shown", client)  # fmt: skip
    return {"connected": True, **reports.report(since, until)}


@router.get("/supervisor/callbacks")
def callbacks_page(
    request: Request, user: SupervisorUser, hot: Hot, users: Users, lang: Lang, day: str = "", days: str = ""
) -> Response:
    try:
        data = _report(request, hot, user, users, day, days)
    except PeriodError as exc:
        message = exc.en if lang == "en" else exc.zh
        return render(request, "error.html", {"title": "400", "message": message}, status_code=400)
    return render(request, "supervisor_callbacks.html", {"data": data, "day": day, "days": days or "1"})


@router.get("/supervisor/callbacks.json")
def callbacks_json(
    request: Request, user: SupervisorUser, hot: Hot, users: Users, day: str = "", days: str = ""
) -> Response:
    try:
        data = _report(request, hot, user, users, day, days)
    except PeriodError as exc:
        return JSONResponse({"error": {"zh": exc.zh, "en": exc.en}}, status_code=400)
    return JSONResponse(jsonable_encoder(data))
