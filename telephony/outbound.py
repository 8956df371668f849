"""Outbound calls to citizens through ARI: the satisfaction survey (回访) and the shared ARI application.

``Dialer`` is the port the callback campaign uses: call a citizen about a work order, run the IVR survey,
return what happened. ``AriDialer`` is the real adapter, ``FakeDialer`` the fake for unit tests;
tests/e2e/test_outbound_dialer_contract.py holds both to the same contract with a real Asterisk and sipp
citizens.

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

The ARI application (``{ari_app}-outbound``) is separate from the call recorder's (``{ari_app}``, which
subscribes to everything): one websocket per application, because a second connection for the same
application name would take its events away from the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from kernel.settings import Settings
from telephony.ari import AriClient, AriEndpoint, AriError, Event

log = logging.getLogger(__name__)

SURVEY_CONTEXT = "hotline-outbound-survey"
SURVEY_RESULT_EVENT = "HotlineSurveyResult"

# Q.850 causes of an unanswered call (ChannelDestroyed.cause) when no Dial status was seen.
CAUSE_BUSY = 17
# normal clearing while ringing, no user responding, no answer, call rejected
CAUSES_NO_ANSWER = frozenset({16, 18, 19, 21})


class CallStatus(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # the trunk, the number or the switch: not the citizen's doing


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


# ---- the ARI application shared by the outbound components ---------------------------------------------
@dataclass(frozen=True)
class AppEndpoint(AriEndpoint):
    """An ARI application that only hears its own channels (no ``subscribeAll``)."""

    @property
    def events_url(self) -> str:
        return super().events_url.replace("&subscribeAll=true", "")


StasisHandler = Callable[[Event], Awaitable[None]]


def channel_of(event: Event) -> str | None:
    """The channel an event is about (``Dial`` names the dialled channel ``peer``, playbacks a target URI)."""
    if event.get("type") == "Dial":
        peer = event.get("peer") or {}
        return str(peer["id"]) if "id" in peer else None
    if "playback" in event:
        target = str((event.get("playback") or {}).get("target_uri") or "")
        return target.removeprefix("channel:") if target.startswith("channel:") else None
    channel = event.get("channel") or {}
    return str(channel["id"]) if "id" in channel else None


class OutboundAri:
    """One websocket for the ARI application of outbound calls; events go to whoever watches a channel.

    ``watch(channel_id)`` yields a queue of that channel's events (register it before the channel exists);
    a ``StasisStart`` of an unwatched channel goes to the handler registered for its first argument
    (``callback-request``, ``callback-agent`` ...).
    """

    def __init__(self, client: AriClient) -> None:
        self.client = client
        self.app = client.app
        self._watchers: dict[str, asyncio.Queue[Event]] = {}
        self._stasis: dict[str, StasisHandler] = {}
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._reconnected: list[Callable[[], Awaitable[None]]] = []

    @classmethod
    def connect(cls, base_url: str, user: str, password: str, app: str) -> OutboundAri:
        return cls(AriClient(AppEndpoint(base_url, user, password, app)))

    async def start(self, wait_seconds: float = 10.0) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                self.client.run_events(self._dispatch, on_connected=self._on_connected),
                name=f"ari-{self.app}",
            )
        await asyncio.wait_for(self.client.connected.wait(), wait_seconds)

    async def aclose(self) -> None:
        for handler in list(self._handlers):
            handler.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.aclose()

    def on_stasis(self, first_arg: str, handler: StasisHandler) -> None:
        self._stasis[first_arg] = handler

    def on_reconnected(self, handler: Callable[[], Awaitable[None]]) -> None:
        self._reconnected.append(handler)

    async def _on_connected(self) -> None:
        for handler in self._reconnected:
            try:
                await handler()
            except Exception:
                log.exception("outbound reconciliation failed")

    @contextlib.contextmanager
    def watch(self, *channel_ids: str) -> Iterator[asyncio.Queue[Event]]:
        """One queue with the events of all these channels (register before they exist)."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        for channel_id in channel_ids:
            self._watchers[channel_id] = queue
        try:
            yield queue
        finally:
            for channel_id in channel_ids:
                if self._watchers.get(channel_id) is queue:
                    del self._watchers[channel_id]

    async def _dispatch(self, event: Event) -> None:
        channel = channel_of(event)
        if channel is not None and channel in self._watchers:
            self._watchers[channel].put_nowait(event)
            return
        if event.get("type") == "StasisStart":
            args = event.get("args") or []
            handler = self._stasis.get(args[0] if args else "")
            if handler is None:
                log.warning("no handler for Stasis args %r; hanging up %s", args, channel)
                if channel:
                    await self.client.hangup(channel)
                return
            # A slow handler (it may dial and wait) must not hold up the other calls' events.
            task = asyncio.create_task(self._run(handler, event), name=f"stasis-{args[0]}-{channel}")
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    @staticmethod
    async def _run(handler: StasisHandler, event: Event) -> None:
        try:
            await handler(event)
        except Exception:
            log.exception("Stasis handler failed for %s", channel_of(event))

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app_args: str,
        other_channel_id: str | None = None,
        caller_id: str = "",
        variables: Mapping[str, str] | None = None,
        ring_seconds: int = 30,
    ) -> None:
        """``POST /channels`` into this application; ``other_channel_id`` names a Local channel's ;2 half
        and ``ring_seconds`` -1 waits without limit (a placeholder waiting in a queue)."""
        params: dict[str, Any] = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": app_args,
            "channelId": channel_id,
            "timeout": ring_seconds,
        }
        if other_channel_id:
            params["otherChannelId"] = other_channel_id
        if caller_id:
            params["callerId"] = caller_id
        await self.client._call("POST", "/channels", params=params, body={"variables": dict(variables or {})})

    async def play(self, channel_id: str, media: str) -> None:
        await self.client._call("POST", f"/channels/{channel_id}/play", params={"media": media})

    async def ring(self, channel_id: str, *, on: bool = True) -> None:
        """Indicate ringing on the channel (what its peer hears), or stop."""
        await self.client._call("POST" if on else "DELETE", f"/channels/{channel_id}/ring", missing_ok=True)

    async def subscribe(self, channel_id: str) -> None:
        """Keep receiving the channel's events after it leaves Stasis, until it is destroyed."""
        # The one ARI call that CallControl does not cover.
        await self.client._call(
            "POST",
            f"/applications/{quote(self.app)}/subscription",
            params={"eventSource": f"channel:{channel_id}"},
        )


