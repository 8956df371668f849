"""First-level category classifier: which of the taxonomy's first-level categories a citizen's text is about.

Several candidate models are declared in ``MODEL_SPECS`` so that ``bench/suggest_accuracy.py`` can compare
them on the same held-out split; ``DEFAULT_MODEL`` is the one shipped (chosen by held-out accuracy there).
Every model ends in a per-class score; ``CategoryClassifier.scores`` turns it into probabilities
(softmax of decision values, or predict_proba where the model has it) so the desk can show a confidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from routing.suggest.textnorm import normalize, taxonomy_words, word_tokens

# Citizens' letters run to thousands of characters; the first part says what the matter is, and cutting
# keeps training and per-utterance compute bounded.
MAX_CHARS = 3000

_SPACE = re.compile(r"\s+")


def prepare(text: str) -> str:
    return _SPACE.sub(" ", normalize(text))[:MAX_CHARS]


def _char_tfidf(ngram: tuple[int, int], max_features: int | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        ngram_range=ngram,
        min_df=2,
        sublinear_tf=True,
        dtype=np.float32,
        max_features=max_features,
    )


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


HEAD_CHARS = 40


def head(text: str) -> str:
    """The first characters of a message: its title, or the first thing a caller says, names the matter."""
    return text[:HEAD_CHARS]


def _head_tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char", ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32, preprocessor=head
    )


def _char_word_head(max_features: int | None = None) -> FeatureUnion:
    """Characters, the taxonomy's words, jieba words and the message's head, weighted 1 : ½ : ½ : ½."""
    return FeatureUnion(
        [
            ("char", _char_tfidf((1, 2), max_features)),
            ("taxonomy", TaxonomyWords()),
            ("word", _word_tfidf()),
            ("head", _head_tfidf()),
        ],
        transformer_weights={"char": 1.0, "taxonomy": 0.5, "word": 0.5, "head": 0.5},
    )


def _char_word() -> FeatureUnion:
    return FeatureUnion([("char", _char_tfidf((1, 2))), ("word", _word_tfidf())])


class TaxonomyWords(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Which of the taxonomy's level-2/level-3 words (路灯, 拖欠工资, 出租车 …, ~500) a text contains.

    One binary column per word, rows L2-normalised. The words are the hotline's own vocabulary for its
    categories, so they carry what the 5,025 training messages say too rarely for n-grams to learn (a
    level-3 name seen in a handful of messages). Matched with one regular expression, longest word first.
    """

    def __init__(self, words: Sequence[str] | None = None) -> None:
        self.words = words

    def fit(self, texts: Sequence[str], y: Any = None) -> TaxonomyWords:
        vocabulary = sorted(set(self.words if self.words is not None else taxonomy_words()))
        self.vocabulary_ = {w: i for i, w in enumerate(vocabulary)}
        self.pattern_ = re.compile("|".join(re.escape(w) for w in sorted(vocabulary, key=len, reverse=True)))
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        rows, cols = [], []
        for i, text in enumerate(texts):
            for j in {self.vocabulary_[m.group()] for m in self.pattern_.finditer(text)}:
                rows.append(i)
                cols.append(j)
        data = np.ones(len(rows), dtype=np.float32)
        out = csr_matrix((data, (rows, cols)), shape=(len(texts), len(self.vocabulary_)), dtype=np.float32)
        norms = np.sqrt(np.asarray(out.sum(axis=1)).ravel())  # binary rows: L2 norm = sqrt(count)
        norms[norms == 0] = 1.0
        return csr_matrix(out.multiply(1.0 / norms[:, None]))


