"""Where the trained category model lives, and how it is (re)built.

Order of lookup: ``$HOTLINE_SUGGEST_MODEL`` → ``<data_dir>/models/suggest_category.joblib`` (written by
``hotline suggest train`` or on first use) → a fresh training run on the packaged training file, whose
result is cached at the data_dir path. The model is a scikit-learn pipeline saved with joblib; only load
files this installation wrote itself (joblib files are pickles).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from routing.suggest.classifier import DEFAULT_MODEL, CategoryClassifier, fit
from routing.suggest.dataset import Message, read_messages

log = logging.getLogger(__name__)
MODEL_FILE_NAME = "suggest_category.joblib"


def model_path(data_dir: Path) -> Path:
    env = os.environ.get("HOTLINE_SUGGEST_MODEL")
    return Path(env) if env else data_dir / "models" / MODEL_FILE_NAME


def train(
    extra: Sequence[Message] = (),
    *,
    model: str = DEFAULT_MODEL,
    base: Sequence[Message] | None = None,
) -> CategoryClassifier:
    """The training file (or ``base``) plus closed work orders and agents' corrections (``extra``)."""
    messages = list(base if base is not None else read_messages()) + list(extra)
    return fit(model, [m.text for m in messages], [m.category for m in messages])


def _slim(estimator: Any) -> None:
    """Smaller file, same predictions: a TfidfVectorizer's record of the n-grams it discarded
    (``stop_words_``) is dropped, and linear weights are kept in float32 (the features are float32)."""
    if hasattr(estimator, "stop_words_"):
        estimator.stop_words_ = None
    coef = getattr(estimator, "coef_", None)
    if coef is not None and getattr(coef, "dtype", None) == np.float64:
        estimator.coef_ = coef.astype(np.float32)
    for child in getattr(estimator, "steps", None) or []:
        _slim(child[1])
    for child in getattr(estimator, "transformer_list", None) or []:
        _slim(child[1])


def save(classifier: CategoryClassifier, path: Path) -> Path:
    _slim(classifier.pipeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(classifier, tmp, compress=3)
    tmp.replace(path)  # readers never see a half-written file
    return path


def load(path: Path) -> CategoryClassifier:
    loaded = joblib.load(path)
    if not isinstance(loaded, CategoryClassifier):
        raise TypeError(f"{path} does not hold a CategoryClassifier")
    return loaded


def load_or_train(data_dir: Path) -> CategoryClassifier:
    path = model_path(data_dir)
    if path.exists():
        started = time.perf_counter()
        classifier = load(path)
        log.info("category model loaded from %s in %.0f ms", path, (time.perf_counter() - started) * 1000)
        return classifier
    log.warning("no category model at %s: training one from the packaged training file", path)
    classifier = train()
    save(classifier, path)
    return classifier
