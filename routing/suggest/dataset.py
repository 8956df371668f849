"""The labelled messages the category classifier learns from, and the fixed held-out split used to measure it.

``citizen_messages_train.csv`` (id, category, text; 5,025 real messages with 7 first-level categories whose
names are exactly the taxonomy's level1 names) is copied into ``routing/suggest/data/`` so that training is
reproducible on a machine without the shared folder beside the repository.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sklearn.model_selection import train_test_split

TRAIN_FILE_NAME = "citizen_messages_train.csv"
HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 20240612


@dataclass(frozen=True)
class Message:
    text: str
    category: str
    source: str = "train_csv"


def packaged_training_csv() -> Path:
    return Path(str(resources.files("routing.suggest") / "data" / TRAIN_FILE_NAME))


def training_csv() -> Path:
    """``$HOTLINE_SUGGEST_TRAIN_CSV``, else the packaged copy, else ../shared/data beside the repository."""
    env = os.environ.get("HOTLINE_SUGGEST_TRAIN_CSV")
    if env:
        return Path(env)
    packaged = packaged_training_csv()
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[3] / "shared" / "data" / TRAIN_FILE_NAME


def read_messages(path: Path | None = None) -> list[Message]:
    with (path or training_csv()).open(encoding="utf-8") as f:
        return [
            Message(row["text"], row["category"].strip()) for row in csv.DictReader(f) if row["text"].strip()
        ]


def held_out_split(messages: list[Message]) -> tuple[list[Message], list[Message]]:
    """The fixed stratified 80/20 split the benchmark and the accuracy test use."""
    train, test = train_test_split(
        messages,
        test_size=HELD_OUT_FRACTION,
        random_state=SPLIT_SEED,
        stratify=[m.category for m in messages],
    )
    return list(train), list(test)
