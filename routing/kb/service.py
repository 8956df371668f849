"""The knowledge base as the desk uses it: search (index rebuilt after edits), read, create, revise."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kernel.clock import Clock
from kernel.db import transaction
from routing.domain.errors import Conflict
from routing.kb import repository
from routing.kb.index import Hit, KbIndex
from routing.kb.model import Article
from routing.kb.seed import article_from_dict, read_seed


class KnowledgeBase:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self._index: KbIndex | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> KbIndex:
        with self._lock:
            if self._index is None:
                with self.session_factory() as session:
                    self._index = KbIndex(repository.current_articles(session))
            return self._index

    def changed(self) -> None:
        with self._lock:
            self._index = None

    def search(
        self, query: str, k: int = 5, now: datetime | None = None, category: str | None = None
    ) -> list[Hit]:
        return self.index.search(query, now or self.clock.now(), k, category)

    def load_seed(self, by: str = "seed") -> tuple[int, int, int]:
        with transaction(self.session_factory) as session:
            counts = repository.load(session, read_seed(), self.clock.now(), by)
        self.changed()
        return counts

    def get(self, article_id: int) -> Article:
        with self.session_factory() as session:
            return repository.get(session, article_id)

    def history(self, article_id: int) -> list[Article]:
        with self.session_factory() as session:
            return repository.history(session, article_id)

    def create(self, fields: dict[str, Any], by: str = "") -> Article:
        article = article_from_dict(fields)
        try:
            with transaction(self.session_factory) as session:
                created = repository.create(session, article, self.clock.now(), by)
        except IntegrityError as exc:  # the same key created at the same moment by someone else
            raise Conflict(
                f"知识条目键 {article.key} 已存在", f"an article with key {article.key} exists already"
            ) from exc
        self.changed()
        return created

    def revise(self, article_id: int, changes: dict[str, Any], by: str = "") -> Article:
        with transaction(self.session_factory) as session:
            revised = repository.revise(session, article_id, changes, self.clock.now(), by)
        self.changed()
        return revised
