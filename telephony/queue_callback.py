"""Callbacks (电话回拨): a waiting caller asks to be called back and keeps their place; a missed call is called back.

The request: a caller waiting in a queue presses ``*`` (queues.conf ``context=hotline-queue-exit``; app_queue
leaves ``QUEUEPOSITION`` set), or takes the IVR's callback offer at night (route ``callback``). Either way the
channel enters our ARI application with ``callback-request,<queue>,<position>,<priority>,<queue|ivr>``; the
request is stored (``tel_queue_callbacks``), the caller hears a confirmation and is hung up. A call abandoned
in the IVR or a queue is stored the same way by the call recorder (telephony/missed_calls.py), and called back
the same way.

Keeping the place: a **placeholder** — a Local channel (``[hotline-callback-place]``) — waits in app_queue
for the citizen, entered at the position they left (Queue()'s ``position`` argument) with their priority and
number. So app_queue itself, with its strategy, penalties, wrap-up times and the urgent queue's weight,
decides when this citizen's turn comes: not before the callers who were ahead of them, before everyone who
came later. No polling of agent states, no race with app_queue for a free agent.

Agent first, then the citizen. When app_queue connects an agent to the placeholder, its ;1 half enters our
application (``StasisStart``); we then dial the citizen and bridge the two. Chosen over "citizen first" because
(1) the agent is already reserved by app_queue, so the citizen never answers only to wait in a queue again —
they were promised a call, not another wait; (2) the agent's desk shows the caller (the placeholder carries
the citizen's number) before the citizen's phone rings; (3) dialling the citizen first would race app_queue
for the agent. The cost: an agent rings out ``ring_seconds`` when the citizen does not answer.

Retries: the citizen does not answer, is busy or cannot be reached → the agent is released and the request
waits ``retry_after``, then a placeholder goes in again at the head of the queue (they had their turn), up
to ``max_attempts`` calls; then the request goes to the agents' manual list. Callbacks are placed only inside
the calling windows, local time, never on a public holiday (a request at night is called back in the
morning). Every call is a row of ``tel_callback_attempts``. A request no longer owed (the citizen got through
on a later call) leaves the queue: its placeholder is hung up.

After a restart of Asterisk or of this process, ``reconcile`` puts back every request whose placeholder is
gone: it waits again, its place in the new queue being at the head.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from kernel.clock import Clock
from telephony.ari import AriError, Event
from telephony.callback_store import QueueCallbackStore
from telephony.missed_calls import QueueCallbackPolicy
from telephony.orm import QueueCallbackRow
from telephony.outbound import CallStatus, DialPlan, OutboundAri, status_of

log = logging.getLogger(__name__)

PLACE_CONTEXT = "hotline-callback-place"
CONFIRM_SOUND = "sound:beep"  # replaced by a recorded confirmation where one is installed


def _int(text: str) -> int | None:
    return int(text) if text.strip().lstrip("-").isdigit() else None


class QueueCallbacks:
    def __init__(
        self,
        ari: OutboundAri,
        store: QueueCallbackStore,
        clock: Clock,
        *,
        plan: DialPlan | None = None,
        policy: QueueCallbackPolicy | None = None,
        confirm_sound: str = CONFIRM_SOUND,
    ) -> None:
        self.ari = ari
        self.store = store
        self.clock = clock
        self.plan = plan or DialPlan()
        self.policy = policy or QueueCallbackPolicy()
        self.confirm_sound = confirm_sound
        self._holding: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        ari.on_stasis("callback-request", self._on_request)
        ari.on_reconnected(self.reconcile)

    # ---- the request ----------------------------------------------------------------------------------
    async def _on_request(self, event: Event) -> None:
        channel = event["channel"]
        args = [*event.get("args", []), "", "", "", ""]
        queue = args[1] or "consultation"
        # The IVR's offer (night) or * while waiting; an IVR request waits at the head of the queue.
        source = "ivr" if args[4] == "ivr" or (not args[4] and not args[2]) else "queue"
        phone = str((channel.get("caller") or {}).get("number") or "")
        language = await self.ari.client.get_variable(channel["id"], "HOTLINE_LANG") or "zh"
        if not phone:
            log.warning("callback request on %s without a caller number; refused", channel["id"])
            await self.ari.client.hangup(channel["id"])
            return
        now = self.clock.now()
        request_id = await asyncio.to_thread(
            self.store.add,
            call_id=str(channel["id"]),
            phone=phone,
            queue=queue,
            priority=_int(args[3]) or 0,
            position=_int(args[2]) or (1 if source == "ivr" else None),
            language=language if language in ("zh", "en") else "zh",
            now=now,
            source=source,
            due_by=self.policy.due_by(now),
            next_attempt_at=self.policy.first_call(now),
        )
        log.info("callback request %s (%s) in %s at position %s", request_id, source, queue, args[2] or "-")
        await self._confirm_and_hang_up(str(channel["id"]))
        self._wake.set()

    async def _confirm_and_hang_up(self, channel_id: str) -> None:
        with self.ari.watch(channel_id) as events:
            try:
                await self.ari.play(channel_id, self.confirm_sound)
                while True:  # until the confirmation has played (or the caller hung up)
                    event = await asyncio.wait_for(events.get(), 15)
                    if event.get("type") in ("PlaybackFinished", "ChannelDestroyed", "StasisEnd"):
                        break
            except (AriError, TimeoutError) as exc:
                log.info("callback confirmation on %s cut short: %s", channel_id, exc)
            await self.ari.client.hangup(channel_id)

    # ---- the loop: placeholders for due requests ------------------------------------------------------
    async def run_once(self) -> int:
        """Put a placeholder in the queue for every due request; returns how many were placed."""
        now = self.clock.now()
        for row in await asyncio.to_thread(self.store.cancelled_in_queue):
            # No longer owed (the citizen got through meanwhile): its placeholder leaves the queue.
            if row.placeholder:
                await self.ari.client.hangup(row.placeholder)
            await asyncio.to_thread(self.store.set, row.id, now, placeholder=None)
        if not self.policy.open_at(now):
            return 0
        placed = 0
        for row in await asyncio.to_thread(self.store.due, now):
            placeholder = f"qcb{row.id}x{row.attempts + 1}"
            if not await asyncio.to_thread(self.store.claim, row.id, placeholder, now):
                continue
            task = asyncio.create_task(self._hold(row, placeholder), name=placeholder)
            self._holding[row.id] = task
            task.add_done_callback(self._forget)
            placed += 1
        return placed

    def _forget(self, task: asyncio.Task[None]) -> None:
        for request_id, held in list(self._holding.items()):
            if held is task:
                del self._holding[request_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("queue callback failed", exc_info=task.exception())

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 5.0) -> None:
        await self.reconcile()
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("queue callback round failed")
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        for task in list(self._holding.values()):
            task.cancel()

    async def reconcile(self) -> None:
        """Requests whose placeholder no longer exists (a restart) wait again, at the head of the queue."""
        try:
            live = {c["id"] for c in await self.ari.client.channels()}
        except Exception as exc:
            log.info("queue callbacks not reconciled yet: %s", exc)
            return
        now = self.clock.now()
        for row in await asyncio.to_thread(self.store.live):
            if row.id in self._holding or (row.placeholder and row.placeholder in live):
                continue
            log.warning("callback %s lost its placeholder %s; waiting again", row.id, row.placeholder)
            await asyncio.to_thread(
                self.store.set,
                row.id,
                now,
                state="waiting",
                position=1,
                next_attempt_at=now,
                placeholder=None,
            )
        self._wake.set()

    # ---- one placement: wait for an agent, then call the citizen ---------------------------------------
    async def _hold(self, row: QueueCallbackRow, placeholder: str) -> None:
        queue_side = f"{placeholder}q"
        with self.ari.watch(placeholder) as events:
            try:
                await self.ari.originate(
                    # /n: no Local channel optimisation, else Asterisk would swap the agent into our bridge
                    # and destroy the placeholder, which would read as the agent hanging up.
                    f"Local/s@{PLACE_CONTEXT}/n",
                    channel_id=placeholder,
                    other_channel_id=queue_side,
                    app_args=f"callback-agent,{row.id}",
                    caller_id=row.phone,
                    variables={
                        "HOTLINE_QUEUE": row.queue,
                        # empty: behind the callers waiting now (a missed call); 1: at the head
                        "HOTLINE_POSITION": str(row.position or ""),
                        "HOTLINE_PRIORITY": str(row.priority),
                        "HOTLINE_CITIZEN": row.phone,
                        "HOTLINE_CALLBACK": str(row.id),
                    },
                    ring_seconds=-1,  # as long as the queue takes
                )
            except AriError as exc:
                log.warning("callback %s: placeholder not placed: %s", row.id, exc)
                await self._retry(row, "failed", count=False)
                return
            while True:
                event = await events.get()
                kind = event.get("type")
                if kind == "StasisStart":  # app_queue bridged an agent to the placeholder
                    agent = await self.ari.client.get_variable(queue_side, "MEMBERNAME") or ""
                    if not await asyncio.to_thread(self.store.connect, row.id, agent, self.clock.now()):
                        log.info("callback %s no longer owed; agent %s released", row.id, agent)
                        await self.ari.client.hangup(placeholder)
                        await asyncio.to_thread(self.store.set, row.id, self.clock.now(), placeholder=None)
                        return
                    await self._connect(row, placeholder, agent)
                    return
                if kind == "ChannelDestroyed":  # left the queue without an agent (removed, timed out)
                    await self._retry(row, "placeholder_gone", count=False)
                    return

    async def _connect(self, row: QueueCallbackRow, placeholder: str, agent: str) -> None:
        attempt = row.attempts + 1
        tried = await asyncio.to_thread(self.store.attempt_started, row.id, attempt, agent, self.clock.now())
        citizen = f"qcbc{row.id}x{attempt}"
        bridge = await self.ari.client.create_bridge("mixing", f"callback-{row.id}")
        answered = False
        dial_status, cause = "", None
        try:
            await self.ari.client.add_to_bridge(bridge, placeholder)
            await self.ari.ring(placeholder)  # the agent hears ringback while the citizen's phone rings
            with self.ari.watch(citizen, placeholder) as events:  # the placeholder's events now come here
                try:
                    await self.ari.originate(
                        self.plan.endpoint(row.phone),
                        channel_id=citizen,
                        app_args=f"callback-citizen,{row.id}",
                        caller_id=self.plan.caller_id,
                        ring_seconds=self.plan.ring_seconds,
                    )
                except AriError as exc:
                    log.warning("callback %s: citizen not dialled: %s", row.id, exc)
                    await self.ari.client.hangup(placeholder)
                    await self._ended(tried, "failed")
                    await self._retry(row, "failed", count=True)
                    return
                while True:
                    event = await events.get()
                    kind, who = event.get("type"), _channel(event)
                    if kind == "Dial" and who == citizen and event.get("dialstatus"):
                        dial_status = str(event["dialstatus"])
                    elif kind == "StasisStart" and who == citizen:
                        answered = True
                        await self.ari.ring(placeholder, on=False)
                        await self.ari.client.add_to_bridge(bridge, citizen)
                        now = self.clock.now()
                        await asyncio.to_thread(
                            self.store.set,
                            row.id,
                            now,
                            state="done",
                            attempts=attempt,
                            connected_at=now,
                            last_result="connected",
                            placeholder=None,
                        )
                        await self._ended(tried, "connected", dial_status="ANSWER")
                        log.info("callback %s: agent %s connected to the citizen", row.id, agent)
                    elif kind == "ChannelDestroyed" and who == citizen:
                        cause = _cause(event)
                        await self.ari.client.hangup(placeholder)
                        break
                    elif kind == "ChannelDestroyed" and who == placeholder:
                        await self.ari.client.hangup(citizen)
                        if not answered:  # the agent gave up before the citizen answered: not their fault
                            await self._ended(tried, "agent_hung_up", dial_status=dial_status)
                            await self._retry(row, "agent_hung_up", count=False)
                        return
        finally:
            await self.ari.client.destroy_bridge(bridge)
        if not answered:
            status = status_of(dial_status, cause)
            await self._ended(tried, str(status), dial_status=dial_status, cause=cause)
            await self._retry(row, str(status), count=True)

    async def _ended(
        self, attempt_id: int, result: str, *, dial_status: str = "", cause: int | None = None
    ) -> None:
        await asyncio.to_thread(
            self.store.attempt_ended,
            attempt_id,
            result,
            self.clock.now(),
            dial_status=dial_status,
            cause=cause,
        )

    async def _retry(self, row: QueueCallbackRow, result: str, *, count: bool) -> None:
        fresh = await asyncio.to_thread(self.store.get, row.id)
        now = self.clock.now()
        if fresh is not None and fresh.state == "cancelled":  # no longer owed: nothing to try again
            await asyncio.to_thread(self.store.set, row.id, now, placeholder=None)
            return
        attempts = (fresh.attempts if fresh else row.attempts) + (1 if count else 0)
        if count and attempts >= self.policy.max_attempts:
            log.info("callback %s: %s after %d calls; to the manual list", row.id, result, attempts)
            await asyncio.to_thread(
                self.store.set,
                row.id,
                now,
                state="manual",
                attempts=attempts,
                last_result=result,
                placeholder=None,
            )
            return
        delay = self.policy.retry_after if count else timedelta(0)
        await asyncio.to_thread(
            self.store.set,
            row.id,
            now,
            state="waiting",
            attempts=attempts,
            last_result=result,
            position=1,  # they had their turn: next time at the head of the queue
            next_attempt_at=self.policy.first_call(now + delay),
            placeholder=None,
        )
        if not count:
            self._wake.set()


def _channel(event: Event) -> str | None:
    if event.get("type") == "Dial":
        return str((event.get("peer") or {}).get("id") or "") or None
    return str((event.get("channel") or {}).get("id") or "") or None


def _cause(event: Event) -> int | None:
    try:
        return int(event.get("cause"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


__all__ = ["CallStatus", "QueueCallbackPolicy", "QueueCallbackStore", "QueueCallbacks"]
