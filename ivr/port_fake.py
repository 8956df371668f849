"""A scripted call port for tests: the keys the caller will press, and a record of what the IVR did."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ivr.port import CallerHungUp
from ivr.typeahead import END_KEY, answer_in, answer_so_far


@dataclass
class FakeCallPort:
    """``keys``: what the caller presses when a question waits for them, one entry per question that waits;
    None is a timeout. When the script runs out the caller hangs up (``CallerHungUp``), as a real caller who
    stopped pressing keys eventually would.

    Type-ahead as on the switch (``ivr.agi_port``): ``ahead`` are keys pressed before the first prompt,
    ``during`` maps a prompt to the keys pressed while it plays (they stop it). Keys pressed ahead answer the
    next questions without a wait, and a prompt is skipped while keys are pending."""

    keys: Iterable[str | None] = ()
    ahead: str = ""
    during: Mapping[str, str] = field(default_factory=dict)
    played: list[str] = field(default_factory=list)  # every prompt played, including those of read_digits
    asked: list[tuple[str, int, int]] = field(default_factory=list)  # the questions that waited for keys
    variables: dict[str, str] = field(default_factory=dict)
    hung_up: bool = False

    def __post_init__(self) -> None:
        self._script: deque[str | None] = deque(self.keys)
        self._pending = self.ahead

    def play(self, prompt: str) -> None:
        self._alive()
        if self._pending:
            return
        self.played.append(prompt)
        self._pending += self.during.get(prompt, "")

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        self._alive()
        found = answer_in(self._pending, max_digits)
        if found is None:
            if not self._pending:
                self.played.append(prompt)
            self.asked.append((prompt, max_digits, timeout_ms))
            if not self._script:
                self.hung_up = True
                raise CallerHungUp("the scripted caller has no more keys")
            pressed = self._script.popleft() or ""
            ends = END_KEY if 0 < len(pressed) < max_digits and not pressed.endswith(END_KEY) else ""
            self._pending += pressed + ends
            found = answer_so_far(self._pending, max_digits)
        answer, used = found
        self._pending = self._pending[used:]
        return answer or None

    def pending(self) -> str:
        self._alive()
        return self._pending

    def set_variable(self, name: str, value: str) -> None:
        self._alive()
        self.variables[name] = value

    def hangup(self) -> None:
        self.hung_up = True

    def _alive(self) -> None:
        if self.hung_up:
            raise CallerHungUp("the call is over")
