"""Small ports to the components being built beside the desk. Each is optional: the composition root puts an
adapter in ``hot.extras`` under the key named here, and until it does the page shows that nothing is
available (or that the switch is not connected)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from agent_ui.live import KbAnswer
from hotline.bootstrap import App

KB_SEARCH = "kb_search"
CALL_MONITOR = "call_monitor"
RECORDINGS = "recordings_catalog"


@runtime_checkable
class KbSearch(Protocol):
    def search(self, query: str, limit: int = 5) -> list[KbAnswer]: ...


@runtime_checkable
class CallMonitor(Protocol):
    """Live monitoring through ARI snoop channels: spy (listen), whisper (to the agent only), barge (both)."""

    def monitor(self, call_id: str, supervisor_extension: str, mode: str) -> None: ...


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


def kb_search(hot: App) -> KbSearch | None:
    port = hot.extras.get(KB_SEARCH)
    return port if isinstance(port, KbSearch) else None


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
        return [a for a in self.answers if query and (query in a.title or query in a.text)][:limit]


class FakeCallMonitor:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []

    def monitor(self, call_id: str, supervisor_extension: str, mode: str) -> None:
        self.requests.append((call_id, supervisor_extension, mode))
