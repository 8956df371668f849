"""The assist during a call: keeps each call's caller number and the citizen's final utterances (as recognised,
unredacted: a callback number read out must survive), and on each new final returns the form's suggested
values. The composition root (hotline/live_calls.py) calls it beside the suggestion engine, off the event loop,
and pushes the result to the agent's desk. No personal data leaves through a log line.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from routing.assist.autofill import Autofill, fill
from routing.assist.gazetteer import Gazetteer, default_gazetteer
from routing.commands import normalize_phone
from routing.dispatch import Dispatcher

# A long call is summarised from its last finals: what the citizen said first is usually greeting.
MAX_FINALS = 40


@dataclass
class _Call:
    caller: str
    finals: list[str] = field(default_factory=list)


class Assistant:
    def __init__(self, gazetteer: Gazetteer | None = None, dispatcher: Dispatcher | None = None) -> None:
        self.gazetteer = gazetteer or default_gazetteer()
        self.dispatcher = dispatcher
        self._calls: dict[str, _Call] = {}
        self._lock = threading.Lock()

    def call_started(self, call_id: str, caller: str) -> None:
        with self._lock:
            self._calls[call_id] = _Call(caller)

    def on_final(
        self, call_id: str, text: str, suggestions: Any = None, dispatcher: Dispatcher | None = None
    ) -> Autofill:
        """One more final utterance of the citizen: the form's suggested values from all finals so far."""
        with self._lock:
            call = self._calls.setdefault(call_id, _Call(""))
            if text.strip():
                call.finals.append(text.strip())
                del call.finals[:-MAX_FINALS]
            finals, caller = list(call.finals), call.caller
        return self.fill(call_id, finals, caller, suggestions, dispatcher or self.dispatcher)

    def fill(
        self,
        call_id: str,
        finals: list[str],
        caller: str,
        suggestions: Any = None,
        dispatcher: Dispatcher | None = None,
    ) -> Autofill:
        unit_for = dispatcher.territorial if dispatcher is not None else None

        def usual_type(path: str) -> str | None:
            if dispatcher is None:
                return None
            for category in dispatcher.categories.values():
                if category.path == path:
                    return str(category.case_type)
            return None

        return fill(
            call_id,
            finals,
            caller,
            self.gazetteer,
            suggestions,
            valid_phone=normalize_phone,
            unit_for=unit_for,
            default_case_type=usual_type,
        )

    def call_ended(self, call_id: str) -> None:
        with self._lock:
            self._calls.pop(call_id, None)
