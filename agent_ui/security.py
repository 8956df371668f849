"""Passwords (argon2id), the signed session cookie and CSRF tokens.

argon2-cffi's PasswordHasher is memory-hard (argon2id, RFC 9106 defaults). The session is a signed,
time-stamped value (itsdangerous) in an HttpOnly, SameSite=Lax cookie (Secure when the site is https); it
holds the user id, a per-session CSRF token, the password-hash fingerprint (a password reset ends every old
session) and the account's session generation, which log-out raises on the server, so a cookie copied
before log-out is worthless after it. CSRF is session-bound: every POST form carries the token, compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "hotline_session"
SESSION_MAX_AGE = 12 * 3600  # one long shift
LOCKOUT_ATTEMPTS = 5
LOCKOUT_MINUTES = 15
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def use_fast_hashing_for_tests() -> None:
    """Tests only: cheap argon2 parameters (each hash stores its own, so verification is unchanged)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify() -> None:
    """Spend the time of one verification so an unknown user name cannot be told from a wrong password."""
    verify_password(_DUMMY_HASH, "not-the-password")


_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


def new_password() -> str:
    return secrets.token_urlsafe(12)


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SessionData:
    user_id: int
    csrf: str
    pw: str  # fingerprint of the password hash at log-in
    gen: int = 0  # the account's session generation at log-in; log-out raises it


class SessionCodec:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="hotline.session")

    def dumps(self, data: SessionData) -> str:
        return self._serializer.dumps({"u": data.user_id, "c": data.csrf, "p": data.pw, "g": data.gen})

    def loads(self, value: str) -> SessionData | None:
        try:
            raw = self._serializer.loads(value, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        try:
            return SessionData(int(raw["u"]), str(raw["c"]), str(raw["p"]), int(raw.get("g", 0)))
        except (KeyError, TypeError, ValueError):
            return None


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
