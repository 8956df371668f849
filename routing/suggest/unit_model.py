"""Which unit is responsible, learnt from what the units say they do, not only from the category.

The category's unit (category_units.yaml) is right for most cases, but a citizen's words often name the
matter more precisely than the first-level category: 新生儿上户口 is classified 卫生计生 (newborn), yet
household registration is the police's; 饭店卫生差吃完拉肚子 reads like health, yet food safety is market
regulation's. The hotline's own texts say who does what:

- the duty catalogue (职责清单, departments.yaml): 901 duties of 154 units, "负责食品生产经营和餐饮服务的
  食品安全监督管理";
- the dispatch matter list (派单事项清单, unit_matters.yaml): 1,700 matters of the 71 city-wide units in
  callers' words, "买到假化肥假农药假种子";
- the knowledge base: each article names its unit (title and keywords);
- the keyword dispatch rules (each keyword names its lead unit) and the taxonomy's leaves (level-2 and
  level-3 names of each category with its lead unit).

Each of these is a short document labelled with a unit. A request is compared with every document by
character 1–3-gram TF-IDF cosine (plus words that sound like vocabulary words, see phonetic.py); a unit's
evidence is its best document plus half its second best, and more when the caller names it (unit_aliases.py).
Only units that lead cases city-wide are scored: district bureaus, streets and towns come from territorial
management once the district is known.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from routing.reference import data_file
from routing.suggest.duty_terms import DutyTerms
from routing.suggest.fastlinear import QueryTfidf
from routing.suggest.leaves import Leaf
from routing.suggest.textnorm import normalize
from routing.suggest.unit_aliases import UnitAliases

# Units that lead a case for the whole city. District governments, their bureaus, streets and towns are
# reached through territorial management (Dispatcher.territorial), never suggested from words alone.
LEADING_KINDS = ("city_bureau", "utility", "public_company", "hotline")
# Duties that every unit has ("负责本单位…") say nothing about which matter is whose.
_GENERIC = ("负责本单位", "完成市委", "承办上级交办")


@dataclass(frozen=True)
class UnitEvidence:
    code: str
    score: float
    document: str  # the best matching duty, matter, article title, rule keyword or category name
    # The caller's words read as the catalogue's (假化肥 → 农资质量监管) where they brought this document.
    read_as: tuple[tuple[str, str], ...] = ()
    named: str = ""  # the caller named this unit (交警, 车管所), see unit_aliases.py

    @property
    def why(self) -> str:
        readings = "；".join(f"「{said}」即「{official}」" for said, official in self.read_as)
        duty = (
            f"职责/事项：{self.document}" + (f"（{readings}）" if readings else "") if self.document else ""
        )
        return "；".join(part for part in (f"来电人提到「{self.named}」" if self.named else "", duty) if part)


def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def leading_units(data: Path | None = None) -> set[str]:
    """The codes of the units that lead cases city-wide (the only ones the unit model scores or callers name)."""
    units = _yaml((data or data_file("")) / "departments.yaml").get("units") or []
    return {u["code"] for u in units if u.get("kind") in LEADING_KINDS}


def unit_documents(
    leaves: Sequence[Leaf],
    articles: Iterable[Any] = (),
    data: Path | None = None,
) -> list[tuple[str, str]]:
    """(unit code, text) pairs from the duty catalogue, KB articles, keyword rules and category leaves."""
    base = data or data_file("")
    units = _yaml(base / "departments.yaml").get("units") or []
    leading = {u["code"] for u in units if u.get("kind") in LEADING_KINDS}
    docs: list[tuple[str, str]] = []
    for u in units:
        if u["code"] not in leading:
            continue
        docs.append((u["code"], u["name"]))
        for duty in u.get("duties") or ():
            if not any(g in duty for g in _GENERIC):
                docs.append((u["code"], str(duty)))
    for code, line in unit_matters(base / "unit_matters.yaml", {u["code"] for u in units}):
        if code in leading:
            docs.append((code, line))
    for a in articles:
        if getattr(a, "unit_code", "") in leading:
            docs.append((a.unit_code, " ".join([a.title, *a.keywords])))
    for rule in _yaml(base / "dispatch_rules.yaml").get("rules") or ():
        if rule.get("lead") in leading:
            docs.append((rule["lead"], " ".join(str(k) for k in rule.get("any_keywords") or ())))
    for rule in _yaml(base / "urgent_classes.yaml").get("classes") or ():
        if rule.get("lead") in leading:
            docs.append((rule["lead"], f"{rule.get('name', '')} {' '.join(rule.get('keywords') or ())}"))
    leads = _category_leads(base)
    for leaf in leaves:
        lead = leads.get((leaf.level1, leaf.level2, leaf.level3)) or leads.get(
            (leaf.level1, leaf.level2, None)
        )
        if lead is not None and lead in leading and leaf.level3 != "其他":
            docs.append((lead, f"{leaf.level2} {leaf.level3}"))
    return docs


def unit_matters(path: Path, known: set[str]) -> list[tuple[str, str]]:
    """(unit code, matter) pairs of the dispatch matter list; a unit not in the directory or a line that is
    not text is refused by name, since the hotline edits this file."""
    matters = _yaml(path).get("units") or {}
    if not isinstance(matters, dict):
        raise ValueError(f"{path.name}: expected 'units:' mapping unit codes to lists of matters")
    pairs: list[tuple[str, str]] = []
    for code, lines in matters.items():
        if code not in known:
            raise ValueError(f"{path.name}: unknown unit {code!r}")
        if not isinstance(lines, list) or not all(isinstance(x, str) and x.strip() for x in lines):
            raise ValueError(f"{path.name}: {code}: expected a list of non-empty matters")
        pairs.extend((code, line.strip()) for line in lines)
    return pairs


def _category_leads(base: Path) -> dict[tuple[str | None, str | None, str | None], str]:
    return {
        (r.get("level1"), r.get("level2"), r.get("level3")): r["lead"]
        for r in _yaml(base / "category_units.yaml").get("rules") or ()
        if r.get("level2")
    }


# What callers say around the matter that names no unit's duty (希望 would find 希望工程).
_NOT_THE_MATTER = re.compile(
    r"(你好|您好|喂|谢谢|麻烦|希望|请问|请|帮忙|帮我|一下|你们|我们|我家|那个|这个|就是|嗯|啊|呢|吧|了)"
)


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)


@dataclass(frozen=True)
class NgramRarity:
    """How many of a body of callers' messages contain each character 1–3-gram (document frequency)."""

    texts: int
    counts: Mapping[str, int]

    @classmethod
    def of(cls, texts: Iterable[str]) -> NgramRarity:
        analyze = _vectorizer().build_analyzer()
        counts: Counter[str] = Counter()
        n = 0
        for text in texts:
            counts.update(set(analyze(normalize(text))))
            n += 1
        return cls(n, counts)


