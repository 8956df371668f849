"""The automated satisfaction callback loop (回访): every resolved work order gets a survey call.

One round (``run_once``):

1. **sync** — every order in state *resolved* gets a task for that resolution (``callback_tasks``), due at
   the first calling window ``first_call_after`` the resolution; tasks of orders that left *resolved* some
   other way (an agent's callback, a supervisor) are cancelled; claims of a worker that died are released.
2. **claim** — inside a calling window, due tasks are claimed with a compare-and-set on their state, so that
   several campaign workers (processes) never call the same citizen twice.
3. **call** — the ``SurveyDialer`` port places the calls (telephony's ARI dialer, the IVR survey).
4. **settle** — the answers become the order's callback record through ``WorkOrderService.record_callback``
   (audited; closes or reopens the order to the same unit with the shorter redo deadline, see
   ``routing/callback_policy.py``); a call that reached nobody is recorded as *unreachable* (the order stays
   resolved) and retried, or after ``max_attempts`` handed to the agents' manual callback list. Every call is
   a row in ``callback_attempts``.

The manual path (``record_manual``): an agent, QA staff or a department head on duty calls the citizen
and enters the evaluation. A department head may take only callbacks of their own unit's orders, so that
what they record is their unit's evaluation; the attempt keeps who called and in which role.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from routing.access import may_record_callback
from routing.callback_orm import CallbackAttempt, CallbackTask
from routing.callback_policy import (
    ANSWERED,
    FAILED,
    CampaignPolicy,
    Verdict,
    after_unreachable,
    first_call_at,
    in_window,
    judge,
)
from routing.commands import CallbackCommand
from routing.domain.enums import AssignmentRole, CallbackOutcome, OrderState
from routing.domain.errors import DomainError, Forbidden, NotFound
from routing.domain.model import Actor, WorkOrder
from routing.lifecycle import RecordCallback
from routing.orm import order_assignments, work_orders
from routing.services import WorkOrderService

log = logging.getLogger(__name__)

AUTO_ACTOR = Actor("system:callback-survey", "auto")  # by_role "auto": the desk's automated-callback list
MANUAL_ROLES = frozenset({"agent", "qa", "supervisor", "department_head", "admin"})


class SurveyResult(Protocol):
    """What one survey call reports (telephony.outbound.SurveyOutcome has these fields)."""

    @property
    def status(self) -> str: ...  # answered, no_answer, busy, failed
    @property
    def solved(self) -> int | None: ...
    @property
    def rating(self) -> int | None: ...
    @property
    def recording(self) -> str | None: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def hangup_cause(self) -> int | None: ...
    @property
    def detail(self) -> str: ...


class SurveyDialer(Protocol):
    """The outbound-call port (telephony.outbound.AriDialer, or its FakeDialer in tests)."""

    def ready(self) -> bool: ...
    async def survey(self, order_number: str, phone: str, *, language: str = "zh") -> SurveyResult: ...


@dataclass(frozen=True)
class _Failed:
    detail: str
    status: str = FAILED
    solved: int | None = None
    rating: int | None = None
    recording: str | None = None
    channel_id: str = ""
    hangup_cause: int | None = None


@dataclass(frozen=True)
class Claim:
    task_id: int
    order_number: str
    phone: str
    attempts: int
    unit_code: str | None


@dataclass
class RoundReport:
    created: int = 0
    cancelled: int = 0
    called: int = 0
    results: dict[str, int] = field(default_factory=dict)  # closed, reopened, retry, manual, superseded

    def count(self, result: str) -> None:
        self.results[result] = self.results.get(result, 0) + 1


class CallbackCampaign:
    def __init__(
        self,
        work_orders: WorkOrderService,
        dialer: SurveyDialer | None,
        policy: CampaignPolicy | None = None,
        *,
        worker: str | None = None,
        concurrency: int = 4,
        lease: timedelta = timedelta(minutes=15),
        language: str = "zh",
    ) -> None:
        self.service = work_orders
        self.ctx = work_orders.ctx
        self.dialer = dialer
        self.policy = policy or CampaignPolicy()
        self.worker = worker or f"campaign-{os.getpid()}"
        self.concurrency = concurrency
        self.lease = lease
        self.language = language

    # ---- 1. sync ------------------------------------------------------------------------------------------
    def sync(self, now: datetime) -> tuple[int, int]:
        """Create the tasks of newly resolved orders, cancel those no longer owed; (created, cancelled)."""
        t = CallbackTask.__table__
        with self.ctx.write_session_factory() as session, session.begin():
            lead = (
                select(order_assignments.c.unit_code)
                .where(
                    order_assignments.c.order_id == work_orders.c.id,
                    order_assignments.c.active.is_(True),
                    order_assignments.c.role == AssignmentRole.LEAD,
                )
                .limit(1)
                .scalar_subquery()
            )
            owed = session.execute(
                select(work_orders.c.number, work_orders.c.resolved_at, work_orders.c.citizen_phone, lead)
                .outerjoin(
                    t,
                    and_(
                        t.c.order_number == work_orders.c.number, t.c.resolved_at == work_orders.c.resolved_at
                    ),
                )
                .where(
                    work_orders.c.state == OrderState.RESOLVED,
                    work_orders.c.resolved_at.is_not(None),
                    t.c.id.is_(None),
                )
            ).all()
            for number, resolved_at, phone, unit in owed:
                session.add(
                    CallbackTask(
                        order_number=number,
                        resolved_at=resolved_at,
                        unit_code=unit,
                        phone=phone,
                        state="due",
                        attempts=0,
                        next_attempt_at=first_call_at(resolved_at, self.policy),
                        result="",
                        note="",
                        created_at=now,
                        updated_at=now,
                    )
                )
            stale = session.scalars(
                select(CallbackTask.id)
                .join(work_orders, work_orders.c.number == CallbackTask.order_number)
                .where(
                    CallbackTask.state.in_(("due", "manual")),
                    or_(
                        work_orders.c.state != OrderState.RESOLVED,
                        work_orders.c.resolved_at != CallbackTask.resolved_at,
                    ),
                )
            ).all()
            if stale:
                session.execute(
                    update(CallbackTask)
                    .where(CallbackTask.id.in_(stale))
                    .values(state="cancelled", result="superseded", updated_at=now)
                )
            # A worker that died mid-call: after the lease its claims are due again.
            session.execute(
                update(CallbackTask)
                .where(CallbackTask.state == "calling", CallbackTask.claimed_at < now - self.lease)
                .values(state="due", claimed_by=None, claimed_at=None, updated_at=now)
            )
        return len(owed), len(stale)

    # ---- 2. claim -----------------------------------------------------------------------------------------
    def claim(self, now: datetime, limit: int) -> list[Claim]:
        with self.ctx.session_factory() as session:
            due = session.scalars(
                select(CallbackTask)
                .where(CallbackTask.state == "due", CallbackTask.next_attempt_at <= now)
                .order_by(CallbackTask.next_attempt_at, CallbackTask.id)
                .limit(limit * 2)
            ).all()
        claims: list[Claim] = []
        for task in due:
            if len(claims) >= limit:
                break
            with self.ctx.write_session_factory() as session, session.begin():
                result = session.execute(
                    update(CallbackTask)
                    .where(CallbackTask.id == task.id, CallbackTask.state == "due")
                    .values(state="calling", claimed_by=self.worker, claimed_at=now, updated_at=now)
                )
                won = result.rowcount if isinstance(result, CursorResult) else 0
            if won == 1:
                claims.append(Claim(task.id, task.order_number, task.phone, task.attempts, task.unit_code))
        return claims

    # ---- one round --------------------------------------------------------------------------------------
    async def run_once(self, now: datetime | None = None) -> RoundReport:
        now = now or self.ctx.clock.now()
        report = RoundReport()
        report.created, report.cancelled = await asyncio.to_thread(self.sync, now)
        if self.dialer is None or not self.dialer.ready() or not in_window(now, self.policy):
            return report
        claims = await asyncio.to_thread(self.claim, now, self.concurrency)
        report.called = len(claims)
        for result in await asyncio.gather(*(self._call(claim, now) for claim in claims)):
            report.count(result)
        return report

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 30.0) -> None:
        log.info("callback campaign %s started", self.worker)
        while not stop.is_set():
            try:
                report = await self.run_once()
                if report.called or report.created:
                    log.info("callback round: %s", report)
            except Exception:
                log.exception("callback round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_seconds)
        log.info("callback campaign %s stopped", self.worker)

    async def _call(self, claim: Claim, now: datetime) -> str:
        assert self.dialer is not None
        started = self.ctx.clock.now()
        result: SurveyResult
        try:
            result = await self.dialer.survey(claim.order_number, claim.phone, language=self.language)
        except Exception as exc:  # the dialer's own bug must not lose the task
            log.exception("survey call for %s failed", claim.order_number)
            result = _Failed(f"{type(exc).__name__}: {exc}"[:300])
        return await asyncio.to_thread(self.settle, claim, result, now, started)

    # ---- 4. settle ----------------------------------------------------------------------------------------
    def settle(self, claim: Claim, result: SurveyResult, now: datetime, started: datetime) -> str:
        """Record one automated call's answer on the order and decide the task's next step."""
        verdict = judge(result.status, result.solved, result.rating, self.policy)
        attempts = claim.attempts + 1
        outcome = {"close": "closed", "reopen": "reopened"}.get(verdict.kind, verdict.reason)
        try:
            self.service.handle(RecordCallback(claim.order_number, _command(verdict, result)), AUTO_ACTOR)
        except DomainError as exc:  # the order was called back (or reopened) meanwhile
            log.info("callback of %s superseded: %s", claim.order_number, exc)
            state, task_result, next_at, outcome = "cancelled", "superseded", None, "superseded"
        else:
            if verdict.kind == "close":
                state, task_result, next_at = "done", "closed", None
            elif verdict.kind == "reopen":
                state, task_result, next_at = "done", "reopened", None
            else:
                step = after_unreachable(verdict.reason, attempts, now, self.policy)
                state = "due" if step.kind == "retry" else "manual"
                task_result = "retry" if step.kind == "retry" else "manual"
                next_at = step.at
        with self.ctx.write_session_factory() as session, session.begin():
            session.execute(
                update(CallbackTask)
                .where(CallbackTask.id == claim.task_id)
                .values(
                    state=state,
                    attempts=attempts,
                    next_attempt_at=next_at,
                    claimed_by=None,
                    claimed_at=None,
                    result=task_result,
                    note=verdict.note[:300],
                    updated_at=self.ctx.clock.now(),
                )
            )
            session.add(
                CallbackAttempt(
                    task_id=claim.task_id,
                    order_number=claim.order_number,
                    attempt=attempts,
                    mode="auto",
                    by=AUTO_ACTOR.name,
                    by_role=AUTO_ACTOR.role,
                    by_unit=None,
                    evaluated_unit=claim.unit_code,
                    started_at=started,
                    ended_at=self.ctx.clock.now(),
                    call_status=str(result.status),
                    solved=verdict.solved,
                    rating=verdict.rating,
                    outcome=outcome,
                    recording=result.recording,
                    channel_id=result.channel_id[:64],
                    hangup_cause=result.hangup_cause,
                    detail=result.detail[:300],
                )
            )
        return task_result

    # ---- the manual path ----------------------------------------------------------------------------------
    def record_manual(self, number: str, actor: Actor, cmd: CallbackCommand) -> WorkOrder:
        """A person called the citizen back; the evaluation goes on the order, audited under their name."""
        if actor.role not in MANUAL_ROLES:
            raise Forbidden("无权登记回访", "this role may not record callbacks", role=actor.role)
        order = self.service.get(number)
        evaluated = order.lead_unit
        if not may_record_callback(actor.role, actor.unit_code, order):
            raise Forbidden(
                "部门负责人只能回访本单位承办的工单",
                "a department head calls back only the orders of their own unit",
                unit=actor.unit_code,
                lead_unit=evaluated,
            )
        resolved_at = order.resolved_at
        started = self.ctx.clock.now()
        order = self.service.handle(RecordCallback(number, cmd), actor)
        now = self.ctx.clock.now()
        unreachable = cmd.outcome is CallbackOutcome.UNREACHABLE
        outcome = (
            "unreachable" if unreachable else "closed" if order.state is OrderState.CLOSED else "reopened"
        )
        with self.ctx.write_session_factory() as session, session.begin():
            task = self._task_for(session, order, resolved_at, now)
            task.attempts += 1
            task.updated_at = now
            if not unreachable:
                task.state, task.result, task.next_attempt_at = "done", outcome, None
            session.add(
                CallbackAttempt(
                    task_id=task.id,
                    order_number=number,
                    attempt=task.attempts,
                    mode="manual",
                    by=actor.name,
                    by_role=actor.role,
                    by_unit=actor.unit_code,
                    evaluated_unit=evaluated,
                    started_at=started,
                    ended_at=now,
                    call_status="" if unreachable else ANSWERED,
                    solved=cmd.solved,
                    rating=cmd.rating,
                    outcome=outcome,
                    recording=cmd.recording_ref,
                    channel_id="",
                    hangup_cause=None,
                    detail=cmd.note[:300],
                )
            )
        return order

    def _task_for(
        self, session: Session, order: WorkOrder, resolved_at: datetime | None, now: datetime
    ) -> CallbackTask:
        if resolved_at is None:
            raise NotFound("工单没有办结时间", "the order was never resolved", number=order.number)
        task = session.scalars(
            select(CallbackTask).where(
                CallbackTask.order_number == order.number, CallbackTask.resolved_at == resolved_at
            )
        ).first()
        if task is None:  # called back before the campaign saw it
            task = CallbackTask(
                order_number=order.number,
                resolved_at=resolved_at,
                unit_code=order.lead_unit,
                phone=order.citizen_phone,
                state="manual",
                attempts=0,
                next_attempt_at=None,
                result="",
                note="",
                created_at=now,
                updated_at=now,
            )
            session.add(task)
            session.flush()
        return task

    # ---- reading ----------------------------------------------------------------------------------------
    def manual_list(self) -> Sequence[CallbackTask]:
        """The agents' manual callback list: the automated survey gave up on these (oldest first)."""
        with self.ctx.session_factory() as session:
            return session.scalars(
                select(CallbackTask).where(CallbackTask.state == "manual").order_by(CallbackTask.updated_at)
            ).all()

    def attempts(self, number: str) -> Sequence[CallbackAttempt]:
        with self.ctx.session_factory() as session:
            return session.scalars(
                select(CallbackAttempt)
                .where(CallbackAttempt.order_number == number)
                .order_by(CallbackAttempt.started_at, CallbackAttempt.id)
            ).all()

    def tasks(self, number: str) -> Sequence[CallbackTask]:
        with self.ctx.session_factory() as session:
            return session.scalars(
                select(CallbackTask).where(CallbackTask.order_number == number).order_by(CallbackTask.id)
            ).all()


def _command(verdict: Verdict, result: SurveyResult) -> CallbackCommand:
    recording = result.recording
    if recording and len(recording) > 128:  # the order keeps a reference; the file name is unique
        recording = recording.rsplit("/", 1)[-1][:128]
    return CallbackCommand(
        outcome=verdict.outcome,
        solved=verdict.solved,
        rating=verdict.rating,
        note=verdict.note,
        recording_ref=recording if verdict.kind != "unreachable" else None,
    )
