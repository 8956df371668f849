"""Words the recognizer got wrong by sound: 佛地产 for 房地产, 公基金 for 公积金, 社报 for 社保卡.

Whisper on telephone audio swaps characters that sound alike or nearly alike. The knowledge base and the
suggestion models know a vocabulary (taxonomy words, synonyms, article keywords and titles, duty texts);
a span of the transcript that is not in it but sounds like one of its words is read as that word too:

- the same toneless pinyin (公基金 gong ji jin = 公积金), three syllables or more: "同音";
- the same initials with every syllable but one identical (佛地产 f-o d-i ch-an ~ 房地产 f-ang d-i ch-an),
  three syllables or more: "音近".

Two-syllable words are left alone: Mandarin has too many two-syllable homophones (事件/时间) for a guess
there to help more than it harms. Corrections are added beside the words heard, never in their place, and
each one says what was heard and why, so the desk can show it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

MIN_SYLLABLES = 3
MAX_SYLLABLES = 6
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")


@dataclass(frozen=True)
class Correction:
    heard: str  # what the transcript says
    word: str  # the vocabulary word it sounds like
    how: str  # 同音 | 音近

    def why(self) -> str:
        return f"「{self.heard}」{self.how}「{self.word}」"


@lru_cache(maxsize=32_768)
def _syllable(ch: str) -> str:
    if "\u4e00" <= ch <= "\u9fff":
        return str(lazy_pinyin(ch)[0])
    return ch


def syllables(text: str) -> list[str]:
    """One toneless pinyin syllable per character, each character read alone (so a word and the same word
    inside a sentence always sound the same here; non-Chinese characters stand for themselves). Cached per
    character: pypinyin's phrase analysis cost more than the rest of a suggestion."""
    return [_syllable(ch) for ch in text]


def initials(sounds: Iterable[str]) -> tuple[str, ...]:
    """The initial consonant of each syllable; zh/ch/sh kept whole, a syllable without one stands as "-"."""
    out = []
    for s in sounds:
        if s[:2] in ("zh", "ch", "sh"):
            out.append(s[:2])
        elif s and s[0] in "bpmfdtnlgkhjqxrzcsyw":
            out.append(s[0])
        else:
            out.append("-")
    return tuple(out)


class SoundAlike:
    """A vocabulary indexed by sound; ``corrections(text)`` finds spans that sound like its words."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.words: set[str] = set()
        self._exact: dict[tuple[str, ...], str] = {}
        self._by_initials: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = {}
        for word in sorted(set(vocabulary)):
            if not (MIN_SYLLABLES <= len(word) <= MAX_SYLLABLES and _HAN.match(word)):
                continue
            sounds = tuple(syllables(word))
            if len(sounds) != len(word):
                continue
            self.words.add(word)
            self._exact.setdefault(sounds, word)
            self._by_initials.setdefault(initials(sounds), []).append((word, sounds))

    def __len__(self) -> int:
        return len(self.words)

    def corrections(self, text: str, known: set[str] | frozenset[str] = frozenset()) -> list[Correction]:
        """Spans of ``text`` that are not words of the vocabulary (nor of ``known``) but sound like one."""
        found: list[Correction] = []
        seen: set[str] = set()
        for run in re.findall(r"[\u4e00-\u9fff]{3,}", text):
            sounds = syllables(run)
            if len(sounds) != len(run):
                continue
            heads = initials(sounds)
            taken = [False] * len(run)  # the longest correction of a stretch wins; its parts are not offered
            for size in range(min(MAX_SYLLABLES, len(run)), MIN_SYLLABLES - 1, -1):
                for i in range(len(run) - size + 1):
                    span = run[i : i + size]
                    if span in self.words or span in known or span in seen or any(taken[i : i + size]):
                        continue
                    hit = self._match(tuple(sounds[i : i + size]), heads[i : i + size])
                    if hit is not None and hit.word not in text:
                        found.append(Correction(span, hit.word, hit.how))
                        seen.add(span)
                        taken[i : i + size] = [True] * size
        return found

    def _match(self, sounds: tuple[str, ...], heads: tuple[str, ...]) -> Correction | None:
        exact = self._exact.get(sounds)
        if exact is not None:
            return Correction("", exact, "同音")
        for word, theirs in self._by_initials.get(heads, ()):
            if sum(a != b for a, b in zip(sounds, theirs, strict=True)) == 1:
                return Correction("", word, "音近")
        return None


def tone_marks(text: str) -> str:
    """Pinyin with tone marks (fáng dì chǎn), for the desk's explanation of a correction."""
    return " ".join(lazy_pinyin(text, style=Style.TONE))
