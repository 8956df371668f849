"""What the web desk asks of telephony: transfers and three-way calls, the agent's current call, and links
between calls and work orders.

The desk's routes are synchronous (FastAPI runs them on worker threads) while ARI lives on the event loop of
the telephony service; :class:`DeskTelephony` hands each request to that loop and waits for its answer.
Linking needs no switch: a work order filed at the desk during a call names the call (``IntakeCommand.call_id``)
and :func:`link_orders_on_intake`, subscribed to routing's ``WorkOrderAccepted`` on the bus, records the link
that the call's record and the caller's next screen pop show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telephony.orm import CallLegRow, CallRow, CallWorkOrderRow, EmergencyTransferRow
from telephony.records import link_call_work_order
from telephony.transfer import CallTransfers, TransferError

log = logging.getLogger(__name__)

T = TypeVar("T")
DESK_TIMEOUT_S = 45.0  # an attended transfer or a three-way call waits for the target to answer (30 s)


class OrderEvent(Protocol):
    order_number: str


def current_call(factory: sessionmaker[Session], agent: str) -> str | None:
    """The call an agent is talking on now (their answered leg that has not ended), if any."""
    with factory() as session:
        return session.scalar(
            select(CallLegRow.call_id)
            .where(
                CallLegRow.agent == agent,
                CallLegRow.answered_at.is_not(None),
                CallLegRow.ended_at.is_(None),
            )
            .order_by(CallLegRow.id.desc())
            .limit(1)
        )


def linked_work_orders(factory: sessionmaker[Session], call_id: str) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                select(CallWorkOrderRow.work_order_number)
                .where(CallWorkOrderRow.call_id == call_id)
                .order_by(CallWorkOrderRow.id)
            )
        )


def link_work_order(factory: sessionmaker[Session], call_id: str, number: str) -> bool:
    """Link a work order to a call (idempotent); False when the hotline has no such call."""
    with factory() as session:
        if session.scalar(select(CallRow.id).where(CallRow.call_id == call_id)) is None:
            return False
    link_call_work_order(factory, call_id, number)
    return True


def link_orders_on_intake(factory: sessionmaker[Session]) -> Callable[[OrderEvent], None]:
    """A bus handler for routing's ``WorkOrderAccepted``: the calls the new order names are linked to it."""

    def on_accepted(event: OrderEvent) -> None:
        from routing.orm import work_orders

        with factory() as session:
            call_ids = session.scalar(
                select(work_orders.c.call_ids).where(work_orders.c.number == event.order_number)
            )
        for call_id in call_ids or []:
            if not link_work_order(factory, str(call_id), event.order_number):
                log.info("order %s names call %s, which telephony never saw", event.order_number, call_id)

    return on_accepted


@dataclass(frozen=True)
class EmergencyTransfer:
    """One transfer (``transfer``) or three-way call (``conference``) with an emergency line, as kept."""

    call_id: str
    line: str
    dialled: str
    mode: str
    agent: str
    at: datetime
    ok: bool
    detail: str = ""


def emergency_transfers(factory: sessionmaker[Session], call_id: str) -> list[EmergencyTransfer]:
    with factory() as session:
        rows = session.scalars(
            select(EmergencyTransferRow)
            .where(EmergencyTransferRow.call_id == call_id)
            .order_by(EmergencyTransferRow.id)
        )
        return [
            EmergencyTransfer(r.call_id, r.line, r.dialled, r.mode, r.agent, r.at, r.ok, r.detail)
            for r in rows
        ]


def _keep(factory: sessionmaker[Session], done: EmergencyTransfer) -> None:
    with factory() as session, session.begin():
        session.add(
            EmergencyTransferRow(
                call_id=done.call_id,
                line=done.line,
                dialled=done.dialled,
                mode=done.mode,
                agent=done.agent,
                at=done.at,
                ok=done.ok,
                detail=done.detail[:200],
            )
        )


class DeskTelephony:
    """A thread-safe face of :class:`~telephony.transfer.CallTransfers` for synchronous desk routes."""

    def __init__(
        self, transfers: CallTransfers, loop: asyncio.AbstractEventLoop, *, timeout: float = DESK_TIMEOUT_S
    ) -> None:
        self.transfers = transfers
        self.loop = loop
        self.timeout = timeout

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(self.timeout)
        except TimeoutError as exc:
            future.cancel()
            raise TransferError("the switch did not answer in time") from exc

    def current_call(self, agent: str) -> str | None:
        return current_call(self.transfers.factory, agent)

    def blind_transfer(self, call_id: str, target: str) -> None:
        self._run(self.transfers.blind(call_id, target))

    def attended_transfer(self, call_id: str, target: str) -> None:
        self._run(self.transfers.attended(call_id, target))

    def complete_transfer(self, call_id: str) -> None:
        self._run(self.transfers.complete(call_id))

    def cancel_transfer(self, call_id: str) -> None:
        self._run(self.transfers.cancel(call_id))

    def three_way(self, call_id: str, target: str) -> None:
        self._run(self.transfers.three_way(call_id, target))

    def link_work_order(self, call_id: str, number: str) -> bool:
        return link_work_order(self.transfers.factory, call_id, number)

    def linked_work_orders(self, call_id: str) -> list[str]:
        return linked_work_orders(self.transfers.factory, call_id)

    def caller_number(self, call_id: str) -> str | None:
        with self.transfers.factory() as session:
            return session.scalar(select(CallRow.caller_number).where(CallRow.call_id == call_id))

    def emergency(self, call_id: str, *, line: str, dialled: str, mode: str, agent: str) -> EmergencyTransfer:
        """Put the caller through to an emergency line (``transfer``: the agent is released) or add it to the
        call (``conference``); kept with the call either way. ``TransferError`` when the switch could not."""
        at = datetime.now(UTC)
        try:
            if mode == "transfer":
                self.blind_transfer(call_id, dialled)
            elif mode == "conference":
                self.three_way(call_id, dialled)
            else:
                raise TransferError(f"unknown transfer mode {mode!r}")
        except TransferError as exc:
            _keep(
                self.transfers.factory,
                EmergencyTransfer(call_id, line, dialled, mode, agent, at, False, str(exc)),
            )
            raise
        done = EmergencyTransfer(call_id, line, dialled, mode, agent, at, True)
        _keep(self.transfers.factory, done)
        log.info("call %s: %s to emergency line %s by %s", call_id, mode, line, agent)
        return done

    def emergency_transfers(self, call_id: str) -> list[EmergencyTransfer]:
        return emergency_transfers(self.transfers.factory, call_id)
