"""Log-in, log-out, the language switch and the home redirect."""

from __future__ import annotations

import logging
from subprocess import SubprocessError
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from agent_ui.deps import LOGIN_CSRF_COOKIE, CsrfChecked, Lang, MaybeUser, Users, get_codec, get_hot
from agent_ui.i18n import translator
from agent_ui.rendering import render
from agent_ui.roles import HOME_PAGE, Role
from agent_ui.security import SESSION_COOKIE, SESSION_MAX_AGE, SessionData, fingerprint, new_csrf
from kernel.text import text_problem

log = logging.getLogger(__name__)
router = APIRouter()


def _safe_next(value: str | None) -> str | None:
    # Only paths on this site: no "//host" or "http://" redirects after log-in.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def _secure(request: Request) -> bool:
    """Secure cookies whenever the site is https: directly, or behind a TLS proxy (HOTLINE_PUBLIC_URL)."""
    return request.url.scheme == "https" or get_hot(request).settings.https


@router.get("/")
def home(user: MaybeUser) -> RedirectResponse:
    target = HOME_PAGE[Role(user.role)] if user else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login")
def login_page(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next) or HOME_PAGE[user.role], status_code=303)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_csrf()
    response = render(request, "login.html", {"next": _safe_next(next), "csrf_token": token})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request))
    return response


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    users: Users,
    lang: Lang,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    t = translator(lang)
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = t("err.required")
    if not password:
        errors["password"] = t("err.required")
    for field, value in (("username", username), ("password", password)):
        problem = text_problem(value)
        if problem is not None:
            errors[field] = problem.message_en if lang == "en" else problem.message_zh
    if errors:
        return render(
            request,
            "login.html",
            {"errors": errors, "values": {"username": username}, "next": next},
            status_code=422,
        )
    client = request.client.host if request.client else ""
    result = users.authenticate(username.strip(), password, client)
    if result.user is None:
        if result.reason == "locked" and result.locked_until:
            tz = ZoneInfo(get_hot(request).settings.timezone)
            message = t("login.locked", until=result.locked_until.astimezone(tz).strftime("%H:%M"))
        elif result.reason == "inactive":
            message = t("login.inactive")
        else:
            message = t("login.bad")
        return render(
            request,
            "login.html",
            {"error": message, "values": {"username": username}, "next": next},
            status_code=401 if result.reason != "locked" else 429,
        )
    user = result.user
    session = SessionData(user.id, new_csrf(), fingerprint(user.password_hash), user.session_generation)
    response = RedirectResponse(_safe_next(next) or HOME_PAGE[Role(user.role)], status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        get_codec(request).dumps(session),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, user: MaybeUser, users: Users) -> RedirectResponse:
    """Ends the session on the server too: a copy of the cookie is refused from now on. An agent who logs
    out also leaves the queues (签出): a paused member who went home would still count as staffing the queue,
    so callers would wait for nobody instead of being offered a callback."""
    if user is not None:
        users.end_sessions(user.id)
        _sign_out_of_queues(request, user.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _sign_out_of_queues(request: Request, username: str) -> None:
    hot = get_hot(request)
    feed = request.app.state.ui_feed
    switch = hot.agent_switch
    if switch is not None and switch.has_account(username):
        try:
            switch.logout(username, hot.clock.now())
        except (ValueError, RuntimeError, SubprocessError, OSError):  # the switch is down or hung
            log.warning("the switch did not take a desk logout; the agent stays a queue member until it does")
            return
    if username in feed.agents:
        feed.set_status(username, "offline")
