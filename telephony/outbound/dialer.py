"""The satisfaction survey (回访) call: ``Dialer`` is the port the callback campaign uses — call a citizen about
a work order, run the IVR survey, return what happened. ``AriDialer`` is the real adapter, ``FakeDialer``
(``telephony.outbound.fake``) the fake; tests/e2e/test_outbound_dialer_contract.py holds both to the same
contract with a real Asterisk and sipp citizens.

How a survey call goes (extensions.conf.j2, ``[hotline-outbound-survey]``):

1. ``POST /channels`` originates ``PJSIP/...`` (the dial template names the carrier trunk, e.g.
   ``PJSIP/{number}@units``) into our ARI application with a channel id we chose, so that no event of the
   call can arrive before we listen for it. Asterisk publishes ``Dial`` events (``dialstatus`` RINGING,
   ANSWER, BUSY, NOANSWER, CONGESTION, CHANUNAVAIL) and, when the call ends unanswered, ``ChannelDestroyed``
   with the Q.850 cause (17 busy, 19 no answer...).
2. On answer the channel enters Stasis (``StasisStart``). We subscribe the application to the channel
   explicitly (``POST /applications/{app}/subscription``): the implicit subscription of an originated channel
   ends when it leaves Stasis, the explicit one lasts until the channel is destroyed. Then we continue it in
   the dialplan, which records the call and runs the FastAGI survey (``agi://.../survey?order=N``).
3. A hangup handler sends the ``HotlineSurveyResult`` user event with ``HOTLINE_SURVEY_SOLVED`` / ``_RATING``
   and the recording's path, also when the citizen hangs up half-way; ``ChannelDestroyed`` ends the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from telephony.ari import AriError, Event
from telephony.outbound.ari import OutboundAri
from telephony.outbound.plan import CallStatus, DialPlan, status_of

log = logging.getLogger(__name__)

SURVEY_RESULT_EVENT = "HotlineSurveyResult"


@dataclass(frozen=True)
class SurveyCall:
    """Call ``phone`` about work order ``order_number`` and ask the survey in ``language``."""

    order_number: str
    phone: str
    language: str = "zh"


@dataclass(frozen=True)
class SurveyOutcome:
    status: CallStatus
    solved: int | None = None  # the key pressed: 1 solved, 2 not solved; None when not answered
    rating: int | None = None  # 1..5
    recording: str | None = None  # the survey's recording (a path inside the switch's monitor directory)
    dial_status: str = ""
    hangup_cause: int | None = None
    channel_id: str = ""
    ring_seconds: float | None = None  # from the originate to the answer or the end of ringing
    talk_seconds: float | None = None  # from the answer to the hang-up
    detail: str = ""


class Dialer(Protocol):
    """Places one outbound survey call and waits for its end (routing's ``SurveyDialer`` port)."""

    def ready(self) -> bool:
        """False while the switch cannot be reached: the campaign then waits instead of burning attempts."""

    async def survey(self, order_number: str, phone: str, *, language: str = "zh") -> SurveyOutcome: ...


class AriDialer:
    def __init__(self, ari: OutboundAri, plan: DialPlan | None = None) -> None:
        self.ari = ari
        self.plan = plan or DialPlan()

    def ready(self) -> bool:
        return self.ari.client.connected.is_set()

    async def survey(self, order_number: str, phone: str, *, language: str = "zh") -> SurveyOutcome:
        call = SurveyCall(order_number, phone, language)
        channel_id = f"survey-{uuid.uuid4().hex[:16]}"
        started = time.monotonic()
        with self.ari.watch(channel_id) as events:
            try:
                await self.ari.client.originate(
                    self.plan.endpoint(call.phone),
                    app_args=f"survey,{call.order_number}",
                    caller_id=self.plan.caller_id,
                    variables={"HOTLINE_ORDER": call.order_number, "HOTLINE_LANG": call.language},
                    ring_seconds=self.plan.ring_seconds,
                    channel_id=channel_id,
                )
            except (AriError, httpx.HTTPError, OSError) as exc:
                log.warning("survey call for %s not placed: %s", call.order_number, exc)
                return SurveyOutcome(CallStatus.FAILED, channel_id=channel_id, detail=str(exc)[:200])
            return await self._follow(channel_id, events, started)

    async def _follow(self, channel_id: str, events: asyncio.Queue[Event], started: float) -> SurveyOutcome:
        state = _CallState(channel_id, started)
        deadline = started + self.plan.ring_seconds + self.plan.max_call_seconds + 10
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                await self.ari.client.hangup(channel_id)
                state.detail = "call took too long; hung up"
                return state.outcome()
            try:
                event = await asyncio.wait_for(
                    events.get(), timeout=min(self.plan.quiet_check_seconds, remaining)
                )
            except TimeoutError:
                # No event for a while: is the channel still there (a lost websocket loses its events)?
                if await self.ari.client.channel(channel_id) is None:
                    state.detail = state.detail or "channel gone without its events"
                    return state.outcome()
                continue
            kind = event.get("type")
            if kind == "Dial" and event.get("dialstatus"):
                state.dial_status = str(event["dialstatus"])
                if state.dial_status == "ANSWER":
                    state.answered_at = time.monotonic()
            elif kind == "StasisStart":
                state.answered_at = state.answered_at or time.monotonic()
                try:
                    await self.ari.subscribe(channel_id)
                    await self.ari.client.continue_in_dialplan(channel_id, self.plan.context, "s", 1)
                except AriError as exc:  # hung up in between
                    log.info("survey channel %s gone before the survey: %s", channel_id, exc)
            elif kind == "ChannelUserevent" and event.get("eventname") == SURVEY_RESULT_EVENT:
                state.result = event.get("userevent") or {}
            elif kind == "ChannelDestroyed":
                state.cause = _int(event.get("cause"))
                state.ended_at = time.monotonic()
                return state.outcome()


@dataclass
class _CallState:
    channel_id: str
    started: float
    dial_status: str = ""
    answered_at: float | None = None
    ended_at: float | None = None
    cause: int | None = None
    result: Mapping[str, Any] = field(default_factory=dict)
    detail: str = ""

    def outcome(self) -> SurveyOutcome:
        end = self.ended_at or time.monotonic()
        common: dict[str, Any] = {
            "dial_status": self.dial_status,
            "hangup_cause": self.cause,
            "channel_id": self.channel_id,
            "detail": self.detail,
        }
        if self.answered_at is not None:
            return SurveyOutcome(
                CallStatus.ANSWERED,
                solved=_key(self.result.get("solved"), "12"),
                rating=_key(self.result.get("rating"), "12345"),
                recording=str(self.result.get("recording") or "") or None,
                ring_seconds=round(self.answered_at - self.started, 3),
                talk_seconds=round(end - self.answered_at, 3),
                **common,
            )
        return SurveyOutcome(
            status_of(self.dial_status, self.cause), ring_seconds=round(end - self.started, 3), **common
        )


def _key(value: object, allowed: str) -> int | None:
    text = str(value or "").strip()
    return int(text) if len(text) == 1 and text in allowed else None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


@contextlib.asynccontextmanager
async def running_dialer(ari: OutboundAri, plan: DialPlan | None = None) -> AsyncIterator[AriDialer]:
    """Connect the outbound application, yield a dialer, disconnect."""
    await ari.start()
    try:
        yield AriDialer(ari, plan)
    finally:
        await ari.aclose()
