"""Who may listen, and the audit of every listen.

The web desk (agent_ui) owns log-in. It tells this component who is asking in one of two ways:
``web.dependency_overrides[current_listener] = its_own_callable`` or the ``listener`` resolver of the
recordings parts (``request.app.state.recordings``). Without either, nobody is let in (401).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import column, insert, inspect, table
from sqlalchemy.orm import Session, sessionmaker

from recordings.orm import RecordingListen

LISTENING_ROLES = frozenset({"supervisor", "qa", "admin"})  # 班长, 质检员, 系统管理员
AUDIT_READER_ROLES = frozenset({"supervisor", "admin"})

# agent_ui's shared audit of personal-data views; each listen is mirrored there when the table exists
_shared_audit = table(
    "access_audit",
    column("at"),
    column("username"),
    column("role"),
    column("action"),
    column("subject"),
    column("detail"),
    column("client"),
)


@dataclass(frozen=True)
class Listener:
    name: str
    role: str


def current_listener(request: Request) -> Listener | None:
    parts = getattr(request.app.state, "recordings", None)
    resolve = getattr(parts, "listener", None)
    if callable(resolve):
        found = resolve(request)
        return found if isinstance(found, Listener) else None
    return None


def require_listener(listener: Annotated[Listener | None, Depends(current_listener)]) -> Listener:
    if listener is None:
        raise HTTPException(401, "请先登录 / please log in")
    if listener.role not in LISTENING_ROLES:
        raise HTTPException(403, "无权收听录音 / your role may not listen to recordings")
    return listener


AllowedListener = Annotated[Listener, Depends(require_listener)]


class ListenAudit:
    def __init__(self, session_factory: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self.session_factory = session_factory
        self.now = now
        self._shared: bool | None = None

    def record(
        self,
        listener: Listener,
        recording_id: int,
        action: str,
        *,
        kind: str = "",
        byte_range: str = "",
        client: str = "",
    ) -> None:
        at = self.now()
        with self.session_factory() as session, session.begin():
            session.add(
                RecordingListen(
                    recording_id=recording_id,
                    listener=listener.name,
                    role=listener.role,
                    action=action,
                    kind=kind,
                    byte_range=byte_range[:64],
                    client=client[:64],
                    at=at,
                )
            )
            if self._shared is None:
                self._shared = inspect(session.connection()).has_table("access_audit")
            if self._shared:
                session.execute(
                    insert(_shared_audit).values(
                        at=at,
                        username=listener.name,
                        role=listener.role,
                        action="view_recording",
                        subject=f"recording:{recording_id}",
                        detail=f"{action} {kind} {byte_range}".strip(),
                        client=client[:64],
                    )
                )
