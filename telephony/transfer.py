"""Transfers and three-way calls of answered calls, through ARI: what the agent desk calls.

Queue calls are bridged by app_queue in the dialplan, outside any ARI application. To act on one, the desk
first takes it under ARI control (:meth:`CallTransfers.take_over`): ``HOTLINE_XFER`` is set on the agent's
channel and the caller's channel is redirected to ``hotline-xfer,hold``; app_queue's ``F()`` option sends the
agent's channel to ``hotline-xfer,agent`` (extensions.conf.j2). Both enter the ARI application and are bridged
again in a mixing bridge that this module owns. The two redirects are the only ``asterisk -rx`` commands (the
``QueueCli`` port, as for agent states): ARI cannot touch a channel that is not in an ARI application.

- **blind**: the caller's channel continues in the dialplan at ``hotline-transfer,<target>`` (Dial: the
  recorder sees its Dial events; nobody answers: back into the queue); the first agent is released.
- **attended**: the target is originated into the application; the caller waits in a holding bridge while
  the agent and the target talk; ``complete`` puts the caller with the target and releases the agent,
  ``cancel`` hangs the target up and gives the caller back to the agent. If the agent hangs up during the
  consultation the transfer completes; if the target does, it is cancelled.
- **three-way**: the target (another agent or a unit's duty phone) joins the call's bridge.

A target is an agent (``agent1002``: their softphone) or an outside number (``68521234``: through the units'
trunk, ``HOTLINE_UNIT_TRUNK``). Every channel taking part is a leg of the call in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telephony.agents import QueueCli
from telephony.ari import AriError, CallControl
from telephony.orm import CallLegRow
from telephony.records import CallRecorder

log = logging.getLogger(__name__)

AGENT_TARGET = re.compile(r"^agent[A-Za-z0-9]+$")
NUMBER_TARGET = re.compile(r"^[0-9]{3,20}$")
HOTLINE_NUMBER = "12345"  # the caller id an outside unit sees


class TransferError(RuntimeError):
    """The switch refused, the call is gone, or a target is invalid or did not answer."""


def endpoint_of(target: str) -> str:
    """The dial string of a transfer target: an agent's softphone or a number through the units' trunk."""
    if AGENT_TARGET.match(target):
        return f"PJSIP/{target}"
    if NUMBER_TARGET.match(target):
        return f"PJSIP/{target}@units"
    raise TransferError(f"not a transfer target: {target!r} (an agent user name or a phone number)")


@dataclass
class ControlledCall:
    """A call under ARI control. ``bridge`` holds whoever is talking; ``held`` the caller during a
    consultation; ``target`` the party of a pending attended transfer."""

    call_id: str
    caller: str
    agent: str | None
    bridge: str
    members: set[str] = field(default_factory=set)
    held: str | None = None  # the holding bridge while the caller waits
    target: str | None = None
    target_name: str = ""
    others: set[str] = field(default_factory=set)  # three-way parties


class CallTransfers:
    """Register :meth:`handle` as a ``TelephonyService`` listener; the desk calls the other methods."""

    def __init__(
        self,
        control: CallControl,
        cli: QueueCli,
        factory: sessionmaker[Session],
        recorder: CallRecorder,
        *,
        answer_timeout: int = 30,
    ) -> None:
        self.control = control
        self.cli = cli
        self.factory = factory
        self.recorder = recorder
        self.answer_timeout = answer_timeout
        self.calls: dict[str, ControlledCall] = {}
        self._entered: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ringing: set[str] = set()  # originated targets not yet in a bridge
        self._gone: set[str] = set()  # those of them that hung up meanwhile

    # ---- ARI events ---------------------------------------------------------------------------------
    async def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel_id = event.get("channel", {}).get("id", "")
        if kind == "StasisStart":
            waiter = self._entered.get(channel_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(event)
        elif kind == "ChannelDestroyed":
            if channel_id in self._ringing:
                self._gone.add(channel_id)
            waiter = self._entered.get(channel_id)
            if waiter is not None and not waiter.done():
                waiter.set_exception(TransferError(f"channel gone: {event.get('cause_txt', '')}"))
            await self._left(channel_id)

    async def _wait_in_app(self, channel_id: str, within: float) -> dict[str, Any]:
        future = self._entered.setdefault(channel_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError as exc:
            raise TransferError(f"channel {channel_id} did not reach the ARI application") from exc
        finally:
            self._entered.pop(channel_id, None)

    async def _left(self, channel_id: str) -> None:
        """A party hung up: keep the rest of the call sensible (see the module notes)."""
        call = next(
            (c for c in self.calls.values() if channel_id in {c.caller, c.agent, c.target, *c.others}),
            None,
        )
        if call is None:
            return
        call.members.discard(channel_id)
        call.others.discard(channel_id)
        if channel_id == call.caller:
            await self._end(call)
            return
        if call.held is not None:  # an attended transfer is pending
            if channel_id == call.agent and call.target is not None:
                call.agent = None
                await self._complete(call)
            elif channel_id == call.target:
                call.target = None
                await self._unhold(call)
                if call.agent is None:
                    await self._end(call)
            return
        if channel_id == call.agent:
            call.agent = None
        if channel_id == call.target:
            call.target = None
        if call.members <= {call.caller}:  # nobody left to talk to
            await self._end(call)

    async def _end(self, call: ControlledCall) -> None:
        self.calls.pop(call.call_id, None)
        for channel in {call.caller, call.agent, call.target, *call.others} - {None}:
            assert channel is not None
            await self.control.hangup(channel)
        for bridge in (call.bridge, call.held):
            if bridge:
                await self.control.destroy_bridge(bridge)

    # ---- taking a call under control ----------------------------------------------------------------
    def _legs(self, call_id: str) -> tuple[CallLegRow, CallLegRow | None]:
        with self.factory() as session:
            legs = session.scalars(
                select(CallLegRow)
                .where(CallLegRow.call_id == call_id, CallLegRow.ended_at.is_(None))
                .order_by(CallLegRow.id)
            ).all()
        caller = next((leg for leg in legs if leg.role == "caller"), None)
        if caller is None:
            raise TransferError(f"no live call {call_id}")
        talking = [leg for leg in legs if leg.role != "caller" and leg.answered_at is not None]
        return caller, talking[-1] if talking else None

    async def _rx(self, command: str) -> str:
        return await asyncio.to_thread(self.cli.rx, command)

    async def take_over(self, call_id: str) -> ControlledCall:
        """Bring an answered call into the ARI application: caller and agent, bridged again."""
        if call_id in self.calls:
            return self.calls[call_id]
        caller, agent = self._legs(call_id)
        if agent is None:
            raise TransferError(f"call {call_id} is not answered: nothing to transfer")
        entered = [
            asyncio.ensure_future(self._wait_in_app(channel, 10))
            for channel in (caller.channel_id, agent.channel_id)
        ]
        reply = await self._rx(f"dialplan set chanvar {agent.channel_name} HOTLINE_XFER {call_id}")
        if "No such channel" in reply:
            await self._cancel_waits(entered)
            raise TransferError(f"the agent's channel of {call_id} is gone")
        reply = await self._rx(f"channel redirect {caller.channel_name} hotline-xfer,hold,1")
        if "successfully redirected" not in reply:
            await self._cancel_waits(entered)
            raise TransferError(f"the switch did not redirect the caller of {call_id}: {reply.strip()}")
        try:
            await asyncio.gather(*entered)
        except TransferError:
            await self.control.hangup(agent.channel_id)  # the caller may still be rescued by the queue
            raise
        bridge = await self.control.create_bridge("mixing", f"call-{call_id}")
        for channel in (caller.channel_id, agent.channel_id):
            await self.control.add_to_bridge(bridge, channel)
        call = ControlledCall(
            call_id,
            caller.channel_id,
            agent.channel_id,
            bridge,
            members={caller.channel_id, agent.channel_id},
        )
        self.calls[call_id] = call
        return call

    @staticmethod
    async def _cancel_waits(waits: Sequence[asyncio.Future[dict[str, Any]]]) -> None:
        for wait in waits:
            wait.cancel()
        with contextlib.suppress(asyncio.CancelledError, TransferError):
            await asyncio.gather(*waits)

    async def _originate(self, call: ControlledCall, target: str, role_note: str) -> str:
        """Ring a target into the application; the channel id once it answered."""
        endpoint = endpoint_of(target)
        channel_id = f"xfer-{uuid.uuid4().hex}"
        agent = target if AGENT_TARGET.match(target) else None
        self.recorder.record_leg(
            call.call_id,
            channel_id=channel_id,
            channel_name=endpoint,
            role="agent" if agent else "transfer",
            agent=agent,
            number="" if agent else target,
            now=datetime.now(UTC),
        )
        self._ringing.add(channel_id)
        waiting = asyncio.ensure_future(self._wait_in_app(channel_id, self.answer_timeout + 5))
        try:
            await self.control.originate(
                endpoint,
                app_args=f"{role_note},{call.call_id}",
                caller_id=HOTLINE_NUMBER,
                ring_seconds=self.answer_timeout,
                channel_id=channel_id,
                variables={"HOTLINE_CALL_ID": call.call_id},
            )
        except AriError as exc:
            self._joined(channel_id)
            await self._cancel_waits([waiting])
            self.recorder.leg_ended(channel_id, datetime.now(UTC), f"originate failed: {exc.status}")
            raise TransferError(f"the switch could not call {target}: {exc}") from exc
        try:
            await waiting
        except TransferError:
            self._joined(channel_id)
            await self.control.hangup(channel_id)
            raise
        # an agent who answers gets the screen pop (caller, IVR choices, work orders) like a queue call
        self.recorder.leg_answered(channel_id, datetime.now(UTC))
        return channel_id

    def _joined(self, channel_id: str) -> bool:
        """Stop watching an originated target as it joins the call; True if it hung up meanwhile."""
        self._ringing.discard(channel_id)
        if channel_id in self._gone:
            self._gone.discard(channel_id)
            return True
        return False

    # ---- what the desk does -------------------------------------------------------------------------
    async def blind(self, call_id: str, target: str) -> None:
        """The caller goes to ``target`` at once; the agent is released."""
        endpoint_of(target)  # a valid target, before anything changes
        call = await self.take_over(call_id)
        self.calls.pop(call_id, None)  # from now on the dialplan has the caller, and the recorder its legs
        await self.control.remove_from_bridge(call.bridge, call.caller)
        await self.control.continue_in_dialplan(call.caller, "hotline-transfer", target, 1)
        if call.agent:
            await self.control.hangup(call.agent)
        await self.control.destroy_bridge(call.bridge)

    async def attended(self, call_id: str, target: str) -> None:
        """Consult ``target`` while the caller waits; then :meth:`complete` or :meth:`cancel`."""
        call = await self.take_over(call_id)
        if call.held is not None:
            raise TransferError(f"call {call_id} already has a transfer pending")
        call.held = await self.control.create_bridge("holding", f"hold-{call_id}")
        await self.control.remove_from_bridge(call.bridge, call.caller)
        call.members.discard(call.caller)
        await self.control.add_to_bridge(call.held, call.caller)
        try:
            call.target = await self._originate(call, target, "xfer-target")
        except TransferError:
            await self._unhold(call)
            raise
        call.target_name = target
        if self._joined(call.target):  # hung up between answering and joining
            call.target = None
            await self._unhold(call)
            raise TransferError(f"{target} hung up")
        await self.control.add_to_bridge(call.bridge, call.target)
        call.members.add(call.target)

    async def complete(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.held is None or call.target is None:
            raise TransferError(f"no attended transfer pending on {call_id}")
        await self._complete(call)

    async def _complete(self, call: ControlledCall) -> None:
        agent, call.agent = call.agent, None
        if agent:
            with contextlib.suppress(AriError):
                await self.control.remove_from_bridge(call.bridge, agent)
            call.members.discard(agent)
            await self.control.hangup(agent)
        await self._unhold(call)
        call.agent, call.target = call.target, None

    async def cancel(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.held is None or call.target is None:
            raise TransferError(f"no attended transfer pending on {call_id}")
        target, call.target = call.target, None
        call.members.discard(target)
        await self.control.hangup(target)
        await self._unhold(call)

    async def _unhold(self, call: ControlledCall) -> None:
        if call.held is None:
            return
        held, call.held = call.held, None
        with contextlib.suppress(AriError):
            await self.control.remove_from_bridge(held, call.caller)
        await self.control.destroy_bridge(held)
        try:
            await self.control.add_to_bridge(call.bridge, call.caller)
        except AriError as exc:  # the caller hung up meanwhile: their ChannelDestroyed ends the call
            log.info("caller of %s gone while coming off hold: %s", call.call_id, exc)
            return
        call.members.add(call.caller)

    async def three_way(self, call_id: str, target: str) -> str:
        """Add ``target`` (e.g. a department's duty phone) to the call: caller, agent and target all hear
        each other. Returns the new party's channel id."""
        call = await self.take_over(call_id)
        channel = await self._originate(call, target, "xfer-conference")
        if self._joined(channel):
            raise TransferError(f"{target} hung up")
        call.others.add(channel)
        await self.control.add_to_bridge(call.bridge, channel)
        call.members.add(channel)
        return channel
