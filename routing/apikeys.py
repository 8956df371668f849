"""API keys for integrations (WeChat gateway, web form, grid-worker app, Open311 clients, department systems).

Only a SHA-256 of each key is stored: keys are long random tokens, so a slow password hash adds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from routing.domain.errors import InvalidInput
from routing.orm import ApiClientRow, Unit

API_ROLES = ("integration", "agent", "supervisor", "department", "department_head", "qa", "admin")


@dataclass(frozen=True)
class ApiClient:
    name: str
    role: str
    unit_code: str | None
    channel: str | None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session, name: str, role: str, unit_code: str | None = None, channel: str | None = None
) -> str:
    if role not in API_ROLES:
        raise InvalidInput(f"未知角色 {role}", f"unknown role {role}")
    if role in ("department", "department_head") and (not unit_code or session.get(Unit, unit_code) is None):
        raise InvalidInput("部门密钥须指定存在的单位", "a department key needs an existing unit")
    key = f"hk_{secrets.token_urlsafe(32)}"
    session.add(
        ApiClientRow(name=name, key_sha256=_digest(key), role=role, unit_code=unit_code, channel=channel)
    )
    session.flush()
    return key


_CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, ApiClient | None]] = {}


def authenticate(factory: sessionmaker[Session], key: str) -> ApiClient | None:
    """The client a key belongs to. Answers are cached for 30 s per process, so a busy integration does not
    cost a database round trip per request; a revoked key stops working within that time."""
    digest = _digest(key)
    hit = _cache.get(digest)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _CACHE_SECONDS and hit[1] is not None:
        return hit[1]
    client = _lookup(factory, digest)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[digest] = (now, client)
    return client


def _lookup(factory: sessionmaker[Session], digest: str) -> ApiClient | None:
    with factory() as session:
        row = session.scalars(
            select(ApiClientRow).where(ApiClientRow.key_sha256 == digest, ApiClientRow.active.is_(True))
        ).first()
        if row is None:
            return None
        return ApiClient(row.name, row.role, row.unit_code, row.channel)
