"""Retrieval over the knowledge base: jieba words, synonym expansion, BM25 (bm25s), validity filter, <mark>.

Why these pieces: Chinese has no spaces, so words come from jieba, whose dictionary is taught the taxonomy's
category words and the synonyms file so "住房公积金" or "城乡居民养老保险" stay one word. Citizens and
articles name the same thing differently (社保 / 社会保险, 户口 / 户籍), so each query word brings its
synonyms along. bm25s keeps the index as a sparse matrix: scoring a short query against 50,000 articles
is a few column sums, well inside the per-utterance budget.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

import bm25s
import jieba
import numpy as np
import yaml

from routing.kb.model import HAIKOU, Article
from routing.suggest.phonetic import Correction, SoundAlike
from routing.suggest.textnorm import cut, make_tokenizer, normalize, taxonomy_words

# Words that say nothing about the matter (a caller's filler and question words).
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "我们",
        "在",
        "有",
        "和",
        "与",
        "及",
        "或",
        "就",
        "都",
        "也",
        "还",
        "要",
        "想",
        "请问",
        "请",
        "问",
        "一下",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "什么",
        "哪里",
        "哪个",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "嗯",
        "喂",
        "您好",
        "你好",
        "谢谢",
        "这个",
        "那个",
        "这样",
        "一个",
        "可以",
        "能",
        "能不能",
        "需要",
        "需",
        "办理",
        "现在",
        "今天",
        "已经",
        "没有",
        "不",
        "到",
        "给",
        "把",
        "被",
        "让",
        "对",
        "从",
        "向",
        "为",
        "这",
        "那",
        "个",
        "多少",
        "几",
        "时候",
    ]
)


def data_dir() -> Path:
    return Path(str(resources.files("routing.kb") / "data"))


def load_synonyms(path: Path | None = None) -> list[tuple[str, ...]]:
    with (path or data_dir() / "synonyms.yaml").open(encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    return [tuple(str(w) for w in group) for group in doc.get("groups") or [] if len(group) >= 2]


class Analyzer:
    """Cuts text into index words and expands a query with synonyms."""

    def __init__(self, synonyms: Sequence[tuple[str, ...]], extra_words: Iterable[str] = ()) -> None:
        self.synonyms: dict[str, tuple[str, ...]] = {}
        for group in synonyms:
            for word in group:
                self.synonyms[word] = tuple(dict.fromkeys([*self.synonyms.get(word, ()), *group]))
        words = [*taxonomy_words(), *self.synonyms, *extra_words]
        self.tokenizer: jieba.Tokenizer = make_tokenizer(words)
        self._lock = threading.Lock()

    def words(self, text: str) -> list[str]:
        with self._lock:  # jieba's Tokenizer is not safe to share between threads
            tokens = cut(self.tokenizer, normalize(text))
        return [t for t in tokens if t not in STOPWORDS]

    def query_words(self, text: str) -> list[str]:
        out: list[str] = []
        for word in self.words(text):
            out.extend(self.synonyms.get(word, (word,)))
        return list(dict.fromkeys(out))


@cache
def default_analyzer() -> Analyzer:
    return Analyzer(load_synonyms())


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    matched: tuple[str, ...]
    title_html: str
    snippet_html: str
    heard: tuple[str, ...] = ()  # words matched by sound: "「佛地产」音近「房地产」"

    def to_dict(self) -> dict[str, object]:
        return {
            **self.article.to_dict(),
            "score": round(self.score, 4),
            "matched": list(self.matched),
            "heard": list(self.heard),
            "title_html": self.title_html,
            "snippet_html": self.snippet_html,
        }


def highlight(text: str, terms: Iterable[str]) -> str:
    """HTML-escaped text with each occurrence of a term wrapped in <mark> (longest term first)."""
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    if not ordered:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def snippet(text: str, terms: Sequence[str], width: int = 90) -> str:
    """About ``width`` characters of the body around its first matched term."""
    positions = [p for p in (text.find(t) for t in terms) if p >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = text[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return prefix + highlight(piece, terms) + suffix


class KbIndex:
    """An immutable BM25 index over a list of articles (build a new one when articles change)."""

    def __init__(
        self,
        articles: Sequence[Article],
        analyzer: Analyzer | None = None,
        words: Sequence[list[str]] | None = None,
    ) -> None:
        """``words``: each article's index words when already cut (the benchmark's 50,000 variants)."""
        self.analyzer = analyzer or default_analyzer()
        self.articles = list(articles)
        corpus = (
            list(words)
            if words is not None
            else [self.analyzer.words(a.search_text()) or [""] for a in self.articles]
        )
        self.bm25 = bm25s.BM25()
        if self.articles:
            self.bm25.index(corpus, show_progress=False)
        far = np.iinfo(np.int32).max
        self._from = np.array(
            [a.valid_from.toordinal() if a.valid_from else 0 for a in self.articles], dtype=np.int32
        )
        self._to = np.array(
            [a.valid_to.toordinal() if a.valid_to else far for a in self.articles], dtype=np.int32
        )
        self._published = np.array([a.status == "published" for a in self.articles], dtype=bool)
        self._level1_names = sorted({a.level1 for a in self.articles})
        codes = {name: i for i, name in enumerate(self._level1_names)}
        self._level1 = np.array([codes[a.level1] for a in self.articles], dtype=np.int32)
        # Recognition errors: a span of the query that sounds like an indexed word also looks that word up.
        self.sounds = SoundAlike(self.bm25.vocab_dict) if self.articles else SoundAlike(())

    def __len__(self) -> int:
        return len(self.articles)

    def search(self, query: str, now: datetime, k: int = 5, category: str | None = None) -> list[Hit]:
        """The best ``k`` articles in force on ``now`` for the query; ``category`` (a level1) breaks ties."""
        if not self.articles:
            return []
        words = [w for w in self.analyzer.query_words(query) if w in self.bm25.vocab_dict]
        corrections = self.sounds.corrections(normalize(query), set(words))
        words.extend(c.word for c in corrections if c.word not in words)
        if not words:
            return []
        scores = np.asarray(self.bm25.get_scores(words), dtype=np.float64)
        today = now.astimezone(HAIKOU).date().toordinal()
        usable = self._published & (self._from <= today) & (self._to >= today) & (scores > 0)
        scores = np.where(usable, scores, 0.0)
        candidates = np.flatnonzero(scores)
        if candidates.size == 0:
            return []
        if category in self._level1_names:
            same = self._level1[candidates] == self._level1_names.index(category)
            scores[candidates] *= np.where(same, 1.1, 1.0)
        if candidates.size > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        best = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [self._hit(self.articles[i], float(scores[i]), words, corrections) for i in best]

    def _hit(self, article: Article, score: float, words: list[str], corrections: list[Correction]) -> Hit:
        text = normalize(article.search_text())
        matched = tuple(w for w in words if w in text)
        heard = tuple(c.why() for c in corrections if c.word in matched)
        return Hit(
            article, score, matched, highlight(article.title, matched), snippet(article.body, matched), heard
        )
