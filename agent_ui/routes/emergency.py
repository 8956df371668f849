"""Linkage with 110/119/120/122 (国办发〔2022〕12号): from the desk, one key puts the caller through to an
emergency line, or opens a three-way call with it when it is unclear whose matter it is.

The switch does the call (the ``CallControl`` port, telephony's transfers); the call keeps the transfer; the
call's work order records it with who and when (routing's audit). A caller transferred away before any order
was filed for the call gets one at once, answered on the spot as transferred (即时转办), so that no transfer
goes unrecorded; in a three-way call the agent is still on the line and the order they file for the call
records it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from agent_ui.deps import AgentUser, CsrfChecked, Hot, Lang
from agent_ui.parts import DeskParts
from agent_ui.ports import CallControl
from routing.commands import IntakeCommand
from routing.domain.enums import CaseType, Channel
from routing.domain.errors import DomainError
from routing.domain.model import Actor
from routing.lifecycle import RecordEmergencyTransfer

router = APIRouter()

LINES = {  # what each line is, for the desk and the order
    "110": ("公安", "police"),
    "119": ("消防", "fire"),
    "120": ("急救", "ambulance"),
    "122": ("交警", "traffic police"),
}
MODES = ("transfer", "conference")


def emergency_buttons(hot: DeskParts) -> list[dict[str, str]]:
    """The desk's buttons: each configured line, with the keys that press them (Alt+1..4, Shift for three-way)."""
    return [
        {"line": line, "dialled": dialled, "zh": LINES[line][0], "en": LINES[line][1], "key": str(n)}
        for n, (line, dialled) in enumerate(hot.settings.emergency_lines.items(), start=1)
    ]


def _actor(user: Any) -> Actor:
    from agent_ui.routes.desk import actor_of

    result: Actor = actor_of(user)
    return result


def _refuse(request: Request, hot: DeskParts, user: Any, message: str, status: int) -> Response:
    from agent_ui.routes.desk import desk_page_with_errors

    return desk_page_with_errors(request, hot, user, {"emergency": message}, status)


@router.post("/desk/emergency", dependencies=[CsrfChecked])
def emergency(
    request: Request,
    user: AgentUser,
    hot: Hot,
    lang: Lang,
    target: Annotated[str, Form()] = "",
    call_id: Annotated[str, Form()] = "",
) -> Response:
    """``target`` is ``<line>:<mode>``, e.g. ``110:transfer`` or ``120:conference``."""
    en = lang == "en"
    line, _, mode = target.partition(":")
    lines = hot.settings.emergency_lines
    if line not in lines or mode not in MODES:
        message = "Choose 110, 119, 120 or 122" if en else "请选择 110、119、120 或 122"
        return _refuse(request, hot, user, message, 422)
    phone = hot.call_control
    if phone is None:
        message = "The switch is not connected" if en else "未连接电话交换机"
        return _refuse(request, hot, user, message, 409)
    live = phone.current_call(user.username)
    if live is None or (call_id and call_id != live):
        message = "You have no live call to transfer" if en else "当前没有可转接的通话"
        return _refuse(request, hot, user, message, 409)
    try:
        done = phone.emergency(live, line=line, dialled=lines[line], mode=mode, agent=user.username)
    except RuntimeError as exc:
        message = f"The switch could not call {line}: {exc}" if en else f"交换机未能接通 {line}：{exc}"
        return _refuse(request, hot, user, message, 409)
    orders, problem = _record(hot, phone, user, live, line, lines[line], mode, done.at)
    if mode == "transfer":
        # The agent is released; the citizen talks to the emergency line.
        hot.feed.call_ended(user.username, live)
    if problem:  # transferred, but no order could be filed for the call (e.g. a hidden number)
        return _refuse(request, hot, user, _unrecorded(lang, line, mode), 200)
    return RedirectResponse(f"/desk?emergency={line}&mode={mode}&orders={','.join(orders)}", status_code=303)


def _record(hot: DeskParts, phone: CallControl, user: Any, call_id: str, line: str, dialled: str, mode: str,
            at: Any) -> tuple[list[str], str]:  # fmt: skip
    """Record the transfer on the call's orders (filing one when a transferred call has none)."""
    actor = _actor(user)
    orders = phone.linked_work_orders(call_id)
    if not orders and mode == "transfer":
        zh, en = LINES[line]
        try:
            order = hot.work_orders.intake(
                IntakeCommand(
                    channel=Channel.PHONE,
                    case_type=CaseType.HELP_REQUEST,
                    description=f"来电一键转接{line}（{zh}）/ caller transferred to {line} ({en})",
                    citizen_phone=phone.caller_number(call_id) or "",
                    dispatch=False,
                    answer_on_the_spot=f"已转接{line}（即时转办）",
                    call_id=call_id,
                ),
                actor,
            )
        except (ValidationError, DomainError) as exc:  # e.g. a hidden number: the call keeps the record
            return [], str(exc)[:200]
        orders = [order.number]
    for number in orders:
        hot.work_orders.handle(
            RecordEmergencyTransfer(number, line=line, dialled=dialled, mode=mode, call_id=call_id, at=at),
            actor,
        )
    return orders, ""


def record_on_new_order(hot: DeskParts, user: Any, number: str, call_id: str | None) -> None:
    """An order filed for a call that had a three-way call (or a transfer) with an emergency line records it."""
    phone = hot.call_control
    if phone is None or not call_id:
        return
    for done in phone.emergency_transfers(call_id):
        if done.ok:
            transfer = RecordEmergencyTransfer(
                number, line=done.line, dialled=done.dialled, mode=done.mode, call_id=call_id, at=done.at
            )
            hot.work_orders.handle(transfer, _actor(user))


def _unrecorded(lang: str, line: str, mode: str) -> str:
    done = flash(lang, line, mode, "")
    if lang == "en":
        return f"{done}; no order could be filed for this call: file one by hand"
    return f"{done}；未能为本次来电自动生成工单，请手工受理"


def flash(lang: str, line: str, mode: str, orders: str) -> str:
    if line not in LINES or mode not in MODES:
        return ""
    zh, en = LINES[line]
    if lang == "en":
        text = f"Transferred to {line} ({en})" if mode == "transfer" else f"Three-way call with {line} ({en})"
        return text + (f"; recorded on {orders}" if orders else "; record it on the order you file")
    text = f"已一键转接{line}（{zh}）" if mode == "transfer" else f"已与{line}（{zh}）三方通话"
    return text + (f"，已记入工单 {orders}" if orders else "，请在本次来电的工单中记录")
