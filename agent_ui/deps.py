"""Request plumbing as FastAPI dependencies: the app, the language, the signed-in user, role checks, CSRF."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from agent_ui.i18n import LANG_COOKIE, normalize_lang
from agent_ui.parts import DeskParts
from agent_ui.roles import UNIT_ROLES, Role
from agent_ui.security import SESSION_COOKIE, SessionCodec, csrf_matches, fingerprint
from agent_ui.users import UserService

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_CSRF_COOKIE = "hotline_login_csrf"


class NotAuthenticated(Exception):
    """No valid session: pages redirect to the log-in page."""


class NotAllowed(Exception):
    """Signed in, but this role may not do this (403)."""


class CsrfFailed(Exception):
    """A POST without the session's CSRF token (403)."""


@dataclass(frozen=True)
class WebUser:
    id: int
    username: str
    display_name: str
    role: Role
    unit_code: str | None
    csrf: str

    @property
    def is_unit_role(self) -> bool:
        return self.role in UNIT_ROLES


def get_hot(request: Request) -> DeskParts:
    hot: DeskParts = request.app.state.desk
    return hot


def get_users(request: Request) -> UserService:
    users: UserService = request.app.state.ui_users
    return users


def get_codec(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.ui_codec
    return codec


def get_lang(request: Request) -> str:
    chosen = normalize_lang(request.query_params.get("lang")) or normalize_lang(
        request.cookies.get(LANG_COOKIE)
    )
    if chosen:
        return chosen
    return get_hot(request).settings.default_locale


def optional_user(request: Request) -> WebUser | None:
    cached = getattr(request.state, "ui_user", "unset")
    if cached is None or isinstance(cached, WebUser):
        return cached
    user = _load_user(request)
    request.state.ui_user = user
    return user


def _load_user(request: Request) -> WebUser | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    data = get_codec(request).loads(raw)
    if data is None:
        return None
    row = get_users(request).for_session(data.user_id)
    if row is None or not row.active or fingerprint(row.password_hash) != data.pw:
        return None
    if row.session_generation != data.gen:  # logged out since this cookie was issued
        return None
    return WebUser(row.id, row.username, row.display_name, Role(row.role), row.unit_code, data.csrf)


def current_user(user: Annotated[WebUser | None, Depends(optional_user)]) -> WebUser:
    if user is None:
        raise NotAuthenticated
    return user


Hot = Annotated[DeskParts, Depends(get_hot)]
Users = Annotated[UserService, Depends(get_users)]
Lang = Annotated[str, Depends(get_lang)]
MaybeUser = Annotated[WebUser | None, Depends(optional_user)]
CurrentUser = Annotated[WebUser, Depends(current_user)]


def require(*roles: Role) -> Callable[[WebUser], WebUser]:
    allowed = frozenset(roles)

    def check(user: CurrentUser) -> WebUser:
        if user.role not in allowed:
            raise NotAllowed
        return user

    return check


async def csrf_protect(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token (form field or htmx header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    user = optional_user(request)
    expected = user.csrf if user else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER)
    if not given:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not csrf_matches(expected, given):
        raise CsrfFailed


CsrfChecked = Depends(csrf_protect)

AgentUser = Annotated[WebUser, Depends(require(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]
SupervisorUser = Annotated[WebUser, Depends(require(Role.SUPERVISOR, Role.ADMIN))]
QaUser = Annotated[WebUser, Depends(require(Role.QA, Role.SUPERVISOR, Role.ADMIN))]
DeptUser = Annotated[WebUser, Depends(require(Role.DEPT_HANDLER, Role.DEPT_HEAD))]
DeptHeadUser = Annotated[WebUser, Depends(require(Role.DEPT_HEAD))]
AdminUser = Annotated[WebUser, Depends(require(Role.ADMIN))]
CallbackUser = Annotated[
    WebUser, Depends(require(Role.AGENT, Role.QA, Role.SUPERVISOR, Role.ADMIN))
]  # satisfaction callbacks are made by QA staff and by agents between calls
ScorecardEditor = Annotated[WebUser, Depends(require(Role.QA, Role.ADMIN))]
RecordingsUser = Annotated[WebUser, Depends(require(Role.SUPERVISOR, Role.QA, Role.ADMIN))]

AsyncDep = Callable[..., Coroutine[Any, Any, None]]
