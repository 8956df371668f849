"""The call port: the few things the IVR engine does to a call. Adapters: FastAGI (``agi_port``), fake."""

from __future__ import annotations

from typing import Protocol


class CallerHungUp(Exception):
    """The caller went away (or Asterisk closed the session): the engine stops at once."""


class CallPort(Protocol):
    def play(self, prompt: str) -> None:
        """Play a sound (an Asterisk sound name without extension, e.g. ``hotline/zh/welcome``). Any key stops
        it and is kept for the next question; a prompt is skipped when the caller has already keyed ahead."""

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        """Collect up to ``max_digits`` keys (``#`` ends early), first those keyed ahead; ``prompt`` plays only
        when none were. None on a timeout."""

    def pending(self) -> str:
        """Keys the caller pressed ahead that no question has used yet (``ivr.typeahead``)."""

    def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable that the dialplan reads after the IVR."""

    def hangup(self) -> None:
        """Hang the call up."""
