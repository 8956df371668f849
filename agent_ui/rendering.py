"""Jinja2 templates with the helpers every page uses (language, user, CSRF, times in Haikou, masking)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from agent_ui.deps import CSRF_FIELD, get_hot, get_lang, optional_user
from agent_ui.i18n import LANG_COOKIE, normalize_lang, outcome_label, pair, state_label, translator
from agent_ui.roles import HOME_PAGE, Role, role_label
from routing.commands import mask_phone

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

# (path, catalogue key, roles that see the entry)
NAV = (
    ("/desk", "nav.desk", {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}),
    ("/dept/inbox", "nav.inbox", {Role.DEPT_HANDLER, Role.DEPT_HEAD}),
    ("/supervisor/wallboard", "nav.wallboard", {Role.SUPERVISOR, Role.ADMIN}),
    ("/bigscreen", "nav.bigscreen", {Role.SUPERVISOR, Role.ADMIN}),
    ("/analytics", "nav.analytics", {Role.SUPERVISOR, Role.ADMIN}),
    ("/supervisor/rulings", "nav.rulings", {Role.SUPERVISOR, Role.ADMIN}),
    ("/supervisor/negotiations", "nav.negotiations", {Role.SUPERVISOR, Role.ADMIN}),
    ("/supervisor/callbacks", "nav.missed", {Role.SUPERVISOR, Role.ADMIN}),
    ("/qa/callbacks", "nav.callbacks", {Role.AGENT, Role.QA, Role.SUPERVISOR, Role.ADMIN}),
    ("/qa/reviews", "nav.reviews", {Role.QA, Role.SUPERVISOR, Role.ADMIN}),
    ("/qa/scorecards", "nav.scorecards", {Role.QA, Role.SUPERVISOR, Role.ADMIN}),
    ("/recordings", "nav.recordings", {Role.SUPERVISOR, Role.QA, Role.ADMIN}),
    ("/supervisor/monitor", "nav.monitor", {Role.SUPERVISOR, Role.ADMIN}),
    ("/admin/users", "nav.users", {Role.ADMIN}),
    ("/admin/audit", "nav.audit", {Role.ADMIN}),
)


def marked(text: str, words: Iterable[str]) -> Markup:
    """The text, HTML-escaped, with each of the words wrapped in <mark> (longest first, case-insensitive)."""
    ordered = sorted({w for w in words if w and w.strip()}, key=len, reverse=True)
    if not ordered:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in ordered), re.IGNORECASE)
    out: list[Markup] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(Markup("<mark>{}</mark>").format(m.group(0)))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    lang = get_lang(request)
    user = optional_user(request)
    hot = get_hot(request)
    tz = ZoneInfo(hot.settings.timezone)
    now = hot.clock.now()

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else "—"

    def remaining(due: datetime | None) -> str:
        if due is None:
            return "—"
        seconds = int((due - now).total_seconds())
        sign = "-" if seconds < 0 else ""
        seconds = abs(seconds)
        hours, rest = divmod(seconds, 3600)
        if hours >= 48:
            return f"{sign}{hours // 24}d {hours % 24}h"
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"

    ctx: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "html_lang": "en" if lang == "en" else "zh-CN",
        "t": translator(lang),
        "tr": pair(lang),
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": user.csrf if user else request.cookies.get("hotline_login_csrf", ""),
        "nav": [(p, k) for p, k, roles in NAV if user and user.role in roles],
        "home": HOME_PAGE.get(user.role, "/") if user else "/login",
        "role_label": lambda r: role_label(r, lang),
        "state_label": lambda s: state_label(s, lang),
        "outcome_label": lambda o: outcome_label(o, lang),
        "local": local,
        "remaining": remaining,
        "now": now,
        "now_iso": now.isoformat(),
        "mask": mask_phone,
        "mmss": lambda ms: f"{int(ms) // 60000:02d}:{int(ms) // 1000 % 60:02d}",
        "marked": marked,
        "site_name": hot.settings.site_name,
        "path": request.url.path,
        "errors": {},
        "values": {},
    }
    ctx.update(context or {})
    response = TEMPLATES.TemplateResponse(request, name, ctx, status_code=status_code)
    chosen = normalize_lang(request.query_params.get("lang"))
    if chosen:  # ?lang=en once: the choice sticks for the following pages
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response
