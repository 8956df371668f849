"""Small ports to the components being built beside the desk. Each is optional: the composition root puts an
adapter in ``hot.extras`` under the key named here, and until it does the page shows that nothing is
available (or that the switch is not connected)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from agent_ui.live import KbAnswer
from hotline.bootstrap import App

KB_SEARCH = "kb_search"
KNOWLEDGE_BASE = "kb"  # routing.kb.api installs its KnowledgeBase here
CALL_MONITOR = "call_monitor"
RECORDINGS = "recordings_catalog"
SUGGESTIONS = "suggestions"  # routing.suggest.api installs its EngineHolder here

MONITOR_MODES = ("spy", "whisper", "barge")


@runtime_checkable
class KbSearch(Protocol):
    def search(self, query: str, limit: int = 5) -> list[KbAnswer]: ...


@runtime_checkable
class CallMonitor(Protocol):
    """Live monitoring of a call by a supervisor's phone (telephony.monitor.AriCallMonitor is the real one).

    ``mode``: ``spy`` the supervisor hears both sides; ``whisper`` the agent also hears the supervisor, the
    caller does not; ``barge`` both hear the supervisor. ``monitor`` rings the supervisor's extension and
    returns an id for ``stop``. Raises ``MonitorError`` when the switch refuses (e.g. the call just ended).
    """

    def monitor(self, call_id: str, supervisor_extension: str, mode: str) -> str: ...

    def stop(self, session_id: str) -> None: ...


class MonitorError(RuntimeError):
    """The switch refused to set up (or tear down) a monitoring session."""


@dataclass(frozen=True)
class RecordingInfo:
    id: str
    call_id: str
    caller: str
    agent: str
    started_at: datetime
    duration_seconds: float
    url: str  # served with HTTP range requests by the recordings component


@runtime_checkable
class RecordingsCatalog(Protocol):
    def recent(self, limit: int = 50) -> list[RecordingInfo]: ...


class KnowledgeBaseSearch:
    """Adapts routing's knowledge base (jieba + BM25, ``routing.kb.service.KnowledgeBase``) to the port."""

    def __init__(self, kb: Any) -> None:
        self.kb = kb

    def search(self, query: str, limit: int = 5) -> list[KbAnswer]:
        return [
            KbAnswer(
                title=hit.article.title,
                text=hit.article.body,
                score=float(hit.score),
                matched=tuple(hit.matched),
                category=hit.article.category,
                unit_name=hit.article.unit_name,
                article_id=hit.article.id,
            )
            for hit in self.kb.search(query, limit)
        ]


def kb_search(hot: App) -> KbSearch | None:
    port = hot.extras.get(KB_SEARCH)
    if isinstance(port, KbSearch):
        return port
    kb = hot.extras.get(KNOWLEDGE_BASE)
    if kb is not None and callable(getattr(kb, "search", None)) and hasattr(kb, "index"):
        return KnowledgeBaseSearch(kb)
    return None


def call_monitor(hot: App) -> CallMonitor | None:
    port = hot.extras.get(CALL_MONITOR)
    return port if isinstance(port, CallMonitor) else None


def recordings_catalog(hot: App) -> RecordingsCatalog | None:
    port = hot.extras.get(RECORDINGS)
    return port if isinstance(port, RecordingsCatalog) else None


class FakeKbSearch:
    """For tests and demonstrations: answers whose title or text contains the query."""

    def __init__(self, answers: list[KbAnswer]) -> None:
        self.answers = answers

    def search(self, query: str, limit: int = 5) -> list[KbAnswer]:
        return [
            KbAnswer(a.title, a.text, a.score, (query,), a.category, a.unit_name, a.article_id)
            for a in self.answers
            if query and (query in a.title or query in a.text)
        ][:limit]


class FakeCallMonitor:
    """Records requests; held to the real adapter's behaviour by tests/integration/test_agent_ui_monitor.py."""

    def __init__(self, live_calls: set[str] | None = None) -> None:
        self.requests: list[tuple[str, str, str]] = []
        self.stopped: list[str] = []
        self.live_calls = live_calls  # None: every call is live

    def monitor(self, call_id: str, supervisor_extension: str, mode: str) -> str:
        if mode not in MONITOR_MODES:
            raise ValueError(f"unknown monitoring mode {mode!r}")
        if self.live_calls is not None and call_id not in self.live_calls:
            raise MonitorError(f"no channel {call_id}")
        self.requests.append((call_id, supervisor_extension, mode))
        return f"fake-{len(self.requests)}"

    def stop(self, session_id: str) -> None:
        self.stopped.append(session_id)
