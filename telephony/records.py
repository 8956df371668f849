"""Call records from ARI events: every call, every leg, queue wait, agent, outcome; the screen pop.

The recorder listens with ``subscribeAll=true``, so queue calls need not enter Stasis: a caller's channel
is recognised by its dialplan context at creation (``hotline-inbound``, the citizens' endpoint); app_queue
publishes ``Dial`` events for every agent it rings (``dialstatus`` ANSWER when one answers); the dialplan
sends ``HotlineQueueJoin`` user events with the IVR's choices (extensions.conf.j2). Times are Asterisk's
own event timestamps. After a reconnection ``reconcile`` closes the calls that no longer exist.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.engine import ORDER_VARIABLE, ROUTE_VARIABLE
from kernel import metrics
from kernel.bus import EventBus
from telephony.config import DEFAULT_QUEUES, QueueSpec
from telephony.events import CallAnswered, CallEnded, PreviousCall, WorkOrderSummary
from telephony.missed_calls import QueueCallbackPolicy, note_answered, note_missed_call
from telephony.orm import CallLegRow, CallRow, CallWorkOrderRow

log = logging.getLogger(__name__)

INBOUND_CONTEXTS = frozenset({"hotline-inbound", "hotline-ivr", "hotline-direct"})
PREVIOUS_CALLS_SHOWN = 5
WORK_ORDERS_SHOWN = 10


def event_time(event: dict[str, Any]) -> datetime:
    stamp = event.get("timestamp")
    return datetime.fromisoformat(stamp) if stamp else datetime.now(UTC)


def agent_of(channel_name: str) -> str | None:
    """``PJSIP/agent1001-0000002a`` -> ``agent1001`` (agents' endpoints are named after their username)."""
    if not channel_name.startswith("PJSIP/"):
        return None
    return channel_name[len("PJSIP/") :].rsplit("-", 1)[0] or None


def caller_history(session: Session, number: str, *, exclude: str) -> tuple[PreviousCall, ...]:
    rows = session.scalars(
        select(CallRow)
        .where(CallRow.caller_number == number, CallRow.call_id != exclude)
        .order_by(CallRow.started_at.desc())
        .limit(PREVIOUS_CALLS_SHOWN)
    )
    return tuple(PreviousCall(r.call_id, r.started_at, r.outcome, r.agent, r.queue) for r in rows)


def work_orders_of(session: Session, number: str) -> tuple[WorkOrderSummary, ...]:
    """The caller's work orders for the screen pop: those filed under their number (routing stores it in
    national form, 13812345678, while a caller id may read +8613812345678) and those linked to any of their
    earlier calls (an order filed under another contact number)."""
    from routing.commands import normalize_phone
    from routing.orm import work_orders

    try:
        phone = normalize_phone(number)
    except ValueError:
        phone = number
    linked = (
        select(CallWorkOrderRow.work_order_number)
        .join(CallRow, CallRow.call_id == CallWorkOrderRow.call_id)
        .where(CallRow.caller_number == number)
    )
    rows = session.execute(
        select(work_orders.c.number, work_orders.c.title, work_orders.c.state, work_orders.c.accepted_at)
        .where(or_(work_orders.c.citizen_phone == phone, work_orders.c.number.in_(linked)))
        .order_by(work_orders.c.accepted_at.desc())
        .limit(WORK_ORDERS_SHOWN)
    )
    return tuple(
        WorkOrderSummary(r.number, r.title, str(getattr(r.state, "value", r.state)), r.accepted_at)
        for r in rows
    )


def wrapup_of(queues: Sequence[QueueSpec]) -> dict[str, float]:
    return {q.name: float(q.wrapup_seconds) for q in queues}


class CallRecorder:
    """``wrapup``: each queue's wrapuptime (queues.conf), told to the desk when an agent's call ends.
    ``callbacks``: the policy of missed-call callbacks (telephony/missed_calls.py): a call that ends missed
    leaves a callback request in the transaction that closes it."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        bus: EventBus,
        *,
        wrapup: Mapping[str, float] | None = None,
        callbacks: QueueCallbackPolicy | None = None,
    ) -> None:
        self.factory = factory
        self.bus = bus
        self.wrapup = dict(wrapup_of(DEFAULT_QUEUES) if wrapup is None else wrapup)
        self.callbacks = callbacks or QueueCallbackPolicy()

    async def handle(self, event: dict[str, Any]) -> None:
        self.handle_event(event)

    def handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        handler = {
            "ChannelCreated": self._created,
            "ChannelUserevent": self._userevent,
            "Dial": self._dial,
            "ChannelDestroyed": self._destroyed,
            "StasisStart": self._stasis_start,
            "ChannelVarset": self._varset,
            "ChannelStateChange": self._state_change,
        }.get(str(kind))
        if handler:
            handler(event, event_time(event))

    # ---- handlers -----------------------------------------------------------------------------------
    def _created(self, event: dict[str, Any], now: datetime) -> None:
        channel = event["channel"]
        if channel.get("dialplan", {}).get("context") not in INBOUND_CONTEXTS:
            return
        number = channel.get("caller", {}).get("number", "")
        with self.factory() as session, session.begin():
            if session.scalar(select(CallRow).where(CallRow.call_id == channel["id"])):
                return
            if session.scalar(select(CallLegRow.id).where(CallLegRow.channel_id == channel["id"])):
                return  # a leg the hotline placed itself (transfers)
            session.add(
                CallRow(
                    call_id=channel["id"],
                    caller_number=number,
                    dialed=channel.get("dialplan", {}).get("exten", ""),
                    started_at=now,
                )
            )
            session.flush()
            session.add(
                CallLegRow(
                    call_id=channel["id"],
                    channel_id=channel["id"],
                    channel_name=channel["name"],
                    role="caller",
                    number=number,
                    created_at=now,
                    answered_at=now if channel.get("state") == "Up" else None,
                )
            )

    def _userevent(self, event: dict[str, Any], now: datetime) -> None:
        name = event.get("eventname")
        fields = event.get("userevent", {})
        channel_id = event.get("channel", {}).get("id")
        with self.factory() as session, session.begin():
            call = session.scalar(select(CallRow).where(CallRow.call_id == channel_id))
            if call is None:
                return
            if name == "HotlineQueueJoin":
                call.queue = fields.get("queue") or call.queue
                call.queued_at = call.queued_at or now
                call.priority = int(fields.get("priority") or 0)
                call.ivr_choices = unquote(fields.get("choices", ""))  # URIENCODE()d by the dialplan
                call.language = fields.get("lang", "")
                recording = fields.get("recording", "")
                call.recording = f"{recording}.wav" if recording else None
            elif name == "HotlineCallback":
                call.outcome = "callback_requested"

    def _state_change(self, event: dict[str, Any], now: datetime) -> None:
        # The caller's channel is answered by the dialplan (Answer()) just after it is created.
        channel = event.get("channel", {})
        if channel.get("state") != "Up":
            return
        with self.factory() as session, session.begin():
            leg = session.scalar(select(CallLegRow).where(CallLegRow.channel_id == channel.get("id")))
            # Only the caller's: an agent's leg counts as answered on app_queue's Dial ANSWER (screen pop).
            if leg is not None and leg.role == "caller" and leg.answered_at is None:
                leg.answered_at = now

    def _varset(self, event: dict[str, Any], now: datetime) -> None:
        # "Query my work order": the IVR sets HOTLINE_ORDER_QUERIED on the caller's channel once it found
        # the order, so the call is linked to the order the citizen called about. HOTLINE_ROUTE: the IVR is
        # done (a caller who hangs up before that abandoned the call in the IVR).
        channel_id = event.get("channel", {}).get("id")
        if event.get("variable") == ROUTE_VARIABLE and event.get("value"):
            with self.factory() as session, session.begin():
                call = session.scalar(select(CallRow).where(CallRow.call_id == channel_id))
                if call is not None:
                    call.ivr_route = str(event["value"])[:24]
            return
        if event.get("variable") != ORDER_VARIABLE or not event.get("value"):
            return
        with self.factory() as session:
            known = session.scalar(select(CallRow.call_id).where(CallRow.call_id == channel_id))
        if known:
            self.link_work_order(known, str(event["value"]))

    def _dial(self, event: dict[str, Any], now: datetime) -> None:
        caller, peer = event.get("caller"), event.get("peer")
        if not caller or not peer:
            return
        status = event.get("dialstatus", "")
        answered: CallAnswered | None = None
        with self.factory() as session, session.begin():
            call = session.scalar(select(CallRow).where(CallRow.call_id == caller["id"]))
            if call is None:
                return
            leg = session.scalar(select(CallLegRow).where(CallLegRow.channel_id == peer["id"]))
            agent = agent_of(peer["name"])
            if leg is None:
                leg = CallLegRow(
                    call_id=call.call_id,
                    channel_id=peer["id"],
                    channel_name=peer["name"],
                    role="agent" if agent else "transfer",
                    agent=agent,
                    created_at=now,
                )
                session.add(leg)
            if status:
                leg.dial_status = status
            if status == "ANSWER" and leg.answered_at is None:
                leg.answered_at = now
                if call.answered_at is None:
                    call.answered_at = now
                    call.agent = agent
                    call.outcome = "in_progress"
                    note_answered(session, call.caller_number, now)  # a missed-call callback is moot
                    since = call.queued_at or call.started_at
                    call.queue_wait_seconds = (now - since).total_seconds()
                    metrics.CALLS_ANSWERED.labels(call.queue or "").inc()
                    metrics.QUEUE_WAIT.observe(call.queue_wait_seconds)
                    answered = self._screen_pop(session, call, agent or peer["name"], now)
                elif agent:  # a transferred call reached another agent: their desk gets the pop too
                    answered = self._screen_pop(session, call, agent, now)
        if answered:
            self.bus.publish(answered)

    @staticmethod
    def _screen_pop(session: Session, call: CallRow, agent: str, now: datetime) -> CallAnswered:
        return CallAnswered(
            call_id=call.call_id,
            caller_number=call.caller_number,
            agent=agent,
            queue=call.queue,
            ivr_choices=tuple(c for c in call.ivr_choices.split(",") if c),
            previous_calls=caller_history(session, call.caller_number, exclude=call.call_id),
            work_orders=work_orders_of(session, call.caller_number),
            answered_at=now,
        )

    # ---- legs that ARI originates (transfers, three-way calls): no Dial event names their call -----------
    def record_leg(
        self,
        call_id: str,
        *,
        channel_id: str,
        channel_name: str,
        role: str,
        agent: str | None,
        number: str,
        now: datetime,
    ) -> None:
        with self.factory() as session, session.begin():
            session.add(
                CallLegRow(
                    call_id=call_id,
                    channel_id=channel_id,
                    channel_name=channel_name,
                    role=role,
                    agent=agent,
                    number=number,
                    created_at=now,
                )
            )

    def leg_answered(self, channel_id: str, now: datetime) -> None:
        """The leg answered; an agent's leg gets the screen pop."""
        answered: CallAnswered | None = None
        with self.factory() as session, session.begin():
            leg = session.scalar(select(CallLegRow).where(CallLegRow.channel_id == channel_id))
            if leg is None or leg.answered_at is not None:
                return
            leg.answered_at = now
            leg.dial_status = "ANSWER"
            call = session.scalar(select(CallRow).where(CallRow.call_id == leg.call_id))
            if call is not None and leg.agent:
                answered = self._screen_pop(session, call, leg.agent, now)
        if answered:
            self.bus.publish(answered)

    def leg_ended(self, channel_id: str, now: datetime, cause: str) -> None:
        with self.factory() as session, session.begin():
            leg = session.scalar(select(CallLegRow).where(CallLegRow.channel_id == channel_id))
            if leg is not None and leg.ended_at is None:
                leg.ended_at = now
                leg.hangup_cause = cause

    def _stasis_start(self, event: dict[str, Any], now: datetime) -> None:
        # A caller who chose a callback enters Stasis(hotline,callback,<queue>): they keep their place.
        args = event.get("args", [])
        if args[:1] != ["callback"]:
            return
        with self.factory() as session, session.begin():
            call = session.scalar(select(CallRow).where(CallRow.call_id == event["channel"]["id"]))
            if call is not None:
                call.outcome = "callback_requested"
                call.queue = args[1] if len(args) > 1 else call.queue
                call.queued_at = call.queued_at or now

    def _destroyed(self, event: dict[str, Any], now: datetime) -> None:
        channel = event["channel"]
        cause = event.get("cause_txt", "")
        ended: CallEnded | None = None
        with self.factory() as session, session.begin():
            leg = session.scalar(select(CallLegRow).where(CallLegRow.channel_id == channel["id"]))
            if leg is None:
                return
            leg.ended_at = now
            leg.hangup_cause = cause
            if leg.role == "caller":
                call = session.scalar(select(CallRow).where(CallRow.call_id == leg.call_id))
                if call is not None:
                    ended = self._close(session, call, now, cause)
                    if call.agent and call.queue in self.wrapup:
                        ended = replace(ended, wrapup_seconds=self.wrapup[call.queue])
        if ended:
            self.bus.publish(ended)

    def _close(self, session: Session, call: CallRow, now: datetime, cause: str) -> CallEnded:
        call.ended_at = now
        call.hangup_cause = cause
        if call.answered_at is not None:
            call.outcome = "answered"
            call.talk_seconds = (now - call.answered_at).total_seconds()
        elif call.outcome != "callback_requested":
            # abandoned (queue) or ivr_abandoned, and the callback it is owed; else the IVR served it
            call.outcome = "ivr_only"
            note_missed_call(session, call, now, self.callbacks)
        metrics.CALLS_ENDED.labels(call.outcome).inc()
        return CallEnded(call.call_id, call.caller_number, call.outcome, call.agent, now)

    # ---- after a (re)connection ---------------------------------------------------------------------
    def reconcile(self, live_channel_ids: set[str], now: datetime) -> list[str]:
        """Close the calls and legs whose channels are gone (e.g. Asterisk restarted); returns closed ids."""
        closed: list[str] = []
        with self.factory() as session, session.begin():
            for leg in session.scalars(select(CallLegRow).where(CallLegRow.ended_at.is_(None))):
                if leg.channel_id in live_channel_ids:
                    continue
                leg.ended_at = now
                leg.hangup_cause = "lost: channel gone after reconnect"
                if leg.role == "caller":
                    call = session.scalar(select(CallRow).where(CallRow.call_id == leg.call_id))
                    if call is not None and call.ended_at is None:
                        self._close(session, call, now, leg.hangup_cause)  # lost calls are missed too
                        closed.append(call.call_id)
        return closed

    def link_work_order(self, call_id: str, work_order_number: str) -> None:
        link_call_work_order(self.factory, call_id, work_order_number)


def link_call_work_order(factory: sessionmaker[Session], call_id: str, work_order_number: str) -> None:
    """Record that a work order was taken during (or is about) a call; idempotent."""
    with factory() as session, session.begin():
        exists = session.scalar(
            select(CallWorkOrderRow).where(
                CallWorkOrderRow.call_id == call_id,
                CallWorkOrderRow.work_order_number == work_order_number,
            )
        )
        if exists is None:
            session.add(CallWorkOrderRow(call_id=call_id, work_order_number=work_order_number))