class UnitModel:
    def __init__(
        self,
        documents: Sequence[tuple[str, str]],
        places: Callable[[str], str] | None = None,
        terms: DutyTerms | None = None,
        rarity: NgramRarity | None = None,
        aliases: UnitAliases | None = None,
    ) -> None:
        """``places``: removes place names from a text (the gazetteer): 美兰区 must not find 美兰机场's
        duties, nor 海甸 a street's. ``terms``: adds the catalogue's words for the citizen's (假化肥 → 农资).
        ``rarity``: callers' messages, only to weigh how telling a character n-gram is. ``aliases``: the names
        callers use for units; a unit named in the request gains NAMED_WEIGHT × the best duty evidence."""
        self.places = places
        self.aliases = aliases
        self.terms = terms
        self.codes = [code for code, _ in documents]
        self.texts = [text for _, text in documents]
        self.vectorizer = _vectorizer()
        documents_text = [normalize(t) for t in self.texts]
        matrix = self.vectorizer.fit_transform(documents_text)
        if rarity is not None:
            # Rarity is judged on citizens' language too: 个人, 安全, 许可 are rare in the duties, so alone
            # they would tie 把钱转到安全账户 to 安全生产 and 个人账户; in callers' messages they are everyday
            # words. Same smoothed IDF as scikit-learn's, over duties and messages together.
            in_documents = np.asarray((matrix > 0).sum(axis=0)).ravel()
            terms_in_order = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.__getitem__)
            in_messages = np.array([rarity.counts.get(t, 0) for t in terms_in_order], dtype=np.float64)
            n = len(documents_text) + rarity.texts
            self.vectorizer.idf_ = np.log((1 + n) / (1 + in_documents + in_messages)) + 1
            matrix = self.vectorizer.transform(documents_text)
        self._columns = matrix.tocsc()
        self._query = QueryTfidf(self.vectorizer)
        self.unit_codes = sorted(set(self.codes))
        index = {code: i for i, code in enumerate(self.unit_codes)}
        self._unit_of_doc = np.array([index[c] for c in self.codes], dtype=np.int64)

    def evidence(self, text: str, k: int = 5) -> list[UnitEvidence]:
        """The ``k`` units whose own texts are nearest to ``text``, best first."""
        named = self.aliases.named(text) if self.aliases is not None else {}
        if self.places is not None:
            text = self.places(text)
        readings: dict[str, str] = {}
        if self.terms is not None:
            text, readings = self.terms.read(text)
        idx, values = self._query.row(_NOT_THE_MATTER.sub(" ", normalize(text)))
        if idx.size == 0:
            return _named_only(named)
        sims = np.asarray(self._columns[:, idx] @ values).ravel()
        order = np.argsort(-sims, kind="stable")
        best: dict[int, list[tuple[float, int]]] = {}
        for doc in order[:60]:
            if sims[doc] <= 0:
                break
            unit = int(self._unit_of_doc[doc])
            if len(best.setdefault(unit, [])) < 2:
                best[unit].append((float(sims[doc]), int(doc)))
        scored = [
            UnitEvidence(
                self.unit_codes[u],
                hits[0][0] + (0.5 * hits[1][0] if len(hits) > 1 else 0.0),
                self.texts[hits[0][1]],
                _readings_in(self.texts[hits[0][1]], readings),
            )
            for u, hits in best.items()
        ]
        return _with_named(scored, named)[:k]


