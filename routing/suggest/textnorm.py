"""Text normalisation and Chinese word segmentation shared by the classifier and the leaf scorer.

The classifier's word features must be cut the same way at training and at prediction time, so it has a
jieba tokenizer of its own (jieba's dictionary plus the taxonomy's category words), separate from the
knowledge base's tokenizer, whose dictionary grows with the synonyms file.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
import unicodedata
from functools import cache
from pathlib import Path

import jieba

from routing.reference import default_taxonomy_csv

_KEEP = re.compile(r"[\w]", re.UNICODE)
_lock = threading.Lock()


def normalize(text: str) -> str:
    """Full-width letters and digits to half-width (NFKC), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def taxonomy_words(path: Path | None = None) -> list[str]:
    """Every level-2 and level-3 name of the taxonomy, split on the separators some names contain."""
    words: set[str] = set()
    with (path or default_taxonomy_csv()).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for key in ("level1", "level2", "level3"):
                for part in re.split(r"[、/（）()和及与]", row[key]):
                    part = part.strip()
                    if 2 <= len(part) <= 8 and part != "其他":
                        words.add(part)
    return sorted(words)


def make_tokenizer(extra_words: list[str]) -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in extra_words:
        tokenizer.add_word(word, freq=2000)
    return tokenizer


@cache
def _classifier_tokenizer() -> jieba.Tokenizer:
    with _lock:
        return make_tokenizer(taxonomy_words())


def cut(tokenizer: jieba.Tokenizer, text: str) -> list[str]:
    """Words of a text, punctuation and spaces dropped (HMM on, so unknown names still come out whole)."""
    return [w for w in tokenizer.lcut(text) if _KEEP.search(w)]


def word_tokens(text: str) -> list[str]:
    return cut(_classifier_tokenizer(), text)


def word_bounds(text: str) -> frozenset[int]:
    """Offsets where the classifier tokenizer's words start or end (a number stays one word)."""
    bounds = {0, len(text)}
    for _, start, end in _classifier_tokenizer().tokenize(text):
        bounds.update((start, end))
    return frozenset(bounds)
