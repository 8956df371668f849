"""Accounts: creation, log-in with lock-out, password reset, the demo accounts, and the access audit."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate

from agent_ui.orm import AccessAudit, LoginThrottle, User
from agent_ui.roles import UNIT_ROLES, Role
from agent_ui.security import (
    LOCKOUT_ATTEMPTS,
    LOCKOUT_MINUTES,
    MIN_PASSWORD_LENGTH,
    dummy_verify,
    hash_password,
    new_password,
    verify_password,
)
from kernel.clock import Clock
from routing.orm import Unit

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
THROTTLE_KEEP = timedelta(days=1)  # counters of names that are not accounts are forgotten after a day
_USERS: Table = User.__table__  # type: ignore[assignment]
_THROTTLE: Table = LoginThrottle.__table__  # type: ignore[assignment]


class AccountError(ValueError):
    """A bad account request; ``field`` names the form field it belongs to."""

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    reason: str = ""  # "", "bad_credentials", "locked", "inactive"
    locked_until: datetime | None = None


@dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    role: str
    unit_code: str | None
    password: str


def validate_account(
    session: Session, username: str, display_name: str, role: str, unit_code: str | None, password: str
) -> None:
    if not USERNAME_RE.match(username):
        raise AccountError(
            "username",
            "用户名须为 3–32 位小写字母、数字、点、下划线或连字符",
            "user name: 3–32 lower-case letters, digits, '.', '_' or '-'",
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("username", "用户名已存在", "this user name is taken")
    if not display_name.strip() or len(display_name) > 64:
        raise AccountError(
            "display_name", "请填写姓名（最多 64 字）", "enter a display name (64 characters at most)"
        )
    if role not in {r.value for r in Role}:
        raise AccountError("role", "角色无效", "unknown role")
    if Role(role) in UNIT_ROLES:
        if not unit_code:
            raise AccountError("unit_code", "承办单位角色须指定所属单位", "department roles need a unit")
        if session.get(Unit, unit_code) is None:
            raise AccountError("unit_code", f"单位 {unit_code} 不存在", f"unknown unit {unit_code}")
    elif unit_code:
        raise AccountError(
            "unit_code", "只有承办单位角色属于某个单位", "only department roles belong to a unit"
        )
    check_password_strength(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password",
            f"密码至少 {MIN_PASSWORD_LENGTH} 位",
            f"password: {MIN_PASSWORD_LENGTH} characters at least",
        )


SESSION_CACHE_SECONDS = 1.0  # see UserService.for_session


class UserService:
    def __init__(
        self, session_factory: sessionmaker[Session], clock: Clock, *, allow_demo_password: bool = False
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        # The documented demo password logs in only in development, whatever accounts were made with it.
        self.allow_demo_password = allow_demo_password
        self._session_cache: dict[int, tuple[float, User | None]] = {}
        self._cache_lock = threading.Lock()

    def create(
        self,
        username: str,
        display_name: str,
        role: str,
        unit_code: str | None = None,
        password: str | None = None,
    ) -> NewAccount:
        password = password or new_password()
        unit_code = unit_code or None
        with self.session_factory() as session, session.begin():
            validate_account(session, username, display_name, role, unit_code, password)
            session.add(
                User(
                    username=username,
                    display_name=display_name.strip(),
                    role=role,
                    unit_code=unit_code,
                    password_hash=hash_password(password),
                    failed_attempts=0,
                    active=True,
                    created_at=self.clock.now(),
                )
            )
        return NewAccount(username, display_name, role, unit_code, password)

    def get(self, user_id: int) -> User | None:
        with self.session_factory() as session:
            return session.get(User, user_id)

    def for_session(self, user_id: int) -> User | None:
        """The account behind a session cookie, read at most once a second per process: when a web process
        comes back from a restart, its desks reconnect all at once and would otherwise each open a database
        connection. A log-out or password reset in this process takes effect at once (the cache is
        dropped); in another web process within ``SESSION_CACHE_SECONDS``."""
        now = time.monotonic()
        with self._cache_lock:
            hit = self._session_cache.get(user_id)
            if hit is not None and now - hit[0] < SESSION_CACHE_SECONDS:
                return hit[1]
        row = self.get(user_id)  # detached, its columns loaded
        with self._cache_lock:
            if len(self._session_cache) > 10_000:
                self._session_cache.clear()
            self._session_cache[user_id] = (now, row)
        return row

    def forget_sessions(self) -> None:
        with self._cache_lock:
            self._session_cache.clear()

    def by_name(self, username: str) -> User | None:
        with self.session_factory() as session:
            return session.scalar(select(User).where(User.username == username))

    def all(self) -> list[User]:
        with self.session_factory() as session:
            return list(session.scalars(select(User).order_by(User.role, User.username)))

    def authenticate(self, username: str, password: str, client: str = "") -> LoginResult:
        """Check a log-in. Five failures in a row lock the name for fifteen minutes.

        Each attempt is counted (one atomic UPDATE … RETURNING) before the password is checked, so twelve
        guesses sent at once are numbered 1 to 12 and only the first five are ever tested. Names that are
        not accounts are counted the same way in ``ui_login_throttle``: a wrong name and a wrong password
        get the same answers in the same order."""
        now = self.clock.now()
        name = username[:64]
        with self.session_factory() as session, session.begin():
            user_row = session.execute(_count_attempt(_USERS, _USERS.c.username == name, now)).first()
            if user_row is None:
                session.execute(_ensure_throttle_row(session, name, now))
                counted = session.execute(_count_attempt(_THROTTLE, _THROTTLE.c.username == name, now)).one()
                session.execute(delete(_THROTTLE).where(_THROTTLE.c.updated_at < now - THROTTLE_KEEP))
            else:
                counted = user_row
        table, key = (
            (_USERS, _USERS.c.username == name)
            if user_row is not None
            else (_THROTTLE, _THROTTLE.c.username == name)
        )
        role = user_row.role if user_row is not None else ""
        attempt, locked_until = int(counted.failed_attempts), counted.locked_until
        if locked_until is not None and locked_until > now:
            self.audit(name, role, "login_locked", name, "", client)
            return LoginResult(None, "locked", locked_until)
        if attempt > LOCKOUT_ATTEMPTS:  # guesses raced past the budget: lock, and test no password
            until = self._lock(table, key, now)
            self.audit(name, role, "login_locked", name, f"attempt {attempt}", client)
            return LoginResult(None, "locked", until)
        if user_row is None:
            dummy_verify()
            ok, why = False, "unknown user"
        else:
            ok, why = verify_password(user_row.password_hash, password), ""
            if ok and password == DEV_DEMO_PASSWORD and not self.allow_demo_password:
                ok, why = False, "development demo password refused"
        if ok and user_row is not None:
            if not user_row.active:
                self.audit(name, role, "login_inactive", name, "", client)
                return LoginResult(None, "inactive")
            return LoginResult(self._logged_in(user_row.id, name, role, now, client))
        detail = "; ".join(p for p in (why, f"attempt {attempt}") if p)
        if attempt >= LOCKOUT_ATTEMPTS:
            until = self._lock(table, key, now)
            self.audit(name, role, "login_failed", name, detail + "; locked", client)
            return LoginResult(None, "locked", until)
        self.audit(name, role, "login_failed", name, detail, client)
        return LoginResult(None, "bad_credentials")

    def _lock(self, table: Table, key: ColumnElement[bool], now: datetime) -> datetime:
        until = now + timedelta(minutes=LOCKOUT_MINUTES)
        with self.session_factory() as session, session.begin():
            row = session.execute(
                update(table)
                .where(key)
                .values(
                    failed_attempts=0,
                    locked_until=case(
                        (
                            and_(table.c.locked_until.is_not(None), table.c.locked_until > now),
                            table.c.locked_until,
                        ),
                        else_=until,
                    ),
                )
                .returning(table.c.locked_until)
            ).first()
        return row.locked_until if row is not None and row.locked_until is not None else until

    def _logged_in(self, user_id: int, name: str, role: str, now: datetime, client: str) -> User:
        with self.session_factory() as session, session.begin():
            user = session.get(User, user_id)
            assert user is not None
            user.failed_attempts = 0
            user.locked_until = None
            user.last_login_at = now
            _audit(session, now, name, role, "login", name, "", client)
            session.flush()
            session.expunge(user)
            return user

    def end_sessions(self, user_id: int) -> None:
        """Log-out: every session cookie this account holds stops working (server-side revocation)."""
        self.forget_sessions()
        with self.session_factory() as session, session.begin():
            session.execute(
                update(_USERS)
                .where(_USERS.c.id == user_id)
                .values(session_generation=_USERS.c.session_generation + 1)
            )

    def record_phone_views(
        self, who: str, role: str, order_numbers: Sequence[str], how: str, client: str
    ) -> None:
        """The access audit of full phone numbers shown outside the desk (the REST API): one row each."""
        now = self.clock.now()
        with self.session_factory() as session, session.begin():
            for number in order_numbers:
                _audit(session, now, who, role, "view_phone", number, how, client)

    def reset_password(self, username: str, password: str | None = None, by: str = "admin") -> str:
        password = password or new_password()
        check_password_strength(password)
        with self.session_factory() as session, session.begin():
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise AccountError("username", "用户不存在", "no such user")
            user.password_hash = hash_password(password)
            user.failed_attempts = 0
            user.locked_until = None
            user.session_generation += 1
            _audit(session, self.clock.now(), by, "admin", "password_reset", username, "", "")
        self.forget_sessions()
        return password

    def audit(
        self, username: str, role: str, action: str, subject: str, detail: str = "", client: str = ""
    ) -> None:
        with self.session_factory() as session, session.begin():
            _audit(session, self.clock.now(), username, role, action, subject, detail, client)

    def audit_log(self, limit: int = 200) -> list[AccessAudit]:
        with self.session_factory() as session:
            return list(session.scalars(select(AccessAudit).order_by(AccessAudit.id.desc()).limit(limit)))


def _audit(
    session: Session,
    now: datetime,
    username: str,
    role: str,
    action: str,
    subject: str,
    detail: str,
    client: str,
) -> None:
    session.add(
        AccessAudit(
            at=now,
            username=username,
            role=role,
            action=action,
            subject=subject,
            detail=detail,
            client=client[:64],
        )
    )


def _count_attempt(table: Table, key: ColumnElement[bool], now: datetime) -> ReturningUpdate[Any]:
    """Number this attempt: +1, or 1 again once an earlier lock has run out. Returns the new count and any
    lock still in force, atomically (the row is locked by the UPDATE on PostgreSQL; SQLite has one writer)."""
    expired = and_(table.c.locked_until.is_not(None), table.c.locked_until <= now)
    values: dict[str, Any] = {
        "failed_attempts": case((expired, 1), else_=table.c.failed_attempts + 1),
        "locked_until": case((expired, None), else_=table.c.locked_until),
    }
    if "updated_at" in table.c:
        values["updated_at"] = now
    returning = [table.c.failed_attempts, table.c.locked_until]
    if table is _USERS:
        returning += [table.c.id, table.c.role, table.c.active, table.c.password_hash]
    return update(table).where(key).values(values).returning(*returning)


def _ensure_throttle_row(session: Session, name: str, now: datetime) -> Any:
    row = {"username": name, "failed_attempts": 0, "locked_until": None, "updated_at": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(_THROTTLE).values(row).on_conflict_do_nothing(index_elements=["username"])
    if dialect == "sqlite":
        return sqlite.insert(_THROTTLE).values(row).on_conflict_do_nothing(index_elements=["username"])
    return insert(_THROTTLE).values(row)


# One account per role for demonstrations and the browser tests. The department accounts belong to the
# first city bureau found (or the unit named), so the inbox has something to show after dispatch.
DEMO_ACCOUNTS = (
    ("agent1", "话务员 小林", Role.AGENT),
    ("leader1", "班长 王敏", Role.SUPERVISOR),
    ("qa1", "质检员 陈静", Role.QA),
    ("dept1", "经办人 黄海", Role.DEPT_HANDLER),
    ("head1", "负责人 吴刚", Role.DEPT_HEAD),
    ("admin", "管理员", Role.ADMIN),
)
DEV_DEMO_PASSWORD = "hotline-demo-12345"  # noqa: S105 - accepted only when settings.environment == "development"


def create_demo_accounts(
    users: UserService, unit_code: str, *, fixed_password: str | None = None
) -> list[NewAccount]:
    """Create the demo accounts that do not exist yet; each gets a random password shown once (or the
    documented development password when the caller passes it, which the CLI does only in development)."""
    made = []
    for username, name, role in DEMO_ACCOUNTS:
        if users.by_name(username) is not None:
            continue
        unit = unit_code if role in UNIT_ROLES else None
        made.append(users.create(username, name, role.value, unit, fixed_password))
    return made
