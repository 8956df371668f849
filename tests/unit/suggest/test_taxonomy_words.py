"""The taxonomy-word features of the category classifier."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from routing.suggest.classifier import TaxonomyWords
from routing.suggest.textnorm import taxonomy_words


def test_marks_each_taxonomy_word_a_text_contains_once_longest_first() -> None:
    features = TaxonomyWords(["路灯", "拖欠工资", "工资", "出租车"]).fit([])
    rows = features.transform(["路灯坏了，路灯不亮", "公司拖欠工资", "没有相关的词"]).toarray()
    vocabulary = features.vocabulary_
    assert rows[0, vocabulary["路灯"]] == pytest.approx(1.0)  # binary, then L2: one word → 1
    assert rows[1, vocabulary["拖欠工资"]] > 0 and rows[1, vocabulary["工资"]] == 0
    assert not rows[2].any()
    assert np.linalg.norm(rows[:2], axis=1) == pytest.approx([1.0, 1.0])


def test_defaults_to_the_packaged_taxonomy_and_survives_pickling() -> None:
    features = TaxonomyWords().fit([])
    assert set(features.vocabulary_) == set(taxonomy_words())
    assert len(features.vocabulary_) >= 300
    copy = pickle.loads(pickle.dumps(features))  # noqa: S301 - our own object; the model file is a pickle
    text = ["出租车管理混乱，还乱收费"]
    assert (copy.transform(text) != features.transform(text)).nnz == 0
    assert features.transform(text).nnz >= 2
