"""Operator announcements: "if you are calling about the power cut in X, press 1".

They live in a YAML file in the data directory (``$HOTLINE_IVR_ANNOUNCEMENTS`` or
``<data_dir>/ivr/announcements.yaml``), which the engine reads on every call: an operator edits the file and
rebuilds the prompts (``hotline ivr prompts``), and the next call hears the change, with no deploy or restart.
Each announcement plays the prompt ``ann-<id>`` and, when the caller presses 1, ``ann-<id>-detail``.
A broken file is logged and ignored so that calls keep flowing.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Protocol

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ivr.model import Language, Route

log = logging.getLogger(__name__)


class Announcement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    active: bool = True
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    text: dict[Language, str]  # ends with "press 1"
    detail: dict[Language, str]  # what a caller who pressed 1 hears
    on_press: Route | None = Route.HANGUP  # after the detail; None: go on to the menus

    @property
    def prompt(self) -> str:
        return f"ann-{self.id}"

    @property
    def detail_prompt(self) -> str:
        return f"ann-{self.id}-detail"

    def live(self, now: datetime) -> bool:
        if not self.active:
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        return not (self.ends_at is not None and now >= self.ends_at)


class AnnouncementFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    announcements: list[Announcement] = Field(default_factory=list)


class AnnouncementSource(Protocol):
    def current(self, now: datetime) -> list[Announcement]: ...


class NoAnnouncements:
    def current(self, now: datetime) -> list[Announcement]:
        return []


def default_announcements_path(data_dir: Path) -> Path:
    return Path(os.environ.get("HOTLINE_IVR_ANNOUNCEMENTS") or data_dir / "ivr" / "announcements.yaml")


def read_announcements(path: Path) -> list[Announcement]:
    """All announcements in the file (raises on a bad file; for the CLI and the prompt builder)."""
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return AnnouncementFile.model_validate(raw).announcements


class YamlAnnouncements:
    """Reads the file again whenever it changed on disk (checked on every call)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._items: list[Announcement] = []

    def current(self, now: datetime) -> list[Announcement]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._seen:
            try:
                self._items = read_announcements(self.path)
            except (OSError, yaml.YAMLError, ValidationError) as exc:
                log.error("ignoring the announcements file %s: %s", self.path, exc)
                self._items = []
            self._seen = stamp
        return [a for a in self._items if a.live(now)]


def write_announcements(path: Path, items: list[Announcement]) -> None:
    """Replace the file atomically (the engine may read it during a call at any moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = AnnouncementFile(announcements=items).model_dump(mode="json", exclude_none=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def upsert_announcement(path: Path, item: Announcement) -> None:
    """Add an announcement or replace the one with the same id (e.g. a supervisor's event playbook)."""
    items = [a for a in read_announcements(path) if a.id != item.id]
    write_announcements(path, [*items, item])


def remove_announcement(path: Path, ident: str) -> bool:
    items = read_announcements(path)
    kept = [a for a in items if a.id != ident]
    if len(kept) != len(items):
        write_announcements(path, kept)
    return len(kept) != len(items)
