"""A live call across the components: screen pop, transcription, suggestions, hangup.

This is composition, not logic: each component publishes its own events on the bus and knows nothing of the
others. When telephony reports that an agent answered, the desk gets the screen pop and ASR taps both
directions of the caller's channel (ARI snoop ``spy=in`` is what the citizen says, ``spy=out`` what they
hear, i.e. the agent). Every transcript segment goes to the desk; every *final* utterance of the caller
feeds the suggestion engine, whose answer (knowledge-base articles, category, unit) is pushed to the same
desk. When the caller's channel is destroyed the tap is removed and the transcript closed (ASR then
publishes ``CallTranscriptClosed``, which the recordings component attaches to the call's recording).

Bus handlers are synchronous and run on whichever thread published; the asynchronous work (ARI requests,
RTP ports) is handed to the event loop the service was started on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from asr.events import TranscriptSegment
from telephony.events import CallAnswered, CallEnded

if TYPE_CHECKING:
    from agent_ui.live import DeskFeed
    from asr.ari_tap import AriTap, CallTapHandles
    from asr.service import TranscriptionService
    from hotline.bootstrap import App
    from routing.suggest.service import SuggestionEngine, Suggestions

log = logging.getLogger(__name__)

# Only the citizen's words decide the category: the agent's questions ("您是哪个区的？") would blur it.
SUGGEST_FROM_LEGS = ("caller",)


class SuggestionSource(Protocol):
    def get(self) -> SuggestionEngine: ...


@dataclass
class _Tapped:
    handles: CallTapHandles | None = None


class LiveCalls:
    def __init__(
        self,
        *,
        feed: DeskFeed,
        loop: asyncio.AbstractEventLoop,
        transcription: TranscriptionService | None = None,
        tap: AriTap | None = None,
        suggestions: SuggestionSource | None = None,
        on_suggestions: Callable[[Suggestions], None] | None = None,
        category_ids: dict[str, int] | None = None,
    ) -> None:
        self.feed = feed
        self.loop = loop
        self.transcription = transcription
        self.tap = tap
        self.suggestions = suggestions
        self.on_suggestions = on_suggestions
        self.category_ids = category_ids or {}  # taxonomy path -> category id, for the desk's order form
        self._taps: dict[str, Future[_Tapped]] = {}
        self._agents: dict[str, str] = {}  # call id -> agent user name

    def install(self, bus: Any) -> LiveCalls:
        bus.subscribe(CallAnswered, self.answered)
        bus.subscribe(CallEnded, self.ended)
        bus.subscribe(TranscriptSegment, self.segment)
        return self

    # ---- telephony ---------------------------------------------------------------------------------
    def answered(self, event: CallAnswered) -> None:
        self._agents[event.call_id] = event.agent
        self.feed.call_answered(
            event.agent, event.call_id, event.caller_number, event.queue or "", event.ivr_choices
        )
        if self.transcription is not None and self.tap is not None:
            self._taps[event.call_id] = asyncio.run_coroutine_threadsafe(
                self._start_tap(event.call_id), self.loop
            )

    def ended(self, event: CallEnded) -> None:
        agent = self._agents.pop(event.call_id, None) or event.agent
        if agent:
            self.feed.call_ended(agent, event.call_id)
        pending = self._taps.pop(event.call_id, None)
        if pending is not None:
            asyncio.run_coroutine_threadsafe(self._stop_tap(event.call_id, pending), self.loop)
        if self.suggestions is not None:
            with contextlib.suppress(Exception):
                self.suggestions.get().call_ended(event.call_id)

    async def _start_tap(self, call_id: str) -> _Tapped:
        assert self.transcription is not None and self.tap is not None
        tapped = _Tapped()
        try:
            call = await self.transcription.open_call(call_id)
            tapped.handles = await self.tap.tap(call_id, call.ports)
        except Exception:
            # The caller may hang up between the answer and the tap; the call itself is unaffected.
            log.exception("could not tap call %s for transcription", call_id)
            if call_id in self.transcription.calls:
                await self.transcription.close_call(call_id)
        return tapped

    async def _stop_tap(self, call_id: str, pending: Future[_Tapped]) -> None:
        assert self.transcription is not None and self.tap is not None
        tapped = await asyncio.wrap_future(pending)
        if tapped.handles is not None:
            try:
                await self.tap.untap(tapped.handles)
            except Exception:
                log.exception("could not remove the transcription tap of call %s", call_id)
        if call_id in self.transcription.calls:
            await self.transcription.close_call(call_id)

    # ---- ASR -----------------------------------------------------------------------------------------
    def segment(self, segment: TranscriptSegment) -> None:
        from agent_ui.live import TranscriptLine

        # The desk shows the redacted text only (ID-card, phone and bank numbers masked).
        self.feed.transcript(
            TranscriptLine(segment.call_id, segment.leg, segment.text_redacted, segment.is_final)
        )
        wanted = segment.is_final and segment.leg in SUGGEST_FROM_LEGS and segment.text.strip()
        if wanted and self.suggestions is not None:
            self.loop.run_in_executor(None, self._suggest, segment.call_id, segment.text)

    def _suggest(self, call_id: str, text: str) -> None:
        assert self.suggestions is not None
        try:
            result = self.suggestions.get().on_final_utterance(text, call_id)
        except Exception:
            log.exception("suggestions failed for call %s", call_id)
            return
        self.feed.suggestions(to_desk(result, call_id, self.category_ids))
        if self.on_suggestions is not None:
            self.on_suggestions(result)


def to_desk(result: Suggestions, call_id: str, ids: dict[str, int]) -> Any:
    """The suggestion engine's answer in the desk's terms: scored categories and units, matched articles."""
    from agent_ui.wiring import suggestions_ready

    return suggestions_ready(call_id, result, ids)


def start_live_calls(hot: App, loop: asyncio.AbstractEventLoop, *, with_asr: bool = True) -> LiveCalls:
    """Wire a live call's path inside the web process (telephony enabled): desk, ASR, suggestions."""
    from agent_ui.app import desk_feed
    from agent_ui.wiring import category_ids

    transcription = tap = None
    if with_asr and hot.settings.asr_enabled:
        try:
            from asr.ari_tap import AriTap
            from asr.service import build_service
            from telephony.secrets import load_or_create

            transcription = build_service(hot)
            s = hot.settings
            secrets = load_or_create(s.data_dir, ari_password_override=s.ari_password)
            tap = AriTap(s.ari_url, s.ari_user, secrets.ari_password, s.ari_app)
        except Exception as exc:  # no model here: the desk says that no transcript is available
            log.warning("live transcription is off: %s", exc)
            transcription = tap = None
    from routing.suggest.api import EngineHolder

    holder = hot.extras.get("suggestions")
    live = LiveCalls(
        feed=desk_feed(hot),
        loop=loop,
        transcription=transcription,
        tap=tap,
        suggestions=holder if isinstance(holder, EngineHolder) else None,
        category_ids=category_ids(hot),
    )
    hot.extras["live_calls"] = live
    return live.install(hot.bus)
