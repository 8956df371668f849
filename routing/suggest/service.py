"""Agent assist: from the text of a call so far (or a typed description) to categories, units and articles.

``SuggestionEngine.suggest`` is pure computation over models held in memory (no database, no clock): the
first-level classifier, the leaf scorer, routing's dispatcher and the knowledge-base index. The composition
root (hotline/live_calls.py) calls ``on_final_utterance`` off the event loop on each final utterance and
pushes the result to the desk; each call's transcript accumulates so the suggestion sharpens as the citizen
explains. The last result of each call stays available (``last``) until the call ends, so that the desk can record
what the agent did with it (``routing.suggest.feedback.record``: accepted or changed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from routing.dispatch import Dispatcher
from routing.kb.index import KbIndex
from routing.suggest.classifier import CategoryClassifier
from routing.suggest.leaves import LeafScorer
from routing.suggest.phonetic import Correction, SoundAlike
from routing.suggest.textnorm import normalize, taxonomy_words
from routing.suggest.unit_model import UnitModel
from routing.suggest.units import UnitSuggestion, category_ids, suggest_units

# The classifier reads at most this much of a call's transcript (the most recent part).
TRANSCRIPT_WINDOW = 1500


@dataclass(frozen=True)
class CategoryScore:
    name: str
    score: float

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Suggestions:
    """What the agent desk shows beside a call: push ``to_dict()`` as JSON (server-sent event)."""

    text: str
    categories: list[CategoryScore]
    leaves: list[CategoryScore]
    units: list[UnitSuggestion]
    articles: list[dict[str, object]] = field(default_factory=list)
    call_id: str | None = None
    compute_ms: float = 0.0
    heard: tuple[Correction, ...] = ()  # words read by sound (佛地产 → 房地产), shown on the desk

    def to_dict(self) -> dict[str, object]:
        return {
            "call_id": self.call_id,
            "heard": [{"heard": c.heard, "word": c.word, "how": c.how, "why": c.why()} for c in self.heard],
            "categories": [c.to_dict() for c in self.categories],
            "leaves": [c.to_dict() for c in self.leaves],
            "units": [u.to_dict() for u in self.units],
            "articles": self.articles,
            "compute_ms": round(self.compute_ms, 3),
        }


class SuggestionEngine:
    def __init__(
        self,
        classifier: CategoryClassifier,
        leaves: LeafScorer,
        dispatcher: Dispatcher,
        kb: KbIndex | None,
        now: Callable[[], datetime],
        units: UnitModel | None = None,
        sounds: SoundAlike | None = None,
    ) -> None:
        """``units``: the duty-catalogue model (None: units from the category alone). ``sounds``: the
        vocabulary that near-miss words of the transcript are read as (default: the taxonomy's words and
        the knowledge base's index words)."""
        self.classifier = classifier
        self.leaves = leaves
        self.dispatcher = dispatcher
        self._category_ids = category_ids(dispatcher)
        self._unseen = frozenset({leaf.level1 for leaf in leaves.leaves} - set(classifier.labels))
        self.kb = kb
        self.now = now
        self.units = units
        if sounds is None:
            vocabulary = set(taxonomy_words())
            if kb is not None:
                vocabulary.update(kb.sounds.words)
            sounds = SoundAlike(vocabulary)
        self.sounds = sounds
        self._transcripts: dict[str, str] = {}
        self._last: dict[str, Suggestions] = {}
        self._lock = threading.Lock()

    def suggest(
        self,
        text: str,
        now: datetime | None = None,
        *,
        call_id: str | None = None,
        articles: int = 3,
        with_units: bool = True,
    ) -> Suggestions:
        started = time.perf_counter()
        heard = tuple(self.sounds.corrections(normalize(text)))
        # The words heard stay; the words they sound like are read beside them (a recognition error costs
        # the classifier one wrong word instead of the one that mattered).
        read = f"{text} {' '.join(c.word for c in heard)}" if heard else text
        ranked = self.classifier.ranked(read)
        categories = [CategoryScore(name, score) for name, score in ranked]
        leaf_scores = self.leaves.score(read, ranked[:3], k=5, unseen=self._unseen)
        units = []
        if with_units:
            evidence = self.units.evidence(read) if self.units is not None else []
            units = suggest_units(
                self.dispatcher, leaf_scores, read, ids=self._category_ids, evidence=evidence
            )
        hits = []
        if self.kb is not None and articles > 0:
            hits = [
                h.to_dict() for h in self.kb.search(text, now or self.now(), articles, category=ranked[0][0])
            ]
        return Suggestions(
            text=text,
            categories=categories,
            leaves=[CategoryScore(leaf.path, score) for leaf, score in leaf_scores],
            units=units,
            articles=hits,
            call_id=call_id,
            compute_ms=(time.perf_counter() - started) * 1000,
            heard=heard,
        )

    def on_final_utterance(self, text: str, call_id: str) -> Suggestions:
        """One more final utterance of a call: suggestions for the whole transcript so far."""
        with self._lock:
            transcript = f"{self._transcripts.get(call_id, '')} {text}".strip()[-TRANSCRIPT_WINDOW:]
            self._transcripts[call_id] = transcript
        result = self.suggest(transcript, call_id=call_id)
        with self._lock:
            # Two finals may be suggested on in parallel; the desk keeps the one for the longer transcript.
            if self._transcripts.get(call_id) == transcript:
                self._last[call_id] = result
        return result

    def last(self, call_id: str) -> Suggestions | None:
        """What the desk shows for the call now (the material of the agent's feedback)."""
        with self._lock:
            return self._last.get(call_id)

    def call_ended(self, call_id: str) -> None:
        with self._lock:
            self._transcripts.pop(call_id, None)
            self._last.pop(call_id, None)
