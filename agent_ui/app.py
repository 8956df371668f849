"""The web desk: ``install(web, hot)`` adds its pages, static files and error pages to the one web app."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from agent_ui.deps import CsrfFailed, NotAllowed, NotAuthenticated, get_lang
from agent_ui.i18n import translator
from agent_ui.live import DeskFeed
from agent_ui.rendering import render
from agent_ui.routes import admin, auth, dept, desk, orders, qa, recordings, supervisor
from agent_ui.security import SessionCodec
from agent_ui.users import UserService
from hotline.bootstrap import App

STATIC_DIR = Path(__file__).parent / "static"
SSE_LIFETIME_SECONDS = 300.0  # the browser's EventSource reconnects by itself after a stream ends


def desk_feed(hot: App) -> DeskFeed:
    """The live desk picture, one per application (the composition root wires telephony/ASR into it)."""
    feed = hot.extras.get("desk_feed")
    if not isinstance(feed, DeskFeed):
        feed = DeskFeed(hot.bus, hot.clock)
        hot.extras["desk_feed"] = feed
    return feed


def install(web: FastAPI, hot: App) -> None:
    web.state.hot = hot
    web.state.ui_users = UserService(hot.session_factory, hot.clock)
    web.state.ui_codec = SessionCodec(hot.settings.secret_key)
    web.state.ui_feed = desk_feed(hot)
    web.state.ui_sse_lifetime = SSE_LIFETIME_SECONDS
    web.mount("/ui-static", StaticFiles(directory=STATIC_DIR), name="ui_static")
    for module in (auth, desk, dept, supervisor, qa, orders, recordings, admin):
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