# How much naming a unit counts, as a share of the best duty evidence: enough to lift the named unit over a
# near tie, not over a clear matter of another unit (派出所说不归他们管，让我找城管 names both).
NAMED_WEIGHT = 0.5


def _with_named(scored: list[UnitEvidence], named: dict[str, str]) -> list[UnitEvidence]:
    bonus = NAMED_WEIGHT * max((e.score for e in scored), default=1.0)
    out = [replace(e, score=e.score + bonus, named=named[e.code]) if e.code in named else e for e in scored]
    present = {e.code for e in scored}
    out += [UnitEvidence(code, bonus, "", named=name) for code, name in named.items() if code not in present]
    out.sort(key=lambda e: -e.score)
    return out


def _named_only(named: dict[str, str]) -> list[UnitEvidence]:
    return _with_named([], named)


def _readings_in(document: str, readings: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The (citizen word, official word) pairs whose official word is written in ``document``."""
    return tuple(
        (said, word)
        for official, said in readings.items()
        for word in official.split()
        if word in document and word != said
    )[:2]


def combine(
    votes: Mapping[str, float], evidence: Sequence[UnitEvidence], weight: float = 0.8
) -> dict[str, float]:
    """The category's vote and the duty evidence, each as shares of its own total, mixed by ``weight``."""
    total_votes = sum(votes.values()) or 1.0
    total_evidence = sum(e.score for e in evidence) or 1.0
    out = {code: (1.0 - weight) * v / total_votes for code, v in votes.items()}
    for e in evidence:
        out[e.code] = out.get(e.code, 0.0) + weight * e.score / total_evidence
    return out
