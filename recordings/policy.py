"""Recording consent: a per-queue switch and the caller's own choice, decided before MixMonitor starts.

Telephony calls ``RecordingPolicyService.decide_for_call`` when a call enters a queue, passing the channel
variable ``HOTLINE_RECORDING`` that the IVR sets ("no" when the caller declined), and starts MixMonitor
only when the decision says ``record``. The IVR asks ``queue_policy`` whether to play the announcement
and whether to offer the caller a choice. Every decision is stored as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kernel.clock import Clock
from recordings.orm import QueueRecordingPolicy, RecordingDecision

CALLER_CHOICE_VARIABLE = "HOTLINE_RECORDING"

ANNOUNCEMENT = {
    "zh-CN": "为了提高服务质量，您的通话将被录音。",
    "en": "To improve our service, this call will be recorded.",
}
DECLINE_OFFER = {
    "zh-CN": "如您不同意录音，请按9。",
    "en": "If you do not agree to the recording, press 9.",
}

_DECLINED = {"no", "n", "0", "false", "off", "decline", "declined"}
_AGREED = {"yes", "y", "1", "true", "on", "agree", "agreed"}


@dataclass(frozen=True)
class QueuePolicy:
    queue: str
    record: bool = True
    announce: bool = True
    caller_may_decline: bool = False


@dataclass(frozen=True)
class Decision:
    record: bool
    announce: bool
    reason: str  # default | queue_off | caller_declined | caller_agreed


def decide(policy: QueuePolicy, caller_choice: str | None) -> Decision:
    """Pure rule: a queue switched off never records; a caller who said no is never recorded (whether or
    not the queue offered the choice); otherwise the call is recorded."""
    choice = (caller_choice or "").strip().lower()
    if not policy.record:
        return Decision(False, False, "queue_off")
    if choice in _DECLINED:
        return Decision(False, policy.announce, "caller_declined")
    if choice in _AGREED:
        return Decision(True, policy.announce, "caller_agreed")
    return Decision(True, policy.announce, "default")


class RecordingPolicyService:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self.session_factory = session_factory
        self.clock = clock

    def set_queue_policy(self, policy: QueuePolicy) -> QueuePolicy:
        with self.session_factory() as session, session.begin():
            row = session.get(QueueRecordingPolicy, policy.queue)
            if row is None:
                row = QueueRecordingPolicy(queue=policy.queue)
                session.add(row)
            row.record, row.announce = policy.record, policy.announce
            row.caller_may_decline = policy.caller_may_decline
            row.updated_at = self.clock.now()
        return policy

    def queue_policy(self, queue: str | None) -> QueuePolicy:
        """The queue's policy; a queue nobody configured records and announces."""
        if not queue:
            return QueuePolicy(queue="")
        with self.session_factory() as session:
            row = session.get(QueueRecordingPolicy, queue)
            if row is None:
                return QueuePolicy(queue=queue)
            return QueuePolicy(row.queue, row.record, row.announce, row.caller_may_decline)

    def decide_for_call(self, call_id: str, queue: str | None, caller_choice: str | None) -> Decision:
        """Decide once per call; asking again returns the stored decision."""
        existing = self.decision_for(call_id)
        if existing is not None:
            return existing
        decision = decide(self.queue_policy(queue), caller_choice)
        try:
            with self.session_factory() as session, session.begin():
                session.add(
                    RecordingDecision(
                        call_id=call_id,
                        queue=queue,
                        record=decision.record,
                        announce=decision.announce,
                        reason=decision.reason,
                        caller_choice=caller_choice,
                        decided_at=self.clock.now(),
                    )
                )
        except IntegrityError:  # decided concurrently by another worker: theirs stands
            stored = self.decision_for(call_id)
            assert stored is not None
            return stored
        return decision

    def decision_for(self, call_id: str) -> Decision | None:
        with self.session_factory() as session:
            row = session.scalar(select(RecordingDecision).where(RecordingDecision.call_id == call_id))
            return None if row is None else Decision(row.record, row.announce, row.reason)
