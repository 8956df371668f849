"""The HTTP edge every request passes before any component sees it (plain ASGI: no extra task per request).

- ``RequestGuard``: refuses text that breaks the shared rule (``kernel.text``) in the path, the query
  string, an url-encoded form or a JSON body (400), and bodies over the size limit, counted as the bytes
  arrive rather than trusted from ``Content-Length`` (413). JSON and form bodies are read whole (they are
  small by this limit) before the application runs, so a refused body has changed nothing.
- ``SecurityHeaders``: CSP, X-Frame-Options, nosniff, Referrer-Policy, and HSTS when the site is https.
- ``SafeErrors``: an unexpected exception answers a plain 500 (zh + en, an incident id) and keeps the
  connection; the log line names the exception types and code lines only, never their messages, which
  may quote SQL parameters (a citizen's phone, name or description).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.text import BadText, strings_in, text_problem

log = logging.getLogger("hotline.edge")

API_BODY_LIMIT = 64 * 1024  # a description is at most 5000 characters
PAGE_BODY_LIMIT = 1024 * 1024
DEFAULT_LIMITS: tuple[tuple[str, int], ...] = (("/api/", API_BODY_LIMIT), ("/open311/", API_BODY_LIMIT))
DOC_PATHS = ("/docs", "/redoc")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def error_body(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": zh, "message_en": en, **extra}


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class _TooLarge(Exception):
    pass


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        limits: Sequence[tuple[str, int]] = DEFAULT_LIMITS,
        default_limit: int = PAGE_BODY_LIMIT,
    ) -> None:
        self.app = app
        self.limits = tuple(limits)
        self.default_limit = default_limit

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.limits if path.startswith(prefix)), self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _url_problem(scope)
        if problem is not None:
            await _send_json(send, 400, error_body("bad_text", problem.message_zh, problem.message_en))
            return
        limit = self.limit_for(scope["path"])
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _too_large(send, limit)
            return
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if (
            kind == b"application/json"
            or kind.endswith(b"+json")
            or kind == b"application/x-www-form-urlencoded"
        ):
            await self._buffered(scope, receive, send, limit, kind)
            return
        await self._streamed(scope, receive, send, limit)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, limit: int, kind: bytes) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _body_problem(body, kind)
        if problem is not None:
            await _send_json(send, 400, error_body("bad_text", problem.message_zh, problem.message_en))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        size = 0
        started = False

        async def counting() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise _TooLarge
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, watch)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    await _send_json(
        send,
        413,
        error_body(
            "too_large", f"请求过大（上限 {limit // 1024} KB）", f"request body over {limit // 1024} KB"
        ),
    )


def _url_problem(scope: Scope) -> BadText | None:
    problem = text_problem(scope["path"])
    if problem is not None:
        return problem
    query = scope.get("query_string", b"")
    if not query:
        return None
    # decoded as Starlette decodes it (latin-1, then percent-decoding as UTF-8)
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        problem = text_problem(key) or text_problem(value)
        if problem is not None:
            return problem
    return None


class _Unparsable(BadText):
    pass


UNPARSABLE = _Unparsable("请求内容无法解析", "the request body could not be parsed")


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python reads them, no database stores them


def _body_problem(body: bytes, kind: bytes) -> BadText | None:
    if not body:
        return None
    if kind == b"application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        return next((p for k, v in pairs if (p := text_problem(k) or text_problem(v))), None)
    try:
        document = json.loads(body, parse_constant=_not_json)
    except json.JSONDecodeError:
        return None  # the application answers malformed JSON itself (422)
    except (ValueError, RecursionError):  # integers past Python's digit limit, nesting past the stack
        return UNPARSABLE
    return next((p for s in strings_in(document) if (p := text_problem(s))), None)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool = False, open_docs: bool = False) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))
        self.open_docs = open_docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # FastAPI's own /docs page loads Swagger UI with an inline script; it is served in development only
        csp = not (self.open_docs and scope["path"].startswith(DOC_PATHS))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                if csp and b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def safe_traceback(exc: BaseException) -> str:
    """The code path of an exception and of its causes, with the types but none of the messages."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}")
        for frame in traceback.extract_tb(current.__traceback__):
            lines.append(f"  {frame.filename}:{frame.lineno} in {frame.name}")
        current = current.__cause__ or current.__context__
    return "\n".join(lines)


class SafeErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            incident = secrets.token_hex(4)
            status, body = _error_answer(exc, incident)
            # the path names the resource; the query string may hold a phone number and is left out
            log.error(
                "%s %s answered %s (incident %s)\n%s",
                scope.get("method"),
                scope.get("path"),
                status,
                incident,
                safe_traceback(exc),
            )
            if not started:
                await _send_json(send, status, body)


def _error_answer(exc: Exception, incident: str) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, DataError):  # a value the database cannot hold (out of range, malformed)
        return 400, error_body(
            "bad_value",
            "请求中的数值或文本超出允许范围",
            "a value in the request is out of range",
            id=incident,
        )
    return 500, error_body(
        "internal", f"服务器内部错误（编号 {incident}）", f"internal error (incident {incident})", id=incident
    )


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with a reason in Chinese and English; the offending input is never echoed (it may be personal
    data, and a lone surrogate in it could not even be encoded into the answer)."""
    errors: Iterable[Any] = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]
    return JSONResponse(
        status_code=422,
        content=error_body("invalid_input", "请求参数无效", "invalid request", detail=detail),
    )


REDACT_DIGITS = re.compile(r"\d{7,}")


class RedactQueryDigits(logging.Filter):
    """Access-log lines: long digit runs (phone numbers) become ``#``. Phone numbers travel in bodies, but
    an old bookmark or a careless client may still put one in a query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                REDACT_DIGITS.sub(lambda m: "#" * len(m.group()), a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def install_edge(web: FastAPI, *, https: bool, production: bool) -> None:
    """Called by the web app's composition once: the middlewares wrap every component's routes."""
    web.add_middleware(RequestGuard)
    web.add_middleware(SecurityHeaders, https=https, open_docs=not production)
    web.add_middleware(SafeErrors)  # added last: outermost, so it also sees the others' failures
    handler: Callable[[Request, Exception], Awaitable[JSONResponse]] = validation_error
    web.add_exception_handler(RequestValidationError, handler)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQueryDigits) for f in access.filters):
        access.addFilter(RedactQueryDigits())
