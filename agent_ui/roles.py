"""The six roles of the hotline and what each may see."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # 话务员: takes calls, files and dispatches orders
    SUPERVISOR = "supervisor"  # 班长/值班长: wallboard, monitoring, arbitration, approvals
    QA = "qa"  # 质检员: call reviews, satisfaction callbacks
    DEPT_HANDLER = "dept_handler"  # 承办单位经办人: its unit's inbox
    DEPT_HEAD = "dept_head"  # 承办单位负责人: its unit's inbox, scores, supervision orders
    ADMIN = "admin"  # 系统管理员: accounts, audit


ROLE_LABELS = {
    Role.AGENT: ("话务员", "Agent"),
    Role.SUPERVISOR: ("班长", "Supervisor"),
    Role.QA: ("质检员", "QA staff"),
    Role.DEPT_HANDLER: ("承办单位经办人", "Department handler"),
    Role.DEPT_HEAD: ("承办单位负责人", "Department head"),
    Role.ADMIN: ("系统管理员", "Administrator"),
}

# Roles that belong to one unit: they see only that unit's orders.
UNIT_ROLES = frozenset({Role.DEPT_HANDLER, Role.DEPT_HEAD})

# Roles that talk to citizens as part of their job and see the number in full (every view is audited).
# Department staff see it masked and may reveal it, audited, when they have to call the citizen back.
FULL_PHONE_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN})

HOME_PAGE = {
    Role.AGENT: "/desk",
    Role.SUPERVISOR: "/supervisor/wallboard",
    Role.QA: "/qa/callbacks",
    Role.DEPT_HANDLER: "/dept/inbox",
    Role.DEPT_HEAD: "/dept/inbox",
    Role.ADMIN: "/admin/users",
}


def role_label(role: str, lang: str) -> str:
    zh, en = ROLE_LABELS.get(Role(role), (role, role))
    return en if lang == "en" else zh
