"""Small ports to the components beside the desk. Each is optional: the composition root sets an adapter on
the desk's parts (``agent_ui.parts.DeskParts``), and until it does the page shows that nothing is available
(or that the switch is not connected)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from agent_ui.live import KbAnswer

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


@runtime_checkable
class AgentSwitch(Protocol):
    """The agent's state on the switch (telephony.agents.AgentDesk): app_queue membership follows the desk's
    ready / paused / wrap-up. ``apply_desk_status`` raises ValueError or RuntimeError when the switch refuses."""

    def has_account(self, username: str) -> bool: ...

    def apply_desk_status(self, username: str, status: str, now: datetime, reason: str = "") -> None: ...

    def logout(self, username: str, now: datetime) -> None:
        """Leaves every queue (the agent logged out of the desk)."""
        ...


@runtime_checkable
class CallControl(Protocol):
    """Transfers and three-way calls of the agent's current call (telephony.desk.DeskTelephony), also with
    the emergency lines, and the work orders linked to a call."""

    def current_call(self, agent: str) -> str | None: ...

    def blind_transfer(self, call_id: str, target: str) -> None: ...

    def attended_transfer(self, call_id: str, target: str) -> None: ...

    def complete_transfer(self, call_id: str) -> None: ...

    def cancel_transfer(self, call_id: str) -> None: ...

    def three_way(self, call_id: str, target: str) -> None: ...

    def caller_number(self, call_id: str) -> str | None: ...

    def emergency(self, call_id: str, *, line: str, dialled: str, mode: str, agent: str) -> Any:
        """Transfer (``transfer``) or three-way (``conference``) with 110/119/120/122; returns the kept
        record (``.at``); raises a ``RuntimeError`` with the switch's reason when it could not."""

    def emergency_transfers(self, call_id: str) -> list[Any]: ...

    def linked_work_orders(self, call_id: str) -> list[str]: ...


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
                heard=tuple(hit.heard),
            )
            for hit in self.kb.search(query, limit)
        ]


@runtime_checkable
class CallbackReports(Protocol):
    """Missed-call callbacks (漏接电话回拨) for supervisors: the period's missed calls, the callbacks owed, each
    call made and its outcome, the share called back (telephony.callback_report.CallbackReports is the real
    one). The same JSON-able shape feeds the page and the JSON."""

    def report(self, since: datetime, until: datetime, *, limit: int = 100) -> dict[str, Any]: ...


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
