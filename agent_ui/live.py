"""What the desk shows live: agents' states and current calls, fed by telephony, ASR and suggestions.

The other components do not import the web desk. The composition root (``hotline/live_calls.py``) subscribes
their bus events in every web process and calls the small functions of :class:`DeskFeed` (``call_answered``,
``call_ended``, ``transcript``, ``apply_suggestions``, ``apply_status``, ``queue_stats``); the feed keeps the
current picture and republishes it as the UI events below, which the server-sent-event streams of the pages
forward to the browsers. The UI events stay in the process; only ``AgentStatusChanged`` and
``SuggestionsReady`` travel between processes (each web process builds its picture from them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from agent_ui.transcript import LiveTranscript
from agent_ui.transcript import TranscriptLine as TranscriptLine  # one line per utterance, kept in place
from kernel.bus import EventBus
from kernel.clock import Clock
from kernel.events import wire

AGENT_STATES = ("ready", "paused", "wrap_up", "on_call", "offline")
PAUSE_REASONS = ("break", "meal", "training", "meeting", "other")


@wire("desk.agent_status_changed")
@dataclass(frozen=True)
class AgentStatusChanged:
    """``until``: the end of the wrap-up after a call, when the status will be ready again."""

    agent: str
    status: str
    reason: str
    at: datetime
    until: datetime | None = None


@dataclass(frozen=True)
class CallAnswered:
    """An agent answered a call: the screen pop."""

    agent: str
    call_id: str
    caller: str
    queue: str
    ivr_choices: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class CallEnded:
    agent: str
    call_id: str
    at: datetime


@dataclass(frozen=True)
class KbAnswer:
    """One knowledge-base answer. ``matched`` are the words of the query found in it: the page marks them."""

    title: str
    text: str
    score: float = 0.0
    matched: tuple[str, ...] = ()
    category: str = ""
    unit_name: str = ""
    article_id: int | None = None
    heard: tuple[str, ...] = ()  # words found by sound: "「佛地产」音近「房地产」"


@dataclass(frozen=True)
class ScoredChoice:
    """A suggested category (key = taxonomy path) or unit (key = unit code) with the model's score."""

    key: str
    label: str
    score: float
    why: str = ""  # for a unit: the dispatch rule or the duty that made it


@wire("desk.suggestions_ready")
@dataclass(frozen=True)
class SuggestionsReady:
    call_id: str
    answers: tuple[KbAnswer, ...]
    category_id: int | None
    category_path: str
    unit_code: str | None
    categories: tuple[ScoredChoice, ...] = ()  # best first; categories[0] is category_path
    units: tuple[ScoredChoice, ...] = ()
    text: str = ""  # the transcript the suggestion was computed from (kept with the agent's choice)
    raw: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)  # the engine's own JSON
    heard: tuple[str, ...] = ()  # recognition errors read by sound, each with its reason


@dataclass(frozen=True)
class FilledField:
    """One value the assist proposes for the order form; the desk marks it "suggested" until the agent
    accepts or edits it. ``value`` "" leaves the field empty; ``offers`` are values to choose from."""

    field: str
    value: str
    label: str
    source: str  # screen_pop | speech | model
    why: str
    offers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": self.value,
            "label": self.label,
            "source": self.source,
            "why": self.why,
            "offers": list(self.offers),
        }


@wire("desk.autofill_ready")
@dataclass(frozen=True)
class AutofillReady:
    """The order form's suggested values for a call, computed from the citizen's finals so far (in the
    process that follows the switch; every web process applies it to its picture)."""

    call_id: str
    fields: tuple[FilledField, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "fields": {f.field: f.to_dict() for f in self.fields}}


@dataclass(frozen=True)
class QueueStats:
    queue: str
    waiting: int
    longest_wait_seconds: int
    answered_today: int = 0
    abandoned_today: int = 0
    service_level: float | None = None  # share answered within the target, 0..1


@dataclass
class CurrentCall:
    call_id: str
    caller: str
    queue: str
    ivr_choices: tuple[str, ...]
    answered_at: datetime
    ended_at: datetime | None = None
    transcript: LiveTranscript = field(default_factory=LiveTranscript)
    suggestions: SuggestionsReady | None = None
    autofill: AutofillReady | None = None


@dataclass(frozen=True)
class AgentState:
    """``until``: the end of the wrap-up after a call (the queue's wrapuptime), when app_queue rings again."""

    status: str = "offline"
    reason: str = ""
    since: datetime | None = None
    until: datetime | None = None


Timer = Callable[[float, Callable[[], None]], object]


def thread_timer(seconds: float, action: Callable[[], None]) -> object:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


