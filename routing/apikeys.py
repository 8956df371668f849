"""API keys for integrations (WeChat gateway, web form, grid-worker app, Open311 clients, department systems).

Only a SHA-256 of each key is stored: keys are long random tokens, so a slow password hash adds nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from routing.domain.errors import InvalidInput
from routing.orm import ApiClientRow, Unit

NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,48}")  # "api:" + name fits the 64-character actor columns
API_ROLES = ("integration", "agent", "supervisor", "department", "department_head", "qa", "admin")


UNIT_KEY_ROLES = ("department", "department_head")


@dataclass(frozen=True)
class ApiClient:
    name: str
    role: str
    unit_code: str | None
    channel: str | None
    phone_access: bool = False  # an integration granted citizens' full phone numbers


@dataclass(frozen=True)
class KeyInfo:
    name: str
    role: str
    unit_code: str | None
    channel: str | None
    phone_access: bool
    active: bool


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session,
    name: str,
    role: str,
    unit_code: str | None = None,
    channel: str | None = None,
    *,
    phone_access: bool = False,
) -> str:
    """A new key (shown once; only its SHA-256 is kept). A unit's key names its unit; only a unit's key
    has one; only an integration key may be granted full phone numbers (staff roles see them anyway)."""
    if not NAME_RE.fullmatch(name):
        raise InvalidInput(
            "密钥名称须为 1–48 位字母、数字、点、下划线或连字符",
            "key name: 1-48 letters, digits, '.', '_' or '-'",
        )
    if role not in API_ROLES:
        raise InvalidInput(f"未知角色 {role}", f"unknown role {role}")
    if role in UNIT_KEY_ROLES and (not unit_code or session.get(Unit, unit_code) is None):
        raise InvalidInput("部门密钥须指定存在的单位", "a department key needs an existing unit")
    if role not in UNIT_KEY_ROLES and unit_code:
        raise InvalidInput("只有部门密钥属于某个单位", "only department keys belong to a unit")
    if phone_access and role != "integration":
        raise InvalidInput("只有对接系统密钥需要单独授权完整号码", "only integration keys take a phone grant")
    if session.scalar(select(ApiClientRow.id).where(ApiClientRow.name == name)) is not None:
        raise InvalidInput(f"密钥名称 {name} 已存在", f"a key named {name} exists already")
    key = f"hk_{secrets.token_urlsafe(32)}"
    session.add(
        ApiClientRow(
            name=name,
            key_sha256=_digest(key),
            role=role,
            unit_code=unit_code,
            channel=channel,
            phone_access=phone_access,
        )
    )
    session.flush()
    return key


def list_api_keys(session: Session) -> list[KeyInfo]:
    return [
        KeyInfo(r.name, r.role, r.unit_code, r.channel, r.phone_access, r.active)
        for r in session.scalars(select(ApiClientRow).order_by(ApiClientRow.name))
    ]


def revoke_api_key(session: Session, name: str) -> bool:
    """Deactivate a key by name (kept for the audit trail). False when there is no such active key.
    Processes that cached the key stop accepting it within the cache time (30 s)."""
    row = session.scalars(select(ApiClientRow).where(ApiClientRow.name == name)).first()
    if row is None or not row.active:
        return False
    row.active = False
    _cache.clear()
    return True


_CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, ApiClient | None]] = {}


def authenticate(factory: sessionmaker[Session], key: str) -> ApiClient | None:
    """The client a key belongs to. Answers are cached for 30 s per process, so a busy integration does not
    cost a database round trip per request; a revoked key stops working within that time."""
    digest = _digest(key)
    hit = _cached(digest)
    if hit is not None:
        return hit
    now = time.monotonic()
    client = _lookup(factory, digest)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[digest] = (now, client)
    return client


def cached_client(key: str) -> ApiClient | None:
    """The client of a key known in the last 30 s, without touching the database (None: ask
    ``authenticate``). Lets the web edge answer most requests without handing them to a thread."""
    return _cached(_digest(key))


def _cached(digest: str) -> ApiClient | None:
    hit = _cache.get(digest)
    if hit is not None and time.monotonic() - hit[0] < _CACHE_SECONDS:
        return hit[1]
    return None


def _lookup(factory: sessionmaker[Session], digest: str) -> ApiClient | None:
    with factory() as session:
        row = session.scalars(
            select(ApiClientRow).where(ApiClientRow.key_sha256 == digest, ApiClientRow.active.is_(True))
        ).first()
        if row is None:
            return None
        return ApiClient(row.name, row.role, row.unit_code, row.channel, row.phone_access)
