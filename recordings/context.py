"""What every recordings service needs (built by ``recordings.parts.build``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from kernel.bus import EventBus
from kernel.clock import Clock
from recordings.storage import RecordingStore


@dataclass
class RecordingsContext:
    session_factory: sessionmaker[Session]
    store: RecordingStore
    clock: Clock
    bus: EventBus
    write_session_factory: sessionmaker[Session] | None = None

    @property
    def writer(self) -> sessionmaker[Session]:
        """Sessions for units of work that write (on SQLite they take the write lock at BEGIN, so a
        read-then-write waits on the busy timeout instead of failing; see docs/decisions.md)."""
        return self.write_session_factory or self.session_factory
