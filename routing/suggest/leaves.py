"""Leaf categories (level1/level2/level3) within the first-level categories the classifier chose.

The training file has only first-level labels, so leaves cannot be learnt from it. Each leaf gets a small
description instead: its level-2 and level-3 names, plus the titles and keywords of knowledge-base articles
filed under it, plus (once the hotline has history) descriptions of closed work orders with that category
path. The text is compared with every leaf description of the chosen first-level categories by character
n-gram TF-IDF cosine; the leaf score is P(level1) × (0.3 + 0.7 × similarity share). Limits: a leaf with no
articles and no orders is known only by its two names, so its ranking is rough; "其他" leaves score last.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from routing.reference import default_taxonomy_csv
from routing.suggest.fastlinear import QueryTfidf
from routing.suggest.textnorm import normalize

# A leaf of a first-level category the classifier does not know must match at least this well (cosine of
# character 2–3-gram TF-IDF) before it is offered.
MIN_UNSEEN_SIMILARITY = 0.15


@dataclass(frozen=True)
class Leaf:
    path: str
    level1: str
    level2: str
    level3: str


def read_leaves(path: Path | None = None) -> list[Leaf]:
    with (path or default_taxonomy_csv()).open(encoding="utf-8") as f:
        return [
            Leaf(f"{r['level1']}/{r['level2']}/{r['level3']}", r["level1"], r["level2"], r["level3"])
            for r in csv.DictReader(f)
        ]


class LeafScorer:
    def __init__(self, leaves: list[Leaf], evidence: Mapping[str, Iterable[str]] | None = None) -> None:
        """``evidence``: extra text per leaf path (article titles and keywords, closed orders' texts)."""
        self.leaves = leaves
        extra: dict[str, list[str]] = defaultdict(list)
        for path, texts in (evidence or {}).items():
            extra[path].extend(texts)
        docs = []
        for leaf in leaves:
            names = "" if leaf.level3 == "其他" else f"{leaf.level3} {leaf.level3} "
            docs.append(normalize(f"{names}{leaf.level2} {' '.join(extra.get(leaf.path, []))}"))
        self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform(docs)
        # Per utterance: the query's few n-grams pick columns (fastlinear: no scikit-learn per-call cost).
        self._query = QueryTfidf(self.vectorizer)
        self._columns = self.matrix.tocsc()
        self.by_level1: dict[str, np.ndarray] = {}
        for level1 in {leaf.level1 for leaf in leaves}:
            self.by_level1[level1] = np.array([i for i, leaf in enumerate(leaves) if leaf.level1 == level1])

    def score(
        self,
        text: str,
        level1_scores: list[tuple[str, float]],
        k: int = 5,
        unseen: frozenset[str] = frozenset(),
    ) -> list[tuple[Leaf, float]]:
        """``unseen``: first-level categories the classifier never learnt (its training messages have 7 of
        the taxonomy's 15: no 政法, 民政, 农村农业 …). Their leaves compete on the text alone: the best of
        them is offered when it matches the text better than the leaves of the classifier's first choice
        (新生儿上户口 → 政法/户籍证件/户籍管理, which no training message could teach)."""
        idx, values = self._query.row(normalize(text))
        sims = np.asarray(self._columns[:, idx] @ values).ravel()
        scored: list[tuple[Leaf, float]] = []
        for level1, p in level1_scores:
            rows = self.by_level1.get(level1)
            if rows is None or rows.size == 0:
                continue
            local = sims[rows]
            share = local / local.max() if local.max() > 0 else np.zeros_like(local)
            for row, s in zip(rows, share, strict=True):
                scored.append((self.leaves[row], float(p * (0.3 + 0.7 * s))))
        scored.extend(self._unseen(sims, level1_scores, unseen))
        scored.sort(key=lambda item: (-item[1], item[0].level3 == "其他"))
        return scored[:k]

    def _unseen(
        self, sims: np.ndarray, level1_scores: list[tuple[str, float]], unseen: frozenset[str]
    ) -> list[tuple[Leaf, float]]:
        if not unseen or not level1_scores:
            return []
        parts = [self.by_level1[name] for name in unseen if name in self.by_level1]
        rows = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
        top_level1, top_p = level1_scores[0]
        known = self.by_level1.get(top_level1)
        if rows.size == 0 or known is None or known.size == 0:
            return []
        best = int(rows[np.argmax(sims[rows])])
        known_best = float(sims[known].max())
        if sims[best] < MIN_UNSEEN_SIMILARITY or sims[best] <= known_best:
            return []
        # Just above the classifier's best leaf when clearly nearer, in proportion to how much nearer.
        lead = min(sims[best] / max(known_best, 1e-9), 2.0)
        return [(self.leaves[best], float(top_p * min(1.1, 0.5 + 0.3 * lead)))]
