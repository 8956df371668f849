"""A scripted call port for tests: the keys the caller will press, and a record of what the IVR did."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ivr.port import CallerHungUp


@dataclass
class FakeCallPort:
    """``keys``: one entry per ``read_digits`` call; None is a timeout. When the script runs out the caller
    hangs up (``CallerHungUp``), as a real caller who stopped pressing keys eventually would."""

    keys: Iterable[str | None] = ()
    played: list[str] = field(default_factory=list)  # every prompt, including those of read_digits
    asked: list[tuple[str, int, int]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    hung_up: bool = False

    def __post_init__(self) -> None:
        self._script: deque[str | None] = deque(self.keys)

    def play(self, prompt: str) -> None:
        self._alive()
        self.played.append(prompt)

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        self._alive()
        self.played.append(prompt)
        self.asked.append((prompt, max_digits, timeout_ms))
        if not self._script:
            self.hung_up = True
            raise CallerHungUp("the scripted caller has no more keys")
        return self._script.popleft()

    def set_variable(self, name: str, value: str) -> None:
        self._alive()
        self.variables[name] = value

    def hangup(self) -> None:
        self.hung_up = True

    def _alive(self) -> None:
        if self.hung_up:
            raise CallerHungUp("the call is over")
