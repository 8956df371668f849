"""Integrity check: every live file must be in storage with its recorded size and SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from recordings.context import RecordingsContext
from recordings.orm import RecordingFile
from recordings.storage import RecordingMissing


@dataclass(frozen=True)
class Problem:
    recording_id: int
    kind: str
    storage_key: str
    problem: str  # missing | altered
    detail: str = ""


@dataclass
class IntegrityReport:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # objects in storage that no row knows

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    ctx: RecordingsContext, *, find_orphans: bool = True, progress: Callable[[int, int], None] | None = None
) -> IntegrityReport:
    with ctx.session_factory() as session:
        files = [
            (f.recording_id, f.kind, f.storage_key, f.size_bytes, f.sha256)
            for f in session.scalars(
                select(RecordingFile).where(RecordingFile.deleted_at.is_(None)).order_by(RecordingFile.id)
            )
        ]
    report = IntegrityReport()
    for index, (recording_id, kind, key, size, sha256) in enumerate(files, start=1):
        report.checked += 1
        try:
            digest = hashlib.sha256()
            actual_size = 0
            for chunk in ctx.store.open_range(key):
                digest.update(chunk)
                actual_size += len(chunk)
        except RecordingMissing:
            report.problems.append(Problem(recording_id, kind, key, "missing"))
        else:
            if actual_size != size or digest.hexdigest() != sha256:
                report.problems.append(
                    Problem(
                        recording_id,
                        kind,
                        key,
                        "altered",
                        f"size {actual_size} (expected {size}), sha256 {digest.hexdigest()[:12]}… "
                        f"(expected {sha256[:12]}…)",
                    )
                )
        if progress:
            progress(index, len(files))
    if find_orphans:
        known = {key for _, _, key, _, _ in files}
        with ctx.session_factory() as session:
            known |= set(session.scalars(select(RecordingFile.storage_key)))
        report.orphans = [key for key in ctx.store.list() if key not in known]
    return report
