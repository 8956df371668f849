"""Accounts: creation, log-in with lock-out, password reset, the demo accounts, and the access audit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent_ui.orm import AccessAudit, User
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


class UserService:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self.session_factory = session_factory
        self.clock = clock

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

    def by_name(self, username: str) -> User | None:
        with self.session_factory() as session:
            return session.scalar(select(User).where(User.username == username))

    def all(self) -> list[User]:
        with self.session_factory() as session:
            return list(session.scalars(select(User).order_by(User.role, User.username)))

    def authenticate(self, username: str, password: str, client: str = "") -> LoginResult:
        """Check a log-in. Five failures in a row lock the account for fifteen minutes."""
        now = self.clock.now()
        with self.session_factory() as session, session.begin():
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                dummy_verify()
                _audit(session, now, username, "", "login_failed", username, "unknown user", client)
                return LoginResult(None, "bad_credentials")
            if user.locked_until is not None and user.locked_until > now:
                _audit(session, now, username, user.role, "login_locked", username, "", client)
                return LoginResult(None, "locked", user.locked_until)
            if not verify_password(user.password_hash, password):
                user.failed_attempts += 1
                detail = f"attempt {user.failed_attempts}"
                if user.failed_attempts >= LOCKOUT_ATTEMPTS:
                    user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
                    user.failed_attempts = 0
                    detail += "; locked"
                _audit(session, now, username, user.role, "login_failed", username, detail, client)
                if user.locked_until is not None and user.locked_until > now:
                    return LoginResult(None, "locked", user.locked_until)
                return LoginResult(None, "bad_credentials")
            if not user.active:
                _audit(session, now, username, user.role, "login_inactive", username, "", client)
                return LoginResult(None, "inactive")
            user.failed_attempts = 0
            user.locked_until = None
            user.last_login_at = now
            _audit(session, now, username, user.role, "login", username, "", client)
            session.flush()
            session.expunge(user)
            return LoginResult(user)

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
            _audit(session, self.clock.now(), by, "admin", "password_reset", username, "", "")
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
