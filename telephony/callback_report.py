"""What supervisors see of callbacks (漏接电话回拨): the missed calls of a period, the callbacks owed, each call
made and how it ended, and the share called back — within the promised time, and at all.

A read model owned by telephony (its tables); the desk shows it through a port (agent_ui/ports.py
``CallbackReports``), as a page and as JSON, in the same shape (:meth:`CallbackReports.report`).

- ``missed_calls``: calls of the period that ended abandoned in a queue or in the IVR;
- ``owed``: the callbacks those missed calls made owed (several misses of one number make one), less the
  citizens who got through on a later call (``got_through``) — the hotline owed them nothing more;
- ``called_back`` / ``in_time``: of those, connected to an agent, and connected by ``due_by``;
- ``share_called_back`` / ``share_in_time``: ``called_back / owed`` and ``in_time / owed`` (None with none owed).
Callbacks the citizen asked for (* in the queue, the IVR's night offer) are counted apart (``requested``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kernel.clock import Clock
from telephony.missed_calls import MISSED_SOURCES, OWED
from telephony.orm import CallbackAttemptRow, CallRow, QueueCallbackRow

MISSED_OUTCOMES = ("abandoned", "ivr_abandoned")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class CallbackReports:
    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self.factory = factory
        self.clock = clock

    def report(self, since: datetime, until: datetime, *, limit: int = 100) -> dict[str, Any]:
        now = self.clock.now()
        with self.factory() as session:
            missed_calls = dict(
                session.execute(
                    select(CallRow.outcome, func.count())
                    .where(
                        CallRow.outcome.in_(MISSED_OUTCOMES),
                        CallRow.started_at >= since,
                        CallRow.started_at < until,
                    )
                    .group_by(CallRow.outcome)
                )
                .tuples()
                .all()
            )
            rows = session.scalars(
                select(QueueCallbackRow)
                .where(QueueCallbackRow.requested_at >= since, QueueCallbackRow.requested_at < until)
                .order_by(QueueCallbackRow.requested_at.desc(), QueueCallbackRow.id.desc())
            ).all()
            tries = self._attempts(session, [r.id for r in rows[:limit]])
        summary = self._summary(rows, now)
        summary["missed_calls"] = sum(missed_calls.values())
        summary["missed_in_queue"] = missed_calls.get("abandoned", 0)
        summary["missed_in_ivr"] = missed_calls.get("ivr_abandoned", 0)
        return {
            "since": since,
            "until": until,
            "now": now,
            "summary": summary,
            "callbacks": [self._row(r, now, tries.get(r.id, [])) for r in rows[:limit]],
        }

    @staticmethod
    def _summary(rows: Sequence[QueueCallbackRow], now: datetime) -> dict[str, Any]:
        missed = [r for r in rows if r.source in MISSED_SOURCES]
        got_through = [r for r in missed if r.state == "cancelled" and r.last_result == "answered_inbound"]
        owed = len(missed) - len(got_through)
        done = [r for r in missed if r.state == "done"]
        in_time = [r for r in done if r.connected_at and r.due_by and r.connected_at <= r.due_by]
        pending = [r for r in rows if r.state in OWED]
        return {
            "owed": owed,
            "called_back": len(done),
            "in_time": len(in_time),
            "got_through": len(got_through),
            "share_called_back": _share(len(done), owed),
            "share_in_time": _share(len(in_time), owed),
            "requested": len(rows) - len(missed),
            "requested_done": sum(1 for r in rows if r.source not in MISSED_SOURCES and r.state == "done"),
            "pending": len(pending),
            "overdue": sum(1 for r in pending if r.due_by is not None and r.due_by < now),
            "manual": sum(1 for r in rows if r.state == "manual"),
            "attempts": sum(r.attempts for r in rows),
        }

    @staticmethod
    def _attempts(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        if not ids:
            return found
        for a in session.scalars(
            select(CallbackAttemptRow)
            .where(CallbackAttemptRow.request_id.in_(ids))
            .order_by(CallbackAttemptRow.request_id, CallbackAttemptRow.attempt, CallbackAttemptRow.id)
        ):
            found.setdefault(a.request_id, []).append(
                {
                    "attempt": a.attempt,
                    "started_at": a.started_at,
                    "ended_at": a.ended_at,
                    "agent": a.agent,
                    "result": a.result or "in_progress",
                    "dial_status": a.dial_status,
                    "hangup_cause": a.hangup_cause,
                }
            )
        return found

    @staticmethod
    def _row(row: QueueCallbackRow, now: datetime, tries: list[dict[str, Any]]) -> dict[str, Any]:
        in_time = None
        if row.connected_at is not None and row.due_by is not None:
            in_time = row.connected_at <= row.due_by
        return {
            "id": row.id,
            "call_id": row.call_id,
            "source": row.source,
            "phone": row.phone,
            "queue": row.queue,
            "requested_at": row.requested_at,
            "due_by": row.due_by,
            "state": row.state,
            "attempts": row.attempts,
            "missed_calls": row.missed_calls,
            "last_result": row.last_result,
            "agent": row.agent,
            "connected_at": row.connected_at,
            "in_time": in_time,
            "overdue": row.state in OWED and row.due_by is not None and row.due_by < now,
            "tries": tries,
        }
