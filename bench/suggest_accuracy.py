"""Category accuracy (top-1, top-3) of every candidate classifier on held-out citizen messages.

.venv/bin/python bench/suggest_accuracy.py                 # fixed stratified 80/20 split, all models
.venv/bin/python bench/suggest_accuracy.py --folds 5       # plus stratified 5-fold cross-validation
.venv/bin/python bench/suggest_accuracy.py --models char12_svm,char12tax_svm --folds 5

Columns: held-out top-1 and top-3, fit seconds, ms per message (batch), the model file's size as
``hotline suggest train`` writes it (joblib, compress 3) and the time to load it, and with ``--folds`` the
cross-validated top-1 and top-3 (mean ± sd over the folds).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, ahead of bench/ itself

from routing.suggest.classifier import MODEL_SPECS, fit
from routing.suggest.dataset import Message, held_out_split, read_messages
from routing.suggest.model_store import load, save


def top_k(classifier_scores: np.ndarray, labels: tuple[str, ...], truth: list[str], k: int) -> float:
    index = {label: i for i, label in enumerate(labels)}
    order = np.argsort(-classifier_scores, axis=1)[:, :k]
    hits = [index[t] in row for t, row in zip(truth, order, strict=True)]
    return float(np.mean(hits))


def evaluate(
    name: str, train: list[Message], test: list[Message], *, size: bool = False
) -> tuple[float, float, float, float, float, float]:
    started = time.perf_counter()
    model = fit(name, [m.text for m in train], [m.category for m in train])
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = model.scores([m.text for m in test])
    per_msg_ms = (time.perf_counter() - started) * 1000 / len(test)
    truth = [m.category for m in test]
    mb = load_ms = float("nan")
    if size:
        with tempfile.TemporaryDirectory() as tmp:
            path = save(model, Path(tmp) / "model.joblib")
            mb = os.path.getsize(path) / 1e6
            started = time.perf_counter()
            load(path)
            load_ms = (time.perf_counter() - started) * 1000
    t1, t3 = top_k(scores, model.labels, truth, 1), top_k(scores, model.labels, truth, 3)
    return t1, t3, fit_s, per_msg_ms, mb, load_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODEL_SPECS))
    args = parser.parse_args()
    messages = read_messages()
    train, test = held_out_split(messages)
    print(f"messages={len(messages)} train={len(train)} held_out={len(test)}")
    print(
        f"{'model':<20}{'top1':>8}{'top3':>8}{'fit_s':>7}{'ms/msg':>8}{'MB':>6}{'load_ms':>8}"
        + (f"   {args.folds}-fold top1 (mean±sd)  top3" if args.folds else "")
    )
    for name in args.models.split(","):
        t1, t3, fit_s, ms, mb, load_ms = evaluate(name, train, test, size=True)
        line = f"{name:<20}{t1:>8.4f}{t3:>8.4f}{fit_s:>7.1f}{ms:>8.2f}{mb:>6.1f}{load_ms:>8.0f}"
        if args.folds:
            folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
            labels = [m.category for m in messages]
            accs, accs3 = [], []
            for tr, te in folds.split(messages, labels):
                result = evaluate(name, [messages[i] for i in tr], [messages[i] for i in te])
                accs.append(result[0])
                accs3.append(result[1])
            line += f"   {np.mean(accs):.4f}±{np.std(accs):.4f}  {np.mean(accs3):.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
