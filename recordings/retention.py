"""Retention: purge originals once a compressed copy is old enough, delete whole recordings after N days,
and hold anything linked to a work order that is not closed yet, or concerned by an open complaint about
the agent (the same citizen complaining after the call, see ``orders.complaint_concerns``): the recording
is the evidence the complaint will be judged on.

The rules are a pure function of the recordings, ``now`` and the open orders; the job applies them and
reports what it deleted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from recordings.context import RecordingsContext
from recordings.events import RecordingDeleted
from recordings.ingest import ORIGINAL_KINDS
from recordings.orders import COMPLAINT_WORDS, OrderLookup, complaint_concerns
from recordings.orm import Recording


@dataclass(frozen=True)
class RetentionPolicy:
    keep_original_days: int = 30
    delete_after_days: int = 730

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetentionPolicy:
        env = os.environ if env is None else env
        return cls(
            keep_original_days=int(env.get("HOTLINE_RECORDINGS_KEEP_ORIGINAL_DAYS", cls.keep_original_days)),
            delete_after_days=int(env.get("HOTLINE_RECORDINGS_DELETE_AFTER_DAYS", cls.delete_after_days)),
        )


@dataclass(frozen=True)
class Candidate:
    recording_id: int
    call_id: str
    started_at: datetime
    live_kinds: frozenset[str]
    order_numbers: tuple[str, ...] = ()
    caller_number: str | None = None


@dataclass(frozen=True)
class Action:
    recording_id: int
    call_id: str
    what: str  # originals | recording
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Hold:
    recording_id: int
    call_id: str
    open_orders: tuple[str, ...]


@dataclass
class RetentionReport:
    dry_run: bool
    actions: list[Action] = field(default_factory=list)
    held: list[Hold] = field(default_factory=list)
    bytes_freed: int = 0


def plan(
    candidates: list[Candidate],
    now: datetime,
    policy: RetentionPolicy,
    open_orders: Callable[[Candidate], list[str]],
) -> tuple[list[Action], list[Hold]]:
    actions: list[Action] = []
    held: list[Hold] = []
    for c in candidates:
        age = now - c.started_at
        originals = tuple(sorted(c.live_kinds & set(ORIGINAL_KINDS)))
        if age >= timedelta(days=policy.delete_after_days) and c.live_kinds:
            action = Action(c.recording_id, c.call_id, "recording", tuple(sorted(c.live_kinds)))
        elif age >= timedelta(days=policy.keep_original_days) and "compressed" in c.live_kinds and originals:
            action = Action(c.recording_id, c.call_id, "originals", originals)
        else:
            continue
        still_open = open_orders(c)
        if still_open:
            held.append(Hold(c.recording_id, c.call_id, tuple(still_open)))
        else:
            actions.append(action)
    return actions, held


def run_retention(
    ctx: RecordingsContext, orders: OrderLookup, policy: RetentionPolicy, *, dry_run: bool = False
) -> RetentionReport:
    now = ctx.clock.now()
    with ctx.session_factory() as session:
        candidates = [
            Candidate(
                r.id,
                r.call_id,
                r.started_at,
                frozenset(f.kind for f in r.files if f.deleted_at is None),
                tuple(r.order_numbers),
                r.caller_number,
            )
            for r in session.scalars(
                select(Recording).where(Recording.deleted_at.is_(None)).order_by(Recording.id)
            )
        ]

    complaints = [o for o in orders.mentioning(COMPLAINT_WORDS) if o.is_open]

    def open_orders(c: Candidate) -> list[str]:
        held = {o.number for o in orders.linked(c.order_numbers, c.call_id) if o.is_open}
        held |= {
            o.number
            for o in complaints
            if complaint_concerns(
                o,
                call_id=c.call_id,
                caller_number=c.caller_number,
                started_at=c.started_at,
                order_numbers=c.order_numbers,
            )
        }
        return sorted(held)

    actions, held = plan(candidates, now, policy, open_orders)
    report = RetentionReport(dry_run=dry_run, actions=actions, held=held)
    for action in actions:
        report.bytes_freed += _apply(ctx, action, now, dry_run)
    return report


def _apply(ctx: RecordingsContext, action: Action, now: datetime, dry_run: bool) -> int:
    freed = 0
    with ctx.writer() as session, session.begin():
        recording = session.get(Recording, action.recording_id)
        assert recording is not None
        for file in recording.files:
            if file.kind in action.kinds and file.deleted_at is None:
                freed += file.size_bytes
                if not dry_run:
                    ctx.store.delete(file.storage_key)
                    file.deleted_at = now
        if dry_run:
            session.rollback()
            return freed
        if action.what == "recording":
            recording.retention_state, recording.deleted_at = "deleted", now
        else:
            recording.retention_state = "originals_purged"
    ctx.bus.publish(RecordingDeleted(action.recording_id, action.call_id, action.what))
    return freed
