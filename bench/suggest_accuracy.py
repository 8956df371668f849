"""Category accuracy (top-1, top-3) of every candidate classifier on held-out citizen messages.

.venv/bin/python bench/suggest_accuracy.py                 # fixed stratified 80/20 split, all models
.venv/bin/python bench/suggest_accuracy.py --folds 5       # plus stratified 5-fold cross-validation
.venv/bin/python bench/suggest_accuracy.py --models char13_svm,charword_svm
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, ahead of bench/ itself

from routing.suggest.classifier import MODEL_SPECS, fit
from routing.suggest.dataset import Message, held_out_split, read_messages


def top_k(classifier_scores: np.ndarray, labels: tuple[str, ...], truth: list[str], k: int) -> float:
    index = {label: i for i, label in enumerate(labels)}
    order = np.argsort(-classifier_scores, axis=1)[:, :k]
    hits = [index[t] in row for t, row in zip(truth, order, strict=True)]
    return float(np.mean(hits))


def evaluate(name: str, train: list[Message], test: list[Message]) -> tuple[float, float, float, float]:
    started = time.perf_counter()
    model = fit(name, [m.text for m in train], [m.category for m in train])
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = model.scores([m.text for m in test])
    per_msg_ms = (time.perf_counter() - started) * 1000 / len(test)
    truth = [m.category for m in test]
    return top_k(scores, model.labels, truth, 1), top_k(scores, model.labels, truth, 3), fit_s, per_msg_ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODEL_SPECS))
    args = parser.parse_args()
    messages = read_messages()
    train, test = held_out_split(messages)
    print(f"messages={len(messages)} train={len(train)} held_out={len(test)}")
    print(
        f"{'model':<16}{'top1':>8}{'top3':>8}{'fit_s':>8}{'ms/msg':>8}"
        + ("   k-fold top1 (mean±sd)" if args.folds else "")
    )
    for name in args.models.split(","):
        t1, t3, fit_s, ms = evaluate(name, train, test)
        line = f"{name:<16}{t1:>8.4f}{t3:>8.4f}{fit_s:>8.1f}{ms:>8.2f}"
        if args.folds:
            folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
            labels = [m.category for m in messages]
            accs = []
            for tr, te in folds.split(messages, labels):
                accs.append(evaluate(name, [messages[i] for i in tr], [messages[i] for i in te])[0])
            line += f"   {np.mean(accs):.4f}±{np.std(accs):.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
