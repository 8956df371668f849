"""Who may see and act on which work order: one rule for the web desk and the REST API alike.

A unit's people (the web desk's 经办人 and 负责人, the API's ``department`` and ``department_head`` keys)
see an order only when their unit was ever assigned to it (lead or assisting, this round or an earlier
one), and act only for their own unit. Only a department head of the order's lead unit records its
satisfaction callback. Hotline staff (agents, supervisors, QA, administrators) and integrations see every
order. Pure functions of (role, unit, order): the callers load the order and map a refusal to 404, so that
another unit's order is not even confirmed to exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy import ColumnElement, select

from routing.domain.errors import Forbidden, InvalidInput
from routing.domain.model import WorkOrder
from routing.orm import order_assignments, work_orders

# The web desk and the API name the two unit roles differently; both mean the same people.
UNIT_HANDLER_ROLES = frozenset({"department", "dept_handler"})
UNIT_HEAD_ROLES = frozenset({"department_head", "dept_head"})
UNIT_ROLES = UNIT_HANDLER_ROLES | UNIT_HEAD_ROLES

# Staff who talk to citizens as part of their job and see the number in full (each view audited).
FULL_PHONE_ROLES = frozenset({"agent", "supervisor", "qa", "admin"})


def is_unit_role(role: str) -> bool:
    return role in UNIT_ROLES


def may_see(role: str, unit_code: str | None, units_held: Iterable[str]) -> bool:
    """True when this person or key may see an order that these units have held."""
    if role not in UNIT_ROLES:
        return True
    return bool(unit_code) and unit_code in set(units_held)


def may_see_order(role: str, unit_code: str | None, order: WorkOrder) -> bool:
    return may_see(role, unit_code, (a.unit_code for a in order.assignments))


def held_by(unit_code: str) -> ColumnElement[bool]:
    """SQL: the orders this unit ever held (for listings, where loading each order would be wasteful)."""
    return work_orders.c.id.in_(
        select(order_assignments.c.order_id).where(order_assignments.c.unit_code == unit_code)
    )


def listing_unit(role: str, unit_code: str | None) -> str | None:
    """The unit a listing is limited to, or None for hotline-wide listings."""
    if role not in UNIT_ROLES:
        return None
    if not unit_code:
        raise Forbidden("账号未关联单位", "this account belongs to no unit")
    return unit_code


def acting_unit(role: str, unit_code: str | None, requested: str | None) -> str:
    """The unit an action is taken for: a unit's people act for their own unit only; hotline staff
    (supervisors, administrators) name the unit they act for."""
    if role in UNIT_ROLES:
        if not unit_code:
            raise Forbidden("账号未关联单位", "this account belongs to no unit")
        if requested and requested != unit_code:
            raise Forbidden("只能处理本单位的工单", "a unit acts for its own orders only")
        return unit_code
    if not requested:
        raise InvalidInput("须指定单位 unit_code", "unit_code is required")
    return requested


def may_record_callback(role: str, unit_code: str | None, order: WorkOrder) -> bool:
    """Callbacks are the hotline's; of a unit's people, only the head of the lead unit records one."""
    if role in UNIT_HEAD_ROLES:
        return bool(unit_code) and unit_code == order.lead_unit
    return role not in UNIT_HANDLER_ROLES


def sees_full_phone(role: str, *, granted: bool = False) -> bool:
    """Hotline staff see the citizen's number; an integration only when its key was granted it."""
    return role in FULL_PHONE_ROLES or (role == "integration" and granted)


class ContactAudit(Protocol):
    """Records that someone saw citizens' full phone numbers (the web desk's access audit)."""

    def __call__(self, who: str, role: str, order_numbers: Sequence[str], how: str, client: str) -> None: ...
