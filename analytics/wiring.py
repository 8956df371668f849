"""What analytics needs from the composition root, typed (no string-keyed bag), and the parts it builds.

The roof hands any object with these attributes (the bootstrapped ``App`` has them all). An IVR
announcement writer may be given too: playbooks then put their announcement on the line without analytics
importing the IVR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from kernel.bus import EventBus
from kernel.clock import Clock
from routing.domain.sla import SlaPolicy, WorkCalendar


class HostSettings(Protocol):
    @property
    def data_dir(self) -> Path: ...
    @property
    def timezone(self) -> str: ...


class AnalyticsHost(Protocol):
    @property
    def settings(self) -> HostSettings: ...
    @property
    def session_factory(self) -> sessionmaker[Session]: ...
    @property
    def write_session_factory(self) -> sessionmaker[Session]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def bus(self) -> EventBus: ...
    @property
    def policy(self) -> SlaPolicy: ...
    @property
    def calendar(self) -> WorkCalendar: ...


@dataclass(frozen=True)
class Announcement:
    """What a playbook asks the IVR to play before the menus (the roof turns it into the IVR's format)."""

    id: str
    text_zh: str
    text_en: str
    starts_at: datetime
    ends_at: datetime


# (announcement to publish) or (id to withdraw, None)
Announcer = Callable[[str, Announcement | None], None]


@dataclass
class AnalyticsParts:
    session_factory: sessionmaker[Session]
    write_session_factory: sessionmaker[Session]
    clock: Clock
    bus: EventBus
    policy: SlaPolicy
    calendar: WorkCalendar
    data_dir: Path
    announcer: Announcer | None = None

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


def build(host: AnalyticsHost, announcer: Announcer | None = None) -> AnalyticsParts:
    return AnalyticsParts(
        session_factory=host.session_factory,
        write_session_factory=host.write_session_factory,
        clock=host.clock,
        bus=host.bus,
        policy=host.policy,
        calendar=host.calendar,
        data_dir=Path(host.settings.data_dir),
        announcer=announcer,
    )
