"""What every component is built on: settings, the database, the clock and the bus, made once per process.

``build_core`` makes nothing connect at import time; the engine connects on first use. Components receive
the ``Core`` (or the parts of it they need) from the composition root and never build one themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kernel.bus import EventBus
from kernel.clock import Clock, SystemClock
from kernel.db import make_engine, make_session_factory
from kernel.outbox import Outbox
from kernel.settings import Settings


@dataclass
class Core:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    write_session_factory: sessionmaker[Session]
    clock: Clock
    bus: EventBus
    outbox: Outbox

    def close(self) -> None:
        self.engine.dispose()


class UsesCore:
    """For a component's parts: ``parts.session_factory`` and friends read through to its ``core``."""

    core: Core

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.core.session_factory

    @property
    def write_session_factory(self) -> sessionmaker[Session]:
        return self.core.write_session_factory

    @property
    def clock(self) -> Clock:
        return self.core.clock

    @property
    def bus(self) -> EventBus:
        return self.core.bus

    @property
    def outbox(self) -> Outbox:
        return self.core.outbox


def build_core(settings: Settings, *, clock: Clock | None = None, bus: EventBus | None = None) -> Core:
    engine = make_engine(settings.resolved_database_url)
    clock = clock or SystemClock()
    bus = bus or EventBus()
    write_factory = make_session_factory(engine, for_writing=True)
    return Core(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        write_session_factory=write_factory,
        clock=clock,
        bus=bus,
        outbox=Outbox(write_factory, bus, clock.now),
    )