class DeskFeed:
    def __init__(self, bus: EventBus, clock: Clock, *, timer: Timer = thread_timer) -> None:
        self.bus = bus
        self.clock = clock
        self.timer = timer  # ends the wrap-up after a call (tests pass a manual one)
        self._lock = threading.Lock()
        self.agents: dict[str, AgentState] = {}
        self.calls: dict[str, CurrentCall] = {}  # agent user name -> current or last call
        self.queues: dict[str, QueueStats] = {}

    # ---- fed by the agent (web) -------------------------------------------------------------------
    def set_status(self, agent: str, status: str, reason: str = "") -> AgentStatusChanged:
        if status not in AGENT_STATES:
            raise ValueError(f"unknown agent status {status!r}")
        now = self.clock.now()
        with self._lock:
            self.agents[agent] = AgentState(status, reason if status == "paused" else "", now)
        event = AgentStatusChanged(agent, status, reason, now)
        self.bus.publish(event)
        return event

    def apply_status(self, event: AgentStatusChanged) -> None:
        """An agent's status changed on a desk served by any process (this one included)."""
        with self._lock:
            self.agents[event.agent] = AgentState(
                event.status, event.reason if event.status == "paused" else "", event.at, event.until
            )

    def status(self, agent: str) -> AgentState:
        state = self.agents.get(agent, AgentState())
        if state.status == "wrap_up" and state.until is not None and state.until <= self.clock.now():
            return AgentState("ready", "", state.until)  # the timer may lag; the clock does not
        return state

    # ---- fed by telephony -------------------------------------------------------------------------
    def call_answered(
        self, agent: str, call_id: str, caller: str, queue: str = "", ivr_choices: tuple[str, ...] = ()
    ) -> CallAnswered:
        now = self.clock.now()
        with self._lock:
            self.calls[agent] = CurrentCall(call_id, caller, queue, tuple(ivr_choices), now)
            self.agents[agent] = AgentState("on_call", "", now)
        event = CallAnswered(agent, call_id, caller, queue, tuple(ivr_choices), now)
        self.bus.publish(event)
        return event

    def call_ended(self, agent: str, call_id: str, wrapup_seconds: float | None = None) -> None:
        """The agent's call ended. app_queue gives them the queue's wrapuptime before the next call: the desk
        shows 话后处理 with a countdown, then 就绪 again; with no wrap-up time (0) they are ready at once.
        ``None`` (the queue is not known): 话后处理 until the agent chooses."""
        now = self.clock.now()
        until = now + timedelta(seconds=wrapup_seconds) if wrapup_seconds else None
        state = AgentState("ready", "", now) if wrapup_seconds == 0 else AgentState("wrap_up", "", now, until)
        with self._lock:
            call = self.calls.get(agent)
            if call is not None and call.call_id == call_id:
                call.ended_at = now
            self.agents[agent] = state
        self.bus.publish(CallEnded(agent, call_id, now))
        self.bus.publish(AgentStatusChanged(agent, state.status, "", now, until))
        if wrapup_seconds and until is not None:
            self.timer(wrapup_seconds, lambda: self._wrapup_over(agent, state))

    def _wrapup_over(self, agent: str, wrapup: AgentState) -> None:
        with self._lock:
            if self.agents.get(agent) != wrapup:  # a new call, or the agent chose a status meanwhile
                return
            now = self.clock.now()
            self.agents[agent] = AgentState("ready", "", now)
        self.bus.publish(AgentStatusChanged(agent, "ready", "", now))

    def queue_stats(self, stats: QueueStats) -> None:
        with self._lock:
            self.queues[stats.queue] = stats
        self.bus.publish(stats)

    # ---- fed by ASR and the suggestion service ----------------------------------------------------
    def transcript(self, line: TranscriptLine) -> TranscriptLine:
        """A partial or final of the call's transcript: the utterance's line is updated in place (see
        ``agent_ui.transcript``) and published with its key for the desk's browser."""
        placed = line
        with self._lock:
            for call in self.calls.values():
                if call.call_id == line.call_id:
                    placed = call.transcript.add(line)
        self.bus.publish(placed)
        return placed

    def suggestions(self, ready: SuggestionsReady) -> None:
        """Suggestions computed here: kept, and published for every desk (the other processes' feeds
        receive them in ``apply_suggestions``)."""
        self.apply_suggestions(ready)
        self.bus.publish(ready)

    def apply_suggestions(self, ready: SuggestionsReady) -> None:
        with self._lock:
            for agent, call in self.calls.items():
                if call.call_id == ready.call_id:
                    self.calls[agent] = replace(call, suggestions=ready)

    def autofill(self, ready: AutofillReady) -> None:
        """The order form fills itself: kept for a page (re)load, and published for every desk."""
        self.apply_autofill(ready)
        self.bus.publish(ready)

    def apply_autofill(self, ready: AutofillReady) -> None:
        with self._lock:
            for agent, call in self.calls.items():
                if call.call_id == ready.call_id:
                    self.calls[agent] = replace(call, autofill=ready)

    def current_call(self, agent: str) -> CurrentCall | None:
        return self.calls.get(agent)

    def agent_for_call(self, call_id: str) -> str | None:
        for agent, call in self.calls.items():
            if call.call_id == call_id:
                return agent
        return None
