"""The one-text fast path computes what the scikit-learn pipeline computes."""

from __future__ import annotations

import numpy as np
import pytest

from routing.suggest.classifier import MODEL_SPECS, CategoryClassifier, fit
from routing.suggest.fastlinear import LinearScorer
from routing.suggest.leaves import LeafScorer, read_leaves

TRAIN = {
    "城乡建设": ["路灯坏了没人修", "小区物业不管电梯", "楼下违章建筑", "道路坑洼积水", "停水好几天"],
    "劳动和社会保障": ["公司拖欠工资", "社保怎么转移", "养老金没发", "被辞退没有补偿", "失业金申领"],
    "交通运输": ["出租车管理混乱", "公交车不停站", "网约车乱收费", "货车超载", "快递丢件"],
}
TEXTS = ["老板拖欠工资两个月", "出租车管理太乱了还乱收费", "路灯", "", "ＡＢＣ全角字母和数字１２３"]


@pytest.mark.parametrize(
    "name",
    ["char12tax20k_svm", "char12_svm", "char12tax_word_svm", "char12_sgd", "char12tax_word_head_semi_svm"],
)
def test_fast_path_matches_the_pipeline(name: str) -> None:
    texts = [t for ts in TRAIN.values() for t in ts] * 2  # every word twice: min_df=2 keeps them
    model = fit(name, texts, [k for k, ts in TRAIN.items() for _ in ts] * 2)
    scorer = LinearScorer.of(model.pipeline, len(model.labels))
    assert scorer is not None
    slow = np.asarray(model.pipeline.decision_function(TEXTS))
    fast = np.array([scorer.decision(t) for t in TEXTS])
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    one = np.vstack([model.scores([t]) for t in TEXTS])  # the classifier takes the fast path for one text
    assert isinstance(model._fast, LinearScorer)
    np.testing.assert_allclose(one, model.scores(TEXTS), atol=1e-5)  # several texts: the pipeline


def test_unknown_pipelines_keep_the_scikit_learn_path() -> None:
    texts = [t for ts in TRAIN.values() for t in ts]
    model: CategoryClassifier = fit("char12_lr", texts, [k for k, ts in TRAIN.items() for _ in ts])
    assert "char12_lr" in MODEL_SPECS and LinearScorer.of(model.pipeline, len(model.labels)) is None
    assert model.scores(["路灯坏了"]).shape == (1, 3)


def test_leaf_scores_are_cosines_of_the_fitted_vectorizer() -> None:
    leaves = read_leaves()
    scorer = LeafScorer(leaves)
    query = scorer.vectorizer.transform(["小区路灯坏了"])
    want = np.asarray((scorer.matrix @ query.T).todense()).ravel()
    by_level1 = scorer.score("小区路灯坏了", [("城乡建设", 1.0)], k=len(leaves))
    rows = scorer.by_level1["城乡建设"]
    share = want[rows] / want[rows].max()
    expected = sorted((0.3 + 0.7 * s for s in share), reverse=True)
    assert [score for _, score in by_level1] == pytest.approx(expected)
