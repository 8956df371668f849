"""The web desk: ``install(web, parts)`` adds its pages, static files and error pages to the one web app."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from agent_ui.deps import CsrfFailed, NotAllowed, NotAuthenticated, get_lang
from agent_ui.i18n import translator
from agent_ui.parts import DeskParts
from agent_ui.rendering import render
from agent_ui.routes import (
    admin,
    analytics_pages,
    auth,
    bigscreen,
    callbacks,
    dept,
    desk,
    emergency,
    missed_calls,
    orders,
    qa,
    recordings,
    rules,
    supervisor,
)

STATIC_DIR = Path(__file__).parent / "static"


def install(web: FastAPI, hot: DeskParts) -> None:
    web.state.desk = hot
    web.state.ui_users = hot.users
    web.state.ui_codec = hot.codec
    web.state.ui_feed = hot.feed
    web.state.ui_sse_lifetime = hot.sse_lifetime
    web.mount("/ui-static", StaticFiles(directory=STATIC_DIR), name="ui_static")
    for module in (
        auth,
        desk,
        emergency,
        dept,
        supervisor,
        missed_calls,
        rules,
        qa,
        callbacks,
        orders,
        recordings,
        admin,
        bigscreen,
        analytics_pages,
    ):
        web.include_router(module.router, include_in_schema=False)
    web.add_exception_handler(NotAuthenticated, _to_login)
    web.add_exception_handler(NotAllowed, _forbidden)
    web.add_exception_handler(CsrfFailed, _csrf_failed)


async def _to_login(request: Request, _exc: Exception) -> Response:
    if request.method == "GET" and "hx-request" not in request.headers:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    return Response("not signed in", status_code=401)


async def _forbidden(request: Request, _exc: Exception) -> Response:
    t = translator(get_lang(request))
    return render(request, "error.html", {"title": "403", "message": t("err.forbidden")}, status_code=403)


async def _csrf_failed(request: Request, _exc: Exception) -> Response:
    t = translator(get_lang(request))
    return render(request, "error.html", {"title": "403", "message": t("err.csrf")}, status_code=403)
