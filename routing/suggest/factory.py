"""Builds a SuggestionEngine: from the database (articles, closed orders, dispatch rules), or from the packaged files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kernel.clock import Clock
from routing.assist.gazetteer import default_gazetteer
from routing.catalogue import dispatcher_in_force
from routing.kb import repository
from routing.kb.index import KbIndex
from routing.kb.model import Article
from routing.kb.seed import read_seed
from routing.orm import work_orders
from routing.suggest.classifier import CategoryClassifier
from routing.suggest.dataset import Message, read_messages
from routing.suggest.duty_terms import DutyTerms
from routing.suggest.leaves import Leaf, LeafScorer, read_leaves
from routing.suggest.model_store import load_or_train
from routing.suggest.orm import SuggestionFeedback
from routing.suggest.service import SuggestionEngine
from routing.suggest.unit_aliases import UnitAliases
from routing.suggest.unit_model import NgramRarity, UnitModel, unit_documents
from routing.suggest.units import dispatcher_from_files


def leaf_evidence(
    articles: Iterable[Article], orders: Iterable[tuple[str, str]] = ()
) -> dict[str, list[str]]:
    evidence: dict[str, list[str]] = {}
    for a in articles:
        if a.category.count("/") == 2:
            evidence.setdefault(a.category, []).extend([a.title, *a.keywords])
    for path, text in orders:
        evidence.setdefault(path, []).append(text[:200])
    return evidence


def closed_orders(session: Session, limit: int = 20_000) -> list[tuple[str, str]]:
    """(category_path, title + description) of closed work orders, newest first."""
    rows = session.execute(
        select(work_orders.c.category_path, work_orders.c.title, work_orders.c.description)
        .where(work_orders.c.state == "closed")
        .order_by(work_orders.c.id.desc())
        .limit(limit)
    )
    return [(path, f"{title} {desc}") for path, title, desc in rows if path]


def history_messages(session: Session, known: set[str]) -> list[Message]:
    """Closed orders and agents' choices as extra training messages (only for first-level names known)."""
    out = [Message(text, path.split("/", 1)[0], "work_order") for path, text in closed_orders(session)]
    for fb in session.scalars(select(SuggestionFeedback)):
        out.append(Message(fb.text, fb.chosen_level1, f"feedback:{fb.outcome}"))
    return [m for m in out if m.category in known and m.text.strip()]


# Enough of each message to judge how common a word is in callers' language.
CITIZEN_CHARS = 120


@cache
def citizen_rarity() -> NgramRarity:
    """The packaged messages' n-gram counts, once per process (0.7 s; every engine build reuses them)."""
    return NgramRarity.of(m.text[:CITIZEN_CHARS] for m in read_messages())


def unit_model(leaves: Sequence[Leaf], articles: Iterable[Article]) -> UnitModel:
    """Duties, KB articles, rules and leaves as unit documents; citizens' messages weigh the n-grams; the names
    callers use for the units (only units that lead cases city-wide can be named)."""
    documents = unit_documents(leaves, articles)
    return UnitModel(
        documents,
        default_gazetteer().without_places,
        DutyTerms.packaged(),
        citizen_rarity(),
        UnitAliases.packaged({code for code, _ in documents}),
    )


def engine_from_files(
    data_dir: Path, classifier: CategoryClassifier | None = None, *, with_kb: bool = True
) -> SuggestionEngine:
    leaves = read_leaves()
    articles = read_seed()
    return SuggestionEngine(
        classifier or load_or_train(data_dir),
        LeafScorer(leaves, leaf_evidence(articles)),
        dispatcher_from_files(leaves),
        KbIndex(articles) if with_kb else None,
        lambda: datetime.now(UTC),
        unit_model(leaves, articles),
    )


def engine_for_database(
    session_factory: sessionmaker[Session],
    clock: Clock,
    data_dir: Path,
    classifier: CategoryClassifier | None = None,
) -> SuggestionEngine:
    leaves = read_leaves()
    with session_factory() as session:
        articles = repository.current_articles(session)
        orders = closed_orders(session)
        dispatcher = dispatcher_in_force(session, clock.now())
    if not dispatcher.categories:  # reference data not seeded yet
        dispatcher = dispatcher_from_files(leaves)
    return SuggestionEngine(
        classifier or load_or_train(data_dir),
        LeafScorer(leaves, leaf_evidence(articles, orders)),
        dispatcher,
        KbIndex(articles),
        clock.now,
        unit_model(leaves, articles),
    )