def _char_taxonomy(
    weight: float = 0.5, *, word: float = 0.0, max_features: int | None = None
) -> FeatureUnion:
    parts: list[tuple[str, Any]] = [
        ("char", _char_tfidf((1, 2), max_features)),
        ("taxonomy", TaxonomyWords()),
    ]
    weights = {"char": 1.0, "taxonomy": weight}
    if word:
        parts.append(("word", _word_tfidf()))
        weights["word"] = word
    return FeatureUnion(parts, transformer_weights=weights)


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
    "char12tax_svm": lambda: Pipeline([("tfidf", _char_taxonomy(0.5)), ("clf", _svm())]),
    "char12tax40k_svm": lambda: Pipeline(
        [("tfidf", _char_taxonomy(0.5, max_features=40_000)), ("clf", _svm())]
    ),
    "char12tax20k_svm": lambda: Pipeline(
        [("tfidf", _char_taxonomy(0.5, max_features=20_000)), ("clf", _svm())]
    ),
    "char12tax10k_svm": lambda: Pipeline(
        [("tfidf", _char_taxonomy(0.5, max_features=10_000)), ("clf", _svm())]
    ),
    "char12_20k_svm": lambda: Pipeline([("tfidf", _char_tfidf((1, 2), 20_000)), ("clf", _svm())]),
    "char12tax_word_svm": lambda: Pipeline([("tfidf", _char_taxonomy(0.5, word=0.5)), ("clf", _svm())]),
    "char12tax_sgd": lambda: Pipeline(
        [
            ("tfidf", _char_taxonomy(0.5)),
            (
                "clf",
                SGDClassifier(
                    loss="modified_huber", alpha=2e-5, max_iter=50, class_weight="balanced", random_state=0
                ),
            ),
        ]
    ),
    "char12tax_word_head_svm": lambda: Pipeline([("tfidf", _char_word_head()), ("clf", _svm())]),
    "char12tax_word_head_semi_svm": lambda: Pipeline([("tfidf", _char_word_head()), ("clf", _svm())]),
    "char12tax20k_word_head_semi_svm": lambda: Pipeline(
        [("tfidf", _char_word_head(20_000)), ("clf", _svm())]
    ),
}
# Semi-supervised: these models also learn from the hotline's own texts labelled by their place in the
# taxonomy: each knowledge-base article (title, keywords, body) and each leaf's level-2/3 names, under
# its first-level category, at SEMI_WEIGHT of a citizen's message.
SEMI_SUPERVISED = {"char12tax_word_head_semi_svm", "char12tax20k_word_head_semi_svm"}
SEMI_WEIGHT = 0.3
# Chosen 2026-12-04 (bench/suggest_accuracy.py --folds 5, the table in docs/benchmarks.md): characters,
# the taxonomy's words, jieba words and the message's first 40 characters, plus the knowledge base and the
# taxonomy as extra labelled texts: 0.922 ± 0.011 top-1, 0.995 top-3 (the session-1 model: 0.916, 0.992),
# ~1.6 ms per message one at a time. Every linear variant tried lands at 0.915–0.922, within one sd.
DEFAULT_MODEL = "char12tax_word_head_semi_svm"


def _softmax(z: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    z = z / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass
class CategoryClassifier:
    """A fitted pipeline and its labels; ``temperature`` spreads decision values into probabilities.

    One text at a time (each utterance of a call) goes through ``LinearScorer``, the same arithmetic
    without scikit-learn's per-call overhead, when the pipeline is one it knows (see fastlinear.py).
    """

    name: str
    pipeline: Pipeline
    labels: tuple[str, ...]
    temperature: float = 0.3
    _fast: Any = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fast"] = None  # rebuilt after loading; the model file holds only the pipeline
        return state

    def _scorer(self) -> Any:
        if self._fast is None:
            from routing.suggest.fastlinear import LinearScorer

            self._fast = LinearScorer.of(self.pipeline, len(self.labels)) or False
        return self._fast

    def scores(self, texts: Sequence[str]) -> NDArray[np.float64]:
        fast = self._scorer() if len(texts) == 1 else None
        if fast:
            decision = fast.decision(prepare(texts[0]))[None, :]
            return _softmax(decision, self.temperature)
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


def taxonomy_and_kb_texts(labels: set[str]) -> tuple[list[str], list[str]]:
    """(texts, first-level labels) of the KB articles and taxonomy leaves under the given categories."""
    from routing.kb.seed import read_seed
    from routing.suggest.leaves import read_leaves

    texts: list[str] = []
    out: list[str] = []
    for a in read_seed():
        if a.level1 in labels:
            texts.append(" ".join([a.title, *a.keywords, a.body]))
            out.append(a.level1)
    for leaf in read_leaves():
        if leaf.level1 in labels:
            texts.append(f"{leaf.level2} {leaf.level3}")
            out.append(leaf.level1)
    return texts, out


def fit(name: str, texts: Sequence[str], labels: Sequence[str]) -> CategoryClassifier:
    pipeline = MODEL_SPECS[name]()
    texts, labels = list(texts), list(labels)
    params: dict[str, Any] = {}
    if name in SEMI_SUPERVISED:
        extra, extra_labels = taxonomy_and_kb_texts(set(labels))
        params["clf__sample_weight"] = np.array([1.0] * len(texts) + [SEMI_WEIGHT] * len(extra))
        texts, labels = texts + extra, labels + extra_labels
    pipeline.fit([prepare(t) for t in texts], labels, **params)
    classes = tuple(str(c) for c in pipeline.classes_)
    return CategoryClassifier(name, pipeline, classes)
