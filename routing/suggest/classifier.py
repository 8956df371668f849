"""First-level category classifier: which of the taxonomy's first-level categories a citizen's text is about.

Several candidate models are declared in ``MODEL_SPECS`` so that ``bench/suggest_accuracy.py`` can compare
them on the same held-out split; ``DEFAULT_MODEL`` is the one shipped (chosen by held-out accuracy there).
Every model ends in a per-class score; ``CategoryClassifier.scores`` turns it into probabilities
(softmax of decision values, or predict_proba where the model has it) so the desk can show a confidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from routing.suggest.textnorm import normalize, word_tokens

# Citizens' letters run to thousands of characters; the first part says what the matter is, and cutting
# keeps training and per-utterance compute bounded.
MAX_CHARS = 3000

_SPACE = re.compile(r"\s+")


def prepare(text: str) -> str:
    return _SPACE.sub(" ", normalize(text))[:MAX_CHARS]


def _char_tfidf(ngram: tuple[int, int]) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=ngram, min_df=2, sublinear_tf=True, dtype=np.float32)


def _word_tfidf(ngram: tuple[int, int] = (1, 1)) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=word_tokens,
        token_pattern=None,
        lowercase=False,
        ngram_range=ngram,
        min_df=2,
        sublinear_tf=True,
        dtype=np.float32,
    )


def _char_word() -> FeatureUnion:
    return FeatureUnion([("char", _char_tfidf((1, 2))), ("word", _word_tfidf())])


def _svm(c: float = 1.0) -> LinearSVC:
    # Balanced class weights: 交通运输 has a third as many messages as 城乡建设 and was under-predicted.
    return LinearSVC(C=c, class_weight="balanced")


MODEL_SPECS: dict[str, Callable[[], Pipeline]] = {
    "char13_svm_plain": lambda: Pipeline([("tfidf", _char_tfidf((1, 3))), ("clf", LinearSVC(C=0.5))]),
    "char13_svm": lambda: Pipeline([("tfidf", _char_tfidf((1, 3))), ("clf", _svm())]),
    "char12_svm": lambda: Pipeline([("tfidf", _char_tfidf((1, 2))), ("clf", _svm())]),
    "char12_lr": lambda: Pipeline(
        [
            ("tfidf", _char_tfidf((1, 2))),
            ("clf", LogisticRegression(C=30.0, max_iter=3000, class_weight="balanced")),
        ]
    ),
    "char12_sgd": lambda: Pipeline(
        [
            ("tfidf", _char_tfidf((1, 2))),
            (
                "clf",
                SGDClassifier(
                    loss="modified_huber", alpha=2e-5, max_iter=50, class_weight="balanced", random_state=0
                ),
            ),
        ]
    ),
    "char12_cnb": lambda: Pipeline([("tfidf", _char_tfidf((1, 2))), ("clf", ComplementNB(alpha=0.3))]),
    "word1_svm": lambda: Pipeline([("tfidf", _word_tfidf()), ("clf", _svm())]),
    "word12_svm": lambda: Pipeline([("tfidf", _word_tfidf((1, 2))), ("clf", _svm())]),
    "char12word_svm": lambda: Pipeline([("tfidf", _char_word()), ("clf", _svm())]),
    "char12word_lr": lambda: Pipeline(
        [("tfidf", _char_word()), ("clf", LogisticRegression(C=30.0, max_iter=3000, class_weight="balanced"))]
    ),
}
DEFAULT_MODEL = "char12_svm"


def _softmax(z: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    z = z / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass
class CategoryClassifier:
    """A fitted pipeline and its labels; ``temperature`` spreads decision values into probabilities."""

    name: str
    pipeline: Pipeline
    labels: tuple[str, ...]
    temperature: float = 0.3

    def scores(self, texts: Sequence[str]) -> NDArray[np.float64]:
        prepared = [prepare(t) for t in texts]
        clf: BaseEstimator = self.pipeline.steps[-1][1]
        if isinstance(clf, LinearSVC | SGDClassifier) or not hasattr(clf, "predict_proba"):
            decision = np.asarray(self.pipeline.decision_function(prepared), dtype=np.float64)
            return _softmax(decision, self.temperature)
        return np.asarray(self.pipeline.predict_proba(prepared), dtype=np.float64)

    def ranked(self, text: str) -> list[tuple[str, float]]:
        row = self.scores([text])[0]
        order = np.argsort(-row)
        return [(self.labels[i], float(row[i])) for i in order]


def fit(name: str, texts: Sequence[str], labels: Sequence[str]) -> CategoryClassifier:
    pipeline = MODEL_SPECS[name]()
    pipeline.fit([prepare(t) for t in texts], list(labels))
    classes = tuple(str(c) for c in pipeline.classes_)
    return CategoryClassifier(name, pipeline, classes)
