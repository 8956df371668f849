"""A live call across the components: screen pop, transcription, suggestions, hangup.

Composition, not logic, in two halves that may run in different processes:

- :class:`DeskProjection` runs wherever desks are served (every web process). It turns telephony's
  ``CallAnswered``/``CallEnded``, asr's ``TranscriptSegment`` and the suggestions computed for a call into
  the desk's live picture (``agent_ui.live.DeskFeed``), which streams it to the browsers. Each web process
  keeps its own picture from the same events, so a desk may connect to any of them.
- :class:`LiveAssist` runs once per switch, in the telephony role. When telephony reports that an agent
  answered, the ASR coordinator (``asr.coordinator.TapCoordinator``) hands the call to one ASR worker and
  taps both directions of the caller's channel towards it (ARI snoop ``spy=in`` is what the citizen
  says, ``spy=out`` what they hear, i.e. the agent). Every *final* utterance of the caller feeds the
  suggestion engine, whose answer (knowledge-base articles, category, unit) is published for the desks as
  ``SuggestionsReady``, and the order form's suggested values (智能填单) as ``AutofillReady``. When the
  caller's channel is destroyed the tap is removed and the worker closes the call (the coordinator then
  publishes ``CallTranscriptClosed``, which recordings attaches to the call's recording).

Bus handlers are synchronous and run on whichever thread published; the asynchronous work (ARI requests,
RTP ports) is handed to the event loop the service was started on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from agent_ui.live import AgentStatusChanged, AutofillReady, DeskFeed, SuggestionsReady, TranscriptLine
from agent_ui.transcript import is_speaking_placeholder
from agent_ui.wiring import autofill_ready, suggestions_ready
from asr.events import TranscriptSegment
from kernel.bus import EventBus
from routing.assist.autofill import screen_pop
from telephony.events import CallAnswered, CallEnded

if TYPE_CHECKING:
    from asr.coordinator import TapCoordinator
    from routing.assist.service import Assistant
    from routing.suggest.service import SuggestionEngine, Suggestions

log = logging.getLogger(__name__)

# Only the citizen's words decide the category: the agent's questions ("您是哪个区的？") would blur it.
SUGGEST_FROM_LEGS = ("caller",)


class SuggestionSource(Protocol):
    def get(self) -> SuggestionEngine: ...


class DeskProjection:
    """The desk's live picture in this process, from the events of every process."""

    def __init__(self, feed: DeskFeed) -> None:
        self.feed = feed
        self._agents: dict[str, str] = {}  # call id -> agent user name

    def install(self, bus: EventBus) -> DeskProjection:
        bus.subscribe(CallAnswered, self.answered)
        bus.subscribe(CallEnded, self.ended)
        bus.subscribe(TranscriptSegment, self.segment)
        bus.subscribe(SuggestionsReady, self.feed.apply_suggestions)
        bus.subscribe(AutofillReady, self.feed.apply_autofill)
        bus.subscribe(AgentStatusChanged, self.feed.apply_status)
        return self

    def answered(self, event: CallAnswered) -> None:
        self._agents[event.call_id] = event.agent
        self.feed.call_answered(
            event.agent, event.call_id, event.caller_number, event.queue or "", event.ivr_choices
        )
        # The caller's number goes into the order form at once (the finals bring the rest).
        self.feed.autofill(autofill_ready(event.call_id, screen_pop(event.call_id, event.caller_number)))

    def ended(self, event: CallEnded) -> None:
        agent = self._agents.pop(event.call_id, None) or event.agent
        if agent:
            self.feed.call_ended(agent, event.call_id, event.wrapup_seconds)  # the queue's wrap-up

    def segment(self, segment: TranscriptSegment) -> None:
        # The desk shows the redacted text only (ID-card, phone and bank numbers masked). The feed keys
        # the line by utterance: a partial updates its leg's open line, the final replaces it.
        self.feed.transcript(
            TranscriptLine(
                segment.call_id,
                segment.leg,
                segment.text_redacted,
                segment.is_final,
                start_ms=segment.start_ms,
                end_ms=segment.end_ms if segment.is_final else 0,
                placeholder=not segment.is_final and is_speaking_placeholder(segment.text),
            )
        )


class LiveAssist:
    """Transcription taps and suggestions of answered calls (one per switch, in the telephony role)."""

    def __init__(
        self,
        *,
        bus: EventBus,
        loop: asyncio.AbstractEventLoop,
        coordinator: TapCoordinator | None = None,
        suggestions: SuggestionSource | None = None,
        on_suggestions: Callable[[Suggestions], None] | None = None,
        category_ids: dict[str, int] | None = None,
        assist: Assistant | None = None,
    ) -> None:
        self.bus = bus
        self.loop = loop
        self.coordinator = coordinator  # None: no transcription (ASR is off)
        self.suggestions = suggestions
        self.on_suggestions = on_suggestions
        self.category_ids = category_ids or {}  # taxonomy path -> category id, for the desk's order form
        self.assist = assist  # the order form fills itself from the citizen's unredacted finals

    def install(self, bus: EventBus) -> LiveAssist:
        bus.subscribe(CallAnswered, self.answered)
        bus.subscribe(CallEnded, self.ended)
        bus.subscribe(TranscriptSegment, self.segment)
        return self

    # ---- telephony ---------------------------------------------------------------------------------
    def answered(self, event: CallAnswered) -> None:
        if self.assist is not None:
            self.assist.call_started(event.call_id, event.caller_number)
        if self.coordinator is not None:
            self._run(self.coordinator.call_answered(event.call_id), event.call_id)

    def ended(self, event: CallEnded) -> None:
        if self.coordinator is not None:
            self._run(self.coordinator.call_ended(event.call_id), event.call_id)
        if self.suggestions is not None:
            with contextlib.suppress(Exception):
                self.suggestions.get().call_ended(event.call_id)
        if self.assist is not None:
            self.assist.call_ended(event.call_id)

    def _run(self, work: Coroutine[Any, Any, object], call_id: str) -> None:
        """Hand the coordinator's work to the loop (bus handlers run on any thread); log what failed."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)

        def done(f: Future[object]) -> None:
            if not f.cancelled() and f.exception() is not None:
                log.error("transcription hand-off failed for call %s", call_id, exc_info=f.exception())

        future.add_done_callback(done)

    # ---- ASR -----------------------------------------------------------------------------------------
    def segment(self, segment: TranscriptSegment) -> None:
        wanted = segment.is_final and segment.leg in SUGGEST_FROM_LEGS and segment.text.strip()
        if wanted and self.suggestions is not None:
            self.loop.run_in_executor(None, self._suggest, segment.call_id, segment.text)

    def _suggest(self, call_id: str, text: str) -> None:
        assert self.suggestions is not None
        try:
            engine = self.suggestions.get()
            result = engine.on_final_utterance(text, call_id)
        except Exception:
            log.exception("suggestions failed for call %s", call_id)
            return
        self.bus.publish(suggestions_ready(call_id, result, self.category_ids))
        if self.assist is not None:
            try:
                filled = self.assist.on_final(call_id, text, result, engine.dispatcher)
            except Exception:
                log.exception("autofill failed for call %s", call_id)
            else:
                self.bus.publish(autofill_ready(call_id, filled))
        if self.on_suggestions is not None:
            self.on_suggestions(result)
