"""Precision and recall of hot-event detection against the clusters the demo generator planted.

A detected cluster is correct when at least 60 % of its orders carry one planted label (a planted
problem, a power outage in one street, a typhoon's damage in one street). A planted event is found when
some detected cluster is mostly its orders. Order-level recall: the share of planted orders that ended up
in a detected cluster of their own label.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from analytics.hot_events import Cluster
from analytics.orm import DemoRunRow
from analytics.wiring import AnalyticsParts

MAJORITY = 0.6


def evaluate(clusters: list[Cluster], labels: dict[str, list[str]]) -> dict[str, Any]:
    label_of = {number: label for label, numbers in labels.items() for number in numbers}
    correct = 0
    found: set[str] = set()
    covered = 0
    for cluster in clusters:
        counts = Counter(label_of.get(n) for n in cluster.numbers)
        label, n = counts.most_common(1)[0]
        if label is not None and n >= MAJORITY * len(cluster.numbers):
            correct += 1
            found.add(label)
            covered += n
    planted_orders = sum(len(v) for v in labels.values())
    by_kind: dict[str, list[int]] = {}
    for label in labels:
        kind = label.split(":", 1)[0]
        by_kind.setdefault(kind, [0, 0])
        by_kind[kind][0] += 1
        by_kind[kind][1] += label in found
    return {
        "detected": len(clusters),
        "correct": correct,
        "precision": correct / len(clusters) if clusters else None,
        "planted_events": len(labels),
        "found_events": len(found),
        "recall": len(found) / len(labels) if labels else None,
        "order_recall": covered / planted_orders if planted_orders else None,
        "recall_by_kind": {k: {"planted": v[0], "found": v[1]} for k, v in sorted(by_kind.items())},
    }


def demo_labels(parts: AnalyticsParts) -> dict[str, list[str]]:
    with parts.session_factory() as session:
        row = session.scalars(select(DemoRunRow).order_by(DemoRunRow.id.desc())).first()
    return dict(row.clusters) if row else {}
