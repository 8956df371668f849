"""``/api/analytics/*``: KPIs, forecast, big-screen snapshot and hot events over the REST API.

Callers authenticate with the same API keys as the rest of the API; the roof passes the key check in
(``authenticate``), so analytics does not import routing's API. A department key sees its own unit only.
Bad input (reversed or future dates, unknown unit or district) is a 422 with a Chinese and an English
message, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from analytics.errors import AnalyticsError
from analytics.wiring import AnalyticsHost, AnalyticsParts, Announcer, build


class ApiPrincipal(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def unit_code(self) -> str | None: ...


Authenticate = Callable[[str], ApiPrincipal | None]
router = APIRouter(prefix="/api/analytics", tags=["analytics"])


def parts_of(request: Request) -> AnalyticsParts:
    parts: AnalyticsParts = request.app.state.analytics
    return parts


def principal(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> ApiPrincipal:
    check: Authenticate = request.app.state.analytics_authenticate
    client = check(x_api_key) if x_api_key else None
    if client is None:
        raise HTTPException(
            401,
            {
                "error": "unauthenticated",
                "message": "缺少或无效的 API 密钥（X-API-Key）",
                "message_en": "missing or invalid X-API-Key",
            },
        )
    return client


Parts = Annotated[AnalyticsParts, Depends(parts_of)]
Client = Annotated[ApiPrincipal, Depends(principal)]


@router.get("/kpis")
def kpis(
    parts: Parts,
    client: Client,
    first: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD (Haikou)")] = None,
    last: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD, included")] = None,
    by: str = "all",
    key: str | None = None,
    grain: str | None = None,
) -> Any:
    """The KPIs of docs/kpis.md for a period; with ``grain`` (day, week, month, total) a table by ``by``."""
    from analytics.kpis import breakdown
    from analytics.kpis import kpis as compute
    from analytics.periods import period

    if client.role == "department":
        by, key = "unit", client.unit_code
    if by not in ("all", "district", "unit", "category", "channel", "agent"):
        raise AnalyticsError(f"未知的统计维度 {by[:20]}", f"unknown dimension {by[:20]}")
    if grain is not None and grain not in ("day", "week", "month", "total"):
        raise AnalyticsError(f"未知的粒度 {grain[:20]}", f"unknown grain {grain[:20]}")
    now = parts.clock.now()
    p = period(first, last, now)
    with parts.session_factory() as session:
        if grain:
            from analytics.kpis import check_key

            check_key(session, by, key)  # type: ignore[arg-type]
            rows = breakdown(session, p, now, by, grain)  # type: ignore[arg-type]
            return [r for r in rows if key is None or r["key"] == key]
        return compute(session, p, now, by, key)  # type: ignore[arg-type]


@router.get("/forecast")
def forecast(parts: Parts, client: Client, days: int = 14, backtest: bool = False) -> dict[str, Any]:
    """Calls per 30 minutes, agents needed for 80 % in 15 s, the roster; ``backtest`` adds the MAPEs."""
    from analytics.planning import plan

    return plan(parts, days, with_backtest=backtest)


@router.get("/bigscreen")
def bigscreen(request: Request, parts: Parts, client: Client) -> dict[str, Any]:
    """The big screen's current snapshot (the page itself streams it over server-sent events)."""
    from analytics.bigscreen import snapshot_cache

    return snapshot_cache(request.app).get(parts)


@router.get("/hot-events")
def hot_events(parts: Parts, client: Client, state: str = "open", limit: int = 50) -> list[dict[str, Any]]:
    from analytics.hot_events import list_events

    if state not in ("open", "merged", "dismissed", "all"):
        raise AnalyticsError(
            "状态须为 open、merged、dismissed 或 all", "state must be open, merged, dismissed or all"
        )
    with parts.session_factory() as session:
        return [e.as_dict() for e in list_events(session, state, min(max(limit, 1), 500))]


async def _analytics_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AnalyticsError)
    return JSONResponse(status_code=422, content=exc.as_dict())


def install(
    web: FastAPI, host: AnalyticsHost, authenticate: Authenticate, announcer: Announcer | None = None
) -> AnalyticsParts:
    """Mount the API and keep the parts on ``web.state.analytics`` (the desk's pages read them there).
    New orders are watched for hot events by the scheduler role (``HotEventWatcher``), not here."""
    parts = build(host, announcer)
    web.state.analytics = parts
    web.state.analytics_authenticate = authenticate
    web.add_exception_handler(AnalyticsError, _analytics_error)
    web.include_router(router)
    return parts
