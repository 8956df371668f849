"""The callback requests and their attempts, durable across restarts; each change a short transaction.

A request is claimed with a compare-and-set on its state (waiting -> placed), so that two processes that saw
the same row never both call the citizen. Every call of a callback is a row of ``tel_callback_attempts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from telephony.orm import CallbackAttemptRow, CallRow, QueueCallbackRow

LIVE = ("placed", "connecting")
OWED = ("waiting", *LIVE)  # a callback the hotline still owes


class QueueCallbackStore:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def add(self, *, call_id: str, phone: str, queue: str, priority: int, position: int | None,
            language: str, now: datetime, source: str = "queue", due_by: datetime | None = None,
            next_attempt_at: datetime | None = None) -> int:  # fmt: skip
        """A callback the citizen asked for; their call counts as a callback request, not as abandoned."""
        with self.factory() as session, session.begin():
            row = QueueCallbackRow(
                call_id=call_id,
                phone=phone,
                queue=queue,
                priority=priority,
                position=position,
                language=language,
                requested_at=now,
                state="waiting",
                attempts=0,
                next_attempt_at=next_attempt_at or now,
                last_result="",
                updated_at=now,
                source=source,
                due_by=due_by,
                missed_calls=1,
            )
            session.add(row)
            call = session.scalar(select(CallRow).where(CallRow.call_id == call_id))
            if call is not None and call.answered_at is None:
                call.outcome = "callback_requested"
            session.flush()
            return row.id

    def get(self, request_id: int) -> QueueCallbackRow | None:
        with self.factory() as session:
            return session.get(QueueCallbackRow, request_id)

    def all(self) -> Sequence[QueueCallbackRow]:
        with self.factory() as session:
            return session.scalars(select(QueueCallbackRow).order_by(QueueCallbackRow.id)).all()

    def due(self, now: datetime) -> Sequence[QueueCallbackRow]:
        with self.factory() as session:
            return session.scalars(
                select(QueueCallbackRow)
                .where(QueueCallbackRow.state == "waiting", QueueCallbackRow.next_attempt_at <= now)
                .order_by(QueueCallbackRow.requested_at, QueueCallbackRow.id)
            ).all()

    def claim(self, request_id: int, placeholder: str, now: datetime) -> bool:
        """waiting -> placed, once: another process that saw the same row gets False."""
        return self._swap(request_id, ("waiting",), now, state="placed", placeholder=placeholder)

    def connect(self, request_id: int, agent: str, now: datetime) -> bool:
        """placed -> connecting when an agent took the placeholder; False when it was cancelled meanwhile."""
        return self._swap(request_id, ("placed",), now, state="connecting", agent=agent or None)

    def _swap(self, request_id: int, states: tuple[str, ...], now: datetime, **values: object) -> bool:
        with self.factory() as session, session.begin():
            result = session.execute(
                update(QueueCallbackRow)
                .where(QueueCallbackRow.id == request_id, QueueCallbackRow.state.in_(states))
                .values(updated_at=now, **values)
            )
            return isinstance(result, CursorResult) and result.rowcount == 1

    def set(self, request_id: int, now: datetime, **values: object) -> None:
        with self.factory() as session, session.begin():
            session.execute(
                update(QueueCallbackRow)
                .where(QueueCallbackRow.id == request_id)
                .values(updated_at=now, **values)
            )

    def live(self) -> Sequence[QueueCallbackRow]:
        with self.factory() as session:
            return session.scalars(select(QueueCallbackRow).where(QueueCallbackRow.state.in_(LIVE))).all()

    def cancelled_in_queue(self) -> Sequence[QueueCallbackRow]:
        """Requests no longer owed whose placeholder still waits in a queue (it must leave)."""
        with self.factory() as session:
            return session.scalars(
                select(QueueCallbackRow).where(
                    QueueCallbackRow.state == "cancelled", QueueCallbackRow.placeholder.is_not(None)
                )
            ).all()

    # ---- attempts -------------------------------------------------------------------------------------
    def attempt_started(self, request_id: int, attempt: int, agent: str | None, now: datetime) -> int:
        with self.factory() as session, session.begin():
            row = CallbackAttemptRow(
                request_id=request_id, attempt=attempt, started_at=now, agent=agent or None, result=""
            )
            session.add(row)
            session.flush()
            return row.id

    def attempt_ended(
        self, attempt_id: int, result: str, now: datetime, *, dial_status: str = "", cause: int | None = None
    ) -> None:
        with self.factory() as session, session.begin():
            row = session.get(CallbackAttemptRow, attempt_id)
            if row is not None and row.ended_at is None:
                row.ended_at = now
                row.result = result
                row.dial_status = dial_status
                row.hangup_cause = cause

    def attempts(self, request_id: int) -> Sequence[CallbackAttemptRow]:
        with self.factory() as session:
            return session.scalars(
                select(CallbackAttemptRow)
                .where(CallbackAttemptRow.request_id == request_id)
                .order_by(CallbackAttemptRow.attempt, CallbackAttemptRow.id)
            ).all()
