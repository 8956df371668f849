"""What every API route depends on: the application, a database session, the calling API key and its role.

Callers authenticate with an API key (``X-API-Key``); each key carries a role, and a department key its
unit, exactly like a person in the web desk. Domain errors map to HTTP here and nowhere else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from routing.apikeys import ApiClient, authenticate
from routing.domain.errors import Conflict, DomainError, Forbidden, IllegalTransition, InvalidInput, NotFound
from routing.domain.model import Actor
from routing.parts import RoutingParts

MAX_BODY_BYTES = 64 * 1024
STATUS_OF = {InvalidInput: 422, IllegalTransition: 409, Conflict: 409, NotFound: 404, Forbidden: 403}


def domain_error_response(exc: DomainError) -> JSONResponse:
    status = next((code for cls, code in STATUS_OF.items() if isinstance(exc, cls)), 400)
    return JSONResponse(
        status_code=status,
        content={
            "error": exc.code,
            "message": exc.message_zh,
            "message_en": exc.message_en,
            "details": {k: v for k, v in exc.details.items() if isinstance(v, str | int | list)},
        },
    )


class BodyLimit:
    """Refuse oversized API bodies before parsing them (a description is at most 5000 characters).
    Plain ASGI: a BaseHTTPMiddleware would cost every request an extra task and stream copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(("/api/", "/open311/")):
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                response = JSONResponse(
                    status_code=413,
                    content={
                        "error": "too_large",
                        "message": f"请求过大（上限 {MAX_BODY_BYTES // 1024} KB）",
                        "message_en": f"request body over {MAX_BODY_BYTES // 1024} KB",
                    },
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ---- dependencies ------------------------------------------------------------------------------------
def get_hot(request: Request) -> RoutingParts:
    hot: RoutingParts = request.app.state.routing
    return hot


HotDep = Annotated[RoutingParts, Depends(get_hot)]


def get_session(hot: HotDep) -> Any:
    with hot.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_client(hot: HotDep, x_api_key: Annotated[str | None, Header()] = None) -> ApiClient:
    if not x_api_key:
        raise HTTPException(
            401,
            {
                "error": "unauthenticated",
                "message": "缺少 API 密钥（X-API-Key）",
                "message_en": "missing X-API-Key",
            },
        )
    client = authenticate(hot.session_factory, x_api_key)
    if client is None:
        raise HTTPException(
            401, {"error": "unauthenticated", "message": "API 密钥无效", "message_en": "invalid API key"}
        )
    return client


ClientDep = Annotated[ApiClient, Depends(current_client)]


def require(client: ApiClient, *roles: str) -> Actor:
    if client.role not in roles:
        raise Forbidden(f"角色 {client.role} 无权执行此操作", f"role {client.role} may not do this")
    return Actor(f"api:{client.name}", client.role, client.unit_code)


def unit_of(client: ApiClient, unit_code: str | None) -> str:
    """A department key acts for its own unit only; supervisors may name any unit."""
    if client.role == "department":
        if unit_code and unit_code != client.unit_code:
            raise Forbidden("部门只能处理本单位的工单", "a department acts for its own unit only")
        return client.unit_code or ""
    if not unit_code:
        raise InvalidInput("须指定单位 unit_code", "unit_code is required")
    return unit_code