# ---- the real dialer ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DialPlan:
    """Where and how survey calls go.

    ``dial_template`` formats the citizen's number into an Asterisk dial string. The default goes out through
    the carrier trunk that also reaches the units' duty phones (pjsip.conf ``[units]``, its AOR the carrier's
    SBC, ``HOTLINE_UNIT_TRUNK``); ``PJSIP/citizens/sip:{number}@host:port`` would go straight to one SIP URI.
    """

    dial_template: str = "PJSIP/{number}@units"
    caller_id: str = "12345"  # what the citizen's phone shows
    ring_seconds: int = 30
    max_call_seconds: float = 300.0  # a survey never takes longer; the call is hung up after this
    context: str = SURVEY_CONTEXT
    quiet_check_seconds: float = 5.0  # no event for this long: ask whether the channel still exists

    def endpoint(self, number: str) -> str:
        return self.dial_template.format(number=number)


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


def status_of(dial_status: str, cause: int | None) -> CallStatus:
    """An unanswered call's status, from app_dial's DIALSTATUS or else the Q.850 hang-up cause."""
    if dial_status == "BUSY" or (not dial_status and cause == CAUSE_BUSY):
        return CallStatus.BUSY
    if dial_status in ("NOANSWER", "CANCEL") or (
        dial_status in ("", "RINGING") and cause in CAUSES_NO_ANSWER
    ):
        return CallStatus.NO_ANSWER
    if dial_status == "RINGING" and cause == CAUSE_BUSY:
        return CallStatus.BUSY
    return CallStatus.FAILED


def _key(value: object, allowed: str) -> int | None:
    text = str(value or "").strip()
    return int(text) if len(text) == 1 and text in allowed else None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


