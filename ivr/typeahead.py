"""Type-ahead: the keys a caller pressed before the IVR asked for them, used in the order they were pressed.

GB/T 33358 asks a hotline to answer within 15 s and advises against IVR menus; a caller who knows the menu
should not have to sit through it. So every prompt can be interrupted, and a key pressed at any moment — during
a prompt, between two prompts, before the question is even asked — is kept for the next question.

On the switch, the dialplan's ``StoreDTMF(RX,HOTLINE_KEYS)`` (app_dtmfstore) appends every key the caller
presses to a channel variable from the first moment of the call. That matters because Asterisk's AGI loop reads
and discards whatever the channel delivers between two AGI commands (res_agi.c ``run_agi``: "Idle the channel
until we get a command"), so a key pressed in that instant never reaches a command. The variable is the
caller's whole key history; :class:`KeyLedger` remembers how much of it the IVR has used.
"""

from __future__ import annotations

from dataclasses import dataclass

END_KEY = "#"  # ends a multi-digit entry (a work-order number) early


def answer_in(pending: str, max_digits: int) -> tuple[str, int] | None:
    """The answer to a question of up to ``max_digits`` keys that ``pending`` already holds, and how many keys
    it uses (an ending ``#`` is used but not part of the answer); None while more keys may still come."""
    end = pending.find(END_KEY, 0, max_digits + 1)
    if end >= 0:
        return pending[:end], end + 1
    if len(pending) >= max_digits:
        return pending[:max_digits], max_digits
    return None


def answer_so_far(pending: str, max_digits: int) -> tuple[str, int]:
    """After the wait for keys ended (a time-out): whatever was keyed, complete or not."""
    found = answer_in(pending, max_digits)
    return found if found is not None else (pending, len(pending))


@dataclass
class KeyLedger:
    """The caller's key history as the switch reports it, and the part of it the IVR has used."""

    used: int = 0

    def pending(self, history: str) -> str:
        return history[self.used :]

    def use(self, count: int) -> None:
        self.used += count
