"""The administrator: accounts (create, reset a password) and the access audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from agent_ui.deps import AdminUser, CsrfChecked, Hot, Lang, Users
from agent_ui.parts import DeskParts
from agent_ui.queries import units
from agent_ui.rendering import render
from agent_ui.roles import Role
from agent_ui.users import AccountError, UserService

router = APIRouter()


def _users_page(
    request: Request,
    hot: DeskParts,
    users: UserService,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    created: Any = None,
    status_code: int = 200,
) -> Response:
    with hot.session_factory() as session:
        unit_list = units(session)
    return render(
        request,
        "admin_users.html",
        {
            "accounts": users.all(),
            "roles": [r.value for r in Role],
            "units": unit_list,
            "errors": errors or {},
            "values": values or {},
            "created": created,
        },
        status_code=status_code,
    )


@router.get("/admin/users")
def users_page(request: Request, user: AdminUser, hot: Hot, users: Users) -> Response:
    return _users_page(request, hot, users)


@router.post("/admin/users", dependencies=[CsrfChecked])
def create_user(
    request: Request,
    user: AdminUser,
    hot: Hot,
    users: Users,
    lang: Lang,
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    unit_code: Annotated[str, Form()] = "",
) -> Response:
    values = {"username": username, "display_name": display_name, "role": role, "unit_code": unit_code}
    try:
        account = users.create(username.strip(), display_name, role, unit_code or None)
    except AccountError as exc:
        return _users_page(
            request,
            hot,
            users,
            {exc.field: exc.message_en if lang == "en" else exc.message_zh},
            values,
            status_code=422,
        )
    users.audit(user.username, user.role.value, "user_created", account.username, account.role)
    return _users_page(request, hot, users, created=account)


@router.post("/admin/users/{username}/reset-password", dependencies=[CsrfChecked])
def reset_password(
    request: Request, username: str, user: AdminUser, hot: Hot, users: Users, lang: Lang
) -> Response:
    try:
        password = users.reset_password(username, by=user.username)
    except AccountError as exc:
        return _users_page(
            request,
            hot,
            users,
            {"reset": exc.message_en if lang == "en" else exc.message_zh},
            status_code=404,
        )
    return _users_page(request, hot, users, created={"username": username, "password": password})


@router.get("/admin/audit")
def audit_page(request: Request, user: AdminUser, users: Users) -> Response:
    return render(request, "admin_audit.html", {"rows": users.audit_log()})
