"""The desk's live transcript of one call: one line per utterance, updated in place from partial to final.

A recognizer speaks of one leg (the citizen, the agent) at a time and its utterances on a leg follow one
another, so each leg has at most one *open* utterance: the one its partials are about. A partial updates the
leg's open line (or opens one); a final closes it, keeping the line's key, so the browser replaces the
partial where it stands. Start times cannot tie a partial to its final: Vosk's partials start where the
leg's previous utterance ended, its finals at their first word (``asr/engine.py``). Times only settle one
case: a final that ended before the open partial began (a second pass, still decoding an utterance while
the next one's partials arrive) is a line of its own, placed before the partial.

Lines are keyed ``<leg>-<n>``, the n-th utterance of the leg in this picture. The browser keeps all finals
and at most one partial per leg, so the page grows by one line per utterance, never per partial.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

# What a recognizer says in a partial when it hears speech but cannot decode partials (issue 10: Whisper
# finals without a streaming model of the call's language): the desk shows a speaking indicator instead.
SPEAKING_PLACEHOLDERS = frozenset({"正在说话", "说话中", "speaking"})


def is_speaking_placeholder(text: str) -> bool:
    """ "正在说话…", "speaking...", "(speaking)" or no text at all."""
    core = text.strip().strip("…。.·()（）[]【】 ").lower()
    return core in SPEAKING_PLACEHOLDERS or not core


@dataclass(frozen=True)
class TranscriptLine:
    """``speaker`` is "caller" or "agent"; ``start_ms``/``end_ms`` are call-relative (from the tap's start;
    ``end_ms`` 0 = not known). ``placeholder``: a partial saying only that someone speaks (the recognizer cannot decode partials yet). ``key`` and
    ``before`` are given by :class:`LiveTranscript`: the line's identity, and for a new line the key of the
    line it goes before ("" = at the end)."""

    call_id: str
    speaker: str
    text: str
    final: bool
    start_ms: int = 0
    end_ms: int = 0  # 0: not known
    placeholder: bool = False
    key: str = ""
    before: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "key": self.key,
            "speaker": self.speaker,
            "text": "" if self.placeholder else self.text,
            "final": self.final,
            "start_ms": self.start_ms,
            "placeholder": self.placeholder,
            "before": self.before,
        }


class LiveTranscript:
    """The lines of one call in display order (not thread-safe: the feed holds its lock around it)."""

    def __init__(self) -> None:
        self.lines: list[TranscriptLine] = []
        self._index: dict[str, int] = {}  # key -> position in lines
        self._open: dict[str, str] = {}  # leg -> key of its open (partial) line
        self._count: dict[str, int] = {}  # leg -> utterances so far

    def __iter__(self) -> Iterator[TranscriptLine]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def add(self, line: TranscriptLine) -> TranscriptLine:
        """Place the line; returns it with its key (and ``before`` when inserted ahead of a partial)."""
        leg = line.speaker
        open_key = self._open.get(leg)
        if open_key is not None:
            current = self.lines[self._index[open_key]]
            if not line.final:
                return self._set(replace(line, key=open_key))
            if not line.end_ms or line.end_ms > current.start_ms:
                del self._open[leg]
                return self._set(replace(line, key=open_key, placeholder=False))
            # A late final of an earlier utterance: its own line, ahead of the open partial.
            return self._insert(replace(line, key=self._new_key(leg), placeholder=False), open_key)
        keyed = replace(line, key=self._new_key(leg), placeholder=line.placeholder and not line.final)
        if not line.final:
            self._open[leg] = keyed.key
        return self._insert(keyed, "")

    def _new_key(self, leg: str) -> str:
        n = self._count.get(leg, 0) + 1
        self._count[leg] = n
        return f"{leg}-{n}"

    def _set(self, line: TranscriptLine) -> TranscriptLine:
        self.lines[self._index[line.key]] = line
        return line

    def _insert(self, line: TranscriptLine, before: str) -> TranscriptLine:
        if not before:
            self._index[line.key] = len(self.lines)
            self.lines.append(line)
            return line
        at = self._index[before]
        self.lines.insert(at, line)
        for i in range(at, len(self.lines)):
            self._index[self.lines[i].key] = i
        return replace(line, before=before)
