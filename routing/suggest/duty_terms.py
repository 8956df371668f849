"""Citizens' words for a matter → the duty catalogue's words for it (routing/data/duty_terms.yaml).

A caller says 买到了假化肥; the agriculture bureau's duty reads 负责农资质量监管. They share no character, so the
unit model (unit_model.py) could not find the duty. Before comparing, a request gains the official words of
every citizen word it contains: 买到了假化肥 → 买到了假化肥 农资质量监管.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from routing.reference import data_file

# Callers split a two-character word with a word or two of their own: 被人偷了 says 被偷, 砍了树 says 砍树.
# Longer words are specific enough only as written.
_GAP = 2
_CLAUSE_BREAK = re.compile(r"[，。！？；、,.!?;\s]")


def said_in(word: str, text: str) -> bool:
    if word in text:
        return True
    if len(word) != 2:
        return False
    first, second = word[0], word[1]
    start = text.find(first)
    while start != -1:
        window = _CLAUSE_BREAK.split(text[start + 1 : start + 2 + _GAP], maxsplit=1)[0]
        if second in window:
            return True
        start = text.find(first, start + 1)
    return False


class DutyTermsError(ValueError):
    """The terms file is malformed; the message names the line."""


@dataclass(frozen=True)
class DutyTerm:
    official: str
    said: tuple[str, ...]


class DutyTerms:
    def __init__(self, terms: Sequence[DutyTerm]) -> None:
        self.terms = tuple(terms)
        # Longest said words first, so 病死猪 is tried before 死猪 (both bring the same words anyway).
        self._pairs = sorted(
            ((word, term.official) for term in self.terms for word in term.said), key=lambda p: -len(p[0])
        )

    def found(self, text: str) -> dict[str, str]:
        """Official words → the citizen word in ``text`` that brought them (each official line once)."""
        found: dict[str, str] = {}
        for word, official in self._pairs:
            if official not in found and said_in(word, text):
                found[official] = word
        return found

    def read(self, text: str) -> tuple[str, dict[str, str]]:
        """``text`` followed by the official words of the citizen words in it (each official line once), and
        which citizen word brought each official line (the desk shows that reading)."""
        found = self.found(text)
        return (f"{text} {' '.join(found)}" if found else text), found

    @classmethod
    def packaged(cls) -> DutyTerms:
        return cls.load(data_file("duty_terms.yaml"))

    @classmethod
    def load(cls, path: Path) -> DutyTerms:
        return cls(parse_terms(path.read_text(encoding="utf-8"), str(path)))


def _words(value: object, what: str, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    words = tuple(str(w).strip() if isinstance(w, str) else "" for w in items)
    if not words or any(not w for w in words):
        raise DutyTermsError(f"{where}: {what} must be non-empty words")
    return words


def parse_terms(text: str, name: str = "duty_terms.yaml") -> list[DutyTerm]:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise DutyTermsError(f"{name}: not YAML ({exc.__class__.__name__})") from exc
    if not isinstance(root, yaml.MappingNode):
        raise DutyTermsError(f"{name}: expected a mapping with a 'terms' list")
    entries = [v for k, v in root.value if k.value == "terms"]
    if len(entries) != 1 or not isinstance(entries[0], yaml.SequenceNode):
        raise DutyTermsError(f"{name}: expected one 'terms' list")
    terms: list[DutyTerm] = []
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    for node in entries[0].value:
        line = node.start_mark.line + 1
        where = f"{name} line {line}"
        item = yaml.safe_load(yaml.serialize(node))
        if not isinstance(item, dict) or set(item) != {"official", "said"}:
            raise DutyTermsError(f"{where}: expected {{official: ..., said: [...]}}")
        official = " ".join(_words(item["official"], "official", where))
        said = _words(item["said"], "said", where)
        key = (official, tuple(sorted(said)))
        if key in seen:
            raise DutyTermsError(f"{where}: repeats line {seen[key]}")
        seen[key] = line
        terms.append(DutyTerm(official, said))
    return terms
