"""What every recordings service needs, built once per application from the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from hotline.bootstrap import App
from kernel.bus import EventBus
from kernel.clock import Clock
from recordings.storage import RecordingStore, store_from_env

EXTRAS_KEY = "recordings"


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


def recordings_context(hot: App, store: RecordingStore | None = None) -> RecordingsContext:
    """The application's recordings context (stored in ``hot.extras``); the store comes from the
    environment (see ``storage.store_from_env``) unless one is given."""
    existing = hot.extras.get(EXTRAS_KEY)
    if isinstance(existing, RecordingsContext) and store is None:
        return existing
    ctx = RecordingsContext(
        session_factory=hot.session_factory,
        store=store or store_from_env(hot.settings.resolved_recordings_dir),
        clock=hot.clock,
        bus=hot.bus,
        write_session_factory=hot.write_session_factory,
    )
    hot.extras[EXTRAS_KEY] = ctx
    return ctx