# ---- the fake ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Citizen:
    """How a (fake) citizen reacts to a survey call: answer and press ``keys``, be busy, not answer..."""

    behaviour: str = "answer"  # answer | busy | no_answer | unreachable
    keys: tuple[str, ...] = ()


@dataclass
class FakeDialer:
    """Answers as a scripted citizen would through the real switch (same statuses, same digit handling).

    ``citizens`` maps a phone number to a list of behaviours, one per successive call (the last repeats).
    """

    citizens: dict[str, Sequence[Citizen]] = field(default_factory=dict)
    calls: list[SurveyCall] = field(default_factory=list)
    recording_dir: str = "/var/spool/asterisk/monitor/hotline"

    def ready(self) -> bool:
        return True

    async def survey(self, order_number: str, phone: str, *, language: str = "zh") -> SurveyOutcome:
        call = SurveyCall(order_number, phone, language)
        script = self.citizens.get(call.phone) or [Citizen("no_answer")]
        citizen = script[min(len([c for c in self.calls if c.phone == call.phone]), len(script) - 1)]
        self.calls.append(call)
        channel_id = f"survey-fake{len(self.calls)}"
        if citizen.behaviour == "busy":
            return SurveyOutcome(CallStatus.BUSY, dial_status="BUSY", hangup_cause=17, channel_id=channel_id)
        if citizen.behaviour == "no_answer":
            return SurveyOutcome(
                CallStatus.NO_ANSWER, dial_status="NOANSWER", hangup_cause=19, channel_id=channel_id
            )
        if citizen.behaviour == "unreachable":
            return SurveyOutcome(CallStatus.FAILED, dial_status="CHANUNAVAIL", channel_id=channel_id)
        # The survey menu: the first key answers "solved?" (1 or 2), the next one the rating (1-5); a key
        # outside a question's options is asked again (ivr/menus/survey.yaml, 2 tries per question).
        keys = list(citizen.keys)
        solved = _ask(keys, "12")
        rating = _ask(keys, "12345")
        return SurveyOutcome(
            CallStatus.ANSWERED,
            solved=solved,
            rating=rating,
            recording=f"{self.recording_dir}/{channel_id}.wav",
            dial_status="ANSWER",
            hangup_cause=16,
            channel_id=channel_id,
        )


def _ask(keys: list[str], allowed: str, tries: int = 2) -> int | None:
    for _ in range(tries):
        if not keys:
            return None
        key = keys.pop(0)
        if key in allowed:
            return int(key)
    return None


def outbound_from_settings(
    settings: Settings, *, app_suffix: str = "-outbound"
) -> tuple[OutboundAri, DialPlan]:
    """The outbound ARI application and dial plan of this installation.

    Settings (``HOTLINE_*``): ``outbound_dial_template`` (default ``PJSIP/{number}@units``),
    ``outbound_caller_id`` (12345), ``outbound_ring_seconds`` (30); the ARI URL, user and generated password
    are the switch's own (``ari_url``, ``ari_user``, ``telephony.secrets``). The dialplan's callback hooks
    enter ``{ari_app}-outbound``: exactly one process serves that application; a one-off survey run uses
    another ``app_suffix`` (survey calls work under any application name).
    """
    from telephony.secrets import load_or_create

    secrets = load_or_create(settings.data_dir, ari_password_override=settings.ari_password)
    ari = OutboundAri.connect(
        settings.ari_url, settings.ari_user, secrets.ari_password, f"{settings.ari_app}{app_suffix}"
    )
    defaults = DialPlan()
    plan = DialPlan(
        dial_template=str(getattr(settings, "outbound_dial_template", defaults.dial_template)),
        caller_id=str(getattr(settings, "outbound_caller_id", defaults.caller_id)),
        ring_seconds=int(getattr(settings, "outbound_ring_seconds", defaults.ring_seconds)),
    )
    return ari, plan


@contextlib.asynccontextmanager
async def running_dialer(ari: OutboundAri, plan: DialPlan | None = None) -> AsyncIterator[AriDialer]:
    """Connect the outbound application, yield a dialer, disconnect."""
    await ari.start()
    try:
        yield AriDialer(ari, plan)
    finally:
        await ari.aclose()
