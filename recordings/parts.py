"""Recordings' parts, built once per process by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from kernel.core import Core, UsesCore
from recordings.access import Listener
from recordings.call_end import CallEndIngestor
from recordings.context import RecordingsContext
from recordings.orders import OrderLookup, SqlOrderLookup
from recordings.queries import RecordingsCatalog
from recordings.storage import RecordingStore, store_from_env
from recordings.transcripts import SqlTranscriptSource, TranscriptSource

ListenerResolver = Callable[[Request], Listener | None]


@dataclass
class RecordingsParts(UsesCore):
    core: Core
    ctx: RecordingsContext
    transcripts: TranscriptSource
    catalog: RecordingsCatalog
    orders: OrderLookup
    # Who is listening: the web desk owns log-in and tells this component (None: nobody is let in).
    listener: ListenerResolver | None = None
    # Set when this process ingests recordings on call end (the telephony role).
    ingestor: CallEndIngestor | None = None

    def use_store(self, store: RecordingStore) -> RecordingsContext:
        """Keep recordings in ``store`` from now on (tests and tools pointing at a local folder)."""
        self.ctx.store = store
        return self.ctx


def build(core: Core, store: RecordingStore | None = None) -> RecordingsParts:
    ctx = RecordingsContext(
        session_factory=core.session_factory,
        store=store or store_from_env(core.settings.resolved_recordings_dir),
        clock=core.clock,
        bus=core.bus,
        write_session_factory=core.write_session_factory,
    )
    return RecordingsParts(
        core=core,
        ctx=ctx,
        transcripts=SqlTranscriptSource(core.session_factory),
        catalog=RecordingsCatalog(core.session_factory),
        orders=SqlOrderLookup(core.session_factory),
    )
