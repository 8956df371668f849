"""A fitted text pipeline's arithmetic, without scikit-learn's per-call machinery, for one text at a time.

Scoring one utterance through ``Pipeline.decision_function`` spent ~1 ms of a 1.3 ms call in input
validation, FeatureUnion's joblib dispatch and sparse-matrix construction; the arithmetic itself is a few
dozen n-gram look-ups and a dot product. ``TextFeatures`` redoes exactly what the fitted
``TfidfVectorizer`` does (same analyzer, vocabulary, idf, sublinear tf, L2 norm) on a dict, and
``LinearScorer`` does the linear model's dot product on the few columns a text touches. Both are checked
against the scikit-learn path in tests/unit/suggest/test_fastlinear.py; anything they do not recognise
returns None and the caller keeps the scikit-learn path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

Sparse = tuple[NDArray[np.int64], NDArray[np.float64]]  # (column indices, values) of one row


class QueryTfidf:
    """One text's row of a fitted TfidfVectorizer (L2-normalised)."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf: NDArray[np.float64] = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.binary = bool(vectorizer.binary)
        self.size = len(self.vocabulary)

    def row(self, text: str) -> Sparse:
        vocabulary = self.vocabulary
        counts = Counter(j for j in map(vocabulary.get, self.analyze(text)) if j is not None)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.binary:
            tf = np.ones_like(tf)
        elif self.sublinear:
            tf = 1.0 + np.log(tf)
        values = tf * self.idf[idx]
        norm = math.sqrt(float(values @ values))
        return idx, (values / norm if norm > 0 else values)


class _Taxonomy:
    def __init__(self, features: Any) -> None:
        self.features = features
        self.size = len(features.vocabulary_)

    def row(self, text: str) -> Sparse:
        found = sorted({self.features.vocabulary_[m.group()] for m in self.features.pattern_.finditer(text)})
        idx = np.array(found, dtype=np.int64)
        return idx, np.full(len(found), 1.0 / math.sqrt(len(found)) if found else 0.0)


class TextFeatures:
    """One text → the row the fitted vectorizer (or union of them) would produce, as (indices, values)."""

    def __init__(self, parts: list[tuple[Any, float, int]]) -> None:
        self.parts = parts  # (part, weight, column offset)

    @classmethod
    def of(cls, transformer: Any) -> TextFeatures | None:
        from routing.suggest.classifier import TaxonomyWords

        def part(t: Any) -> Any:
            if isinstance(t, TfidfVectorizer) and t.norm == "l2" and hasattr(t, "idf_"):
                return QueryTfidf(t)
            if isinstance(t, TaxonomyWords) and hasattr(t, "pattern_"):
                return _Taxonomy(t)
            return None

        if isinstance(transformer, FeatureUnion):
            weights = transformer.transformer_weights or {}
            parts, offset = [], 0
            for name, t in transformer.transformer_list:
                p = part(t)
                if p is None:
                    return None
                parts.append((p, float(weights.get(name, 1.0)), offset))
                offset += p.size
            return cls(parts)
        single = part(transformer)
        return cls([(single, 1.0, 0)]) if single is not None else None

    def row(self, text: str) -> Sparse:
        pieces = [(p.row(text), weight, offset) for p, weight, offset in self.parts]
        idx = np.concatenate([i + offset for (i, _), _, offset in pieces])
        values = np.concatenate([v * weight for (_, v), weight, _ in pieces])
        return idx, values


class LinearScorer:
    """Decision values of a fitted ``Pipeline([(features), (LinearSVC | SGDClassifier)])`` for one text."""

    def __init__(self, features: TextFeatures, coef: NDArray[np.float64], intercept: NDArray[np.float64]):
        self.features = features
        self.coef_t = np.ascontiguousarray(coef.T, dtype=np.float64)  # rows: features, columns: classes
        self.intercept = np.asarray(intercept, dtype=np.float64)

    @classmethod
    def of(cls, pipeline: Pipeline, n_classes: int) -> LinearScorer | None:
        if len(pipeline.steps) != 2:
            return None
        clf = pipeline.steps[-1][1]
        if not isinstance(clf, LinearSVC | SGDClassifier) or clf.coef_.shape[0] != n_classes:
            return None
        features = TextFeatures.of(pipeline.steps[0][1])
        if features is None:
            return None
        return cls(features, clf.coef_, clf.intercept_)

    def decision(self, text: str) -> NDArray[np.float64]:
        idx, values = self.features.row(text)
        out: NDArray[np.float64] = values @ self.coef_t[idx] + self.intercept
        return out
