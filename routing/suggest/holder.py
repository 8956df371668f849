"""The suggestion engine of one process, built on first use (loading the model takes a moment) and kept."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from kernel.clock import Clock
from routing.suggest.service import SuggestionEngine


class EngineHolder:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, data_dir: Path) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.data_dir = data_dir
        self._engine: SuggestionEngine | None = None
        self._lock = threading.Lock()

    def get(self) -> SuggestionEngine:
        with self._lock:
            if self._engine is None:
                from routing.suggest.factory import engine_for_database

                self._engine = engine_for_database(self.session_factory, self.clock, self.data_dir)
            return self._engine
