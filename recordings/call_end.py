"""Ingest on call end: when telephony reports that a call ended, store its MixMonitor files and metadata;
when asr closes the call's transcript, link it to the recording.

The composition root (the telephony role) calls ``start_ingest(parts, monitor_dir)`` once, subscribes
``on_call_ended`` and ``on_transcript_closed`` to telephony's and asr's events, and ``close()`` on shutdown. Bus handlers run on the thread that published (the event
loop, for ARI events), so they only hand the work to a small thread pool: MixMonitor finishes writing
only after the hangup, and waiting for it must never hold up the loop.

Every call that ends leaves one ``recording_ingests`` row saying what became of its recording:

- ``stored``       files stored with their metadata (a caller who hung up before an agent answered is
                   recorded too: MixMonitor starts before Queue(), so the wait is kept, with no agent);
- ``unchanged``    already stored (a repeated event, or the sweep after a crash);
- ``declined``     the stored consent decision says no: any file is removed from the spool, nothing kept;
- ``not_recorded`` no MixMonitor ran (the caller left in the IVR, chose a callback, recording switched off
                   for the queue or declined in the IVR);
- ``missing``      MixMonitor was started but left no file: an operator should look (also logged);
- ``failed``       storage or the database failed after retries: the files stay in the spool, and the next
                   sweep (at start-up, daily, or ``hotline recordings sweep``) stores them. Nothing is lost.

Spool files are removed once stored (checksummed), so the spool holds only calls in progress and leftovers.

The component reads telephony's, asr's and routing's tables through ports (calls.py, transcripts.py,
orders.py); their events reach it through the composition root.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from recordings import spool
from recordings.call_end_terms import (
    NOT_RECORDED_BECAUSE,
    CallHint,
    IngestOutcome,
    IngestRules,
    main_monitor_dir,
    transcript_summary,
)
from recordings.calls import CallInfo, CallLookup, SqlCallLookup
from recordings.context import RecordingsContext
from recordings.events import RecordingIngested
from recordings.ingest import RecordingNotAllowed, ingest
from recordings.orm import Recording, RecordingIngest
from recordings.policy import RecordingPolicyService
from recordings.transcripts import TranscriptSource

if TYPE_CHECKING:
    from recordings.parts import RecordingsParts

log = logging.getLogger(__name__)

PENDING_TRANSCRIPTS = 1000  # transcripts waiting for their recording, at most (oldest dropped)


class CallEndIngestor:
    def __init__(
        self,
        ctx: RecordingsContext,
        monitor_dir: Path,
        *,
        calls: CallLookup,
        transcripts: TranscriptSource,
        rules: IngestRules | None = None,
        workers: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ctx = ctx
        self.monitor_dir = monitor_dir
        self.calls = calls
        self.transcripts = transcripts
        self.rules = rules or IngestRules()
        self.consent = RecordingPolicyService(ctx.session_factory, ctx.clock)
        self._sleep = sleep
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recordings-ingest")
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._inflight: set[str] = set()
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._closed = False

    # ---- events (telephony's CallEnded, asr's CallTranscriptClosed; duck-typed) ----------------------------
    def on_call_ended(self, event: Any) -> None:
        hint = CallHint(event.agent, event.caller_number, event.outcome, event.ended_at)
        self.submit(self.ingest_call, event.call_id, hint=hint)

    def on_transcript_closed(self, event: Any) -> None:
        self.submit(self.link_transcript, event.call_id, transcript_summary(event.segments, closed=True))

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any] | None:
        if self._closed:
            log.warning("recordings ingestor is closed; %s(%s) not run", fn.__name__, args)
            return None
        future = self._executor.submit(self._logged, fn, *args, **kwargs)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    @staticmethod
    def _logged(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("recordings: %s%s failed", fn.__name__, args)
            raise

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job is done (tests, shutdown); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._futures)
            if not pending:
                return True
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            _, not_done = wait(pending, timeout=left)
            if not_done and deadline is not None and time.monotonic() >= deadline:
                return False

    def close(self, *, wait_s: float = 30.0) -> None:
        """Finish what is queued (at most ``wait_s``), then stop; what is left is found by the next sweep."""
        self.drain(wait_s)
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---- the work (on worker threads; callable directly) ----------------------------------------------
    def ingest_call(
        self, call_id: str, *, hint: CallHint | None = None, trigger: str = "call_ended"
    ) -> IngestOutcome:
        with self._lock:
            if call_id in self._inflight:  # the sweep met a call whose CallEnded is being handled
                return IngestOutcome(call_id, "unchanged", detail="already being ingested")
            self._inflight.add(call_id)
        try:
            outcome = self._ingest_call(call_id, hint or CallHint(), trigger)
        finally:
            with self._lock:
                self._inflight.discard(call_id)
                late = self._pending.pop(call_id, None)
        if late is not None and outcome.recording_id is not None:
            self._set_transcript(call_id, late)
        elif late is not None and outcome.outcome == "failed":
            self.link_transcript(call_id, late)  # kept for the sweep that will store the files
        self.ctx.bus.publish(
            RecordingIngested(call_id, outcome.outcome, outcome.recording_id, outcome.detail)
        )
        return outcome

    def _ingest_call(self, call_id: str, hint: CallHint, trigger: str) -> IngestOutcome:
        info = self.calls.call(call_id)
        call_outcome = (info.outcome if info else None) or hint.outcome
        decision = self.consent.decision_for(call_id)
        declined = decision is not None and not decision.record
        expect = not declined and (info.recording_started if info is not None else True)
        stored = self._stored_recording(call_id)
        if stored is not None and not spool.files_of(self.monitor_dir, call_id):
            return self._log(
                call_id, "unchanged", "already stored", call_outcome, trigger, recording_id=stored
            )
        settled = spool.wait_settled(
            self.monitor_dir,
            call_id,
            expect_files=expect,
            timeout_s=0.0 if trigger == "sweep" else self.rules.settle_timeout_s,
            grace_s=0.0 if trigger == "sweep" else self.rules.grace_s,
            poll_s=self.rules.poll_s,
            sleep=self._sleep,
        )
        wait_ms = settled.waited_ms
        if declined and decision is not None:
            left = spool.remove(settled.files.values())
            detail = f"recording not allowed ({decision.reason}); {len(settled.files)} spool file(s) removed"
            if left:
                detail += f"; could not remove {left}"
            return self._log(call_id, "declined", detail, call_outcome, trigger, wait_ms=wait_ms)
        if not settled.files:
            if info is not None and info.recording_started:
                detail = (
                    f"MixMonitor was started ({info.recording}) but left no file in {self.monitor_dir} "
                    f"within {self.rules.settle_timeout_s:g} s / 录音文件缺失"
                )
                log.warning("recording of call %s is missing: %s", call_id, detail)
                return self._log(call_id, "missing", detail, call_outcome, trigger, wait_ms=wait_ms)
            if info is None:
                detail = "telephony has no record of this call and the spool has no file"
            else:
                detail = NOT_RECORDED_BECAUSE.get(
                    info.outcome,
                    "no MixMonitor ran: recording off for the queue, or declined in the IVR / 未录音",
                )
            return self._log(call_id, "not_recorded", detail, call_outcome, trigger, wait_ms=wait_ms)
        return self._store(call_id, info, hint, call_outcome, trigger, settled)

    def _store(
        self,
        call_id: str,
        info: CallInfo | None,
        hint: CallHint,
        call_outcome: str | None,
        trigger: str,
        settled: spool.Settled,
    ) -> IngestOutcome:
        started = time.monotonic()
        with self._lock:
            transcript = self._pending.pop(call_id, None)
        if transcript is None:
            segments = self.transcripts.segments(call_id)
            transcript = transcript_summary(segments, closed=False) if segments else None
        last_error: Exception | None = None
        for attempt in range(1, self.rules.retries + 1):
            try:
                result = ingest(
                    self.ctx,
                    call_id,
                    self.monitor_dir,
                    agent=(info.agent if info else None) or hint.agent,
                    queue=info.queue if info else None,
                    caller_number=(info.caller_number if info else None) or hint.caller_number,
                    started_at=info.queued_at if info else None,
                    ended_at=(info.ended_at if info else None) or hint.ended_at,
                    order_numbers=info.order_numbers if info else (),
                    legs=[leg.as_json() for leg in info.legs] if info else None,
                    call_outcome=call_outcome,
                    transcript=transcript,
                )
            except RecordingNotAllowed as exc:  # decided while we waited
                spool.remove(settled.files.values())
                return self._log(call_id, "declined", str(exc), call_outcome, trigger)
            except Exception as exc:
                last_error = exc
                log.warning("ingest of call %s failed (attempt %d): %s", call_id, attempt, exc)
                if attempt < self.rules.retries:
                    self._sleep(self.rules.retry_delay_s * attempt)
                continue
            break
        else:
            detail = f"{type(last_error).__name__}: {last_error}; files left in the spool for the next sweep"
            return self._log(
                call_id,
                "failed",
                detail,
                call_outcome,
                trigger,
                wait_ms=settled.waited_ms,
                attempts=self.rules.retries,
            )
        notes = []
        if call_outcome == "abandoned":
            notes.append("caller hung up before an agent answered / 市民在排队时挂机")
        if result.repaired:
            notes.append(f"header repaired (the switch never closed {', '.join(sorted(result.repaired))})")
        elif not settled.closed:
            notes.append("MixMonitor had not closed the files when they were read")
        if self.rules.remove_from_spool:
            left = spool.remove(result.paths.values())
            if left:
                notes.append(f"could not remove from the spool: {left}")
        return self._log(
            call_id,
            "stored" if result.stored else "unchanged",
            "; ".join(notes),
            call_outcome,
            trigger,
            recording_id=result.recording_id,
            kinds=tuple(sorted(result.stored or result.unchanged)),
            wait_ms=settled.waited_ms,
            ingest_ms=round((time.monotonic() - started) * 1000),
            attempts=attempt,
            duration_ms=result.duration_ms,
            size_bytes=result.size_bytes,
        )

    def _log(
        self,
        call_id: str,
        outcome: str,
        detail: str,
        call_outcome: str | None,
        trigger: str,
        *,
        recording_id: int | None = None,
        kinds: tuple[str, ...] = (),
        wait_ms: int = 0,
        ingest_ms: int = 0,
        attempts: int = 1,
        duration_ms: int = 0,
        size_bytes: int = 0,
    ) -> IngestOutcome:
        with self.ctx.writer() as session, session.begin():
            session.add(
                RecordingIngest(
                    call_id=call_id,
                    outcome=outcome,
                    detail=detail,
                    recording_id=recording_id,
                    kinds=list(kinds),
                    call_outcome=call_outcome,
                    trigger=trigger,
                    attempts=attempts,
                    wait_ms=wait_ms,
                    ingest_ms=ingest_ms,
                    at=self.ctx.clock.now(),
                )
            )
        return IngestOutcome(
            call_id, outcome, recording_id, kinds, detail, wait_ms, ingest_ms, duration_ms, size_bytes
        )

    def link_transcript(self, call_id: str, summary: dict[str, Any]) -> bool:
        """Attach the closed transcript to the call's recording; kept aside until the recording exists."""
        with self._lock:
            if call_id not in self._inflight and self._set_transcript(call_id, summary):
                return True
            self._pending[call_id] = summary
            self._pending.move_to_end(call_id)
            while len(self._pending) > PENDING_TRANSCRIPTS:
                self._pending.popitem(last=False)
            return False

    def _stored_recording(self, call_id: str) -> int | None:
        with self.ctx.session_factory() as session:
            return session.scalar(
                select(Recording.id).where(Recording.call_id == call_id, Recording.deleted_at.is_(None))
            )

    def _set_transcript(self, call_id: str, summary: dict[str, Any]) -> bool:
        with self.ctx.writer() as session, session.begin():
            recording = session.scalar(select(Recording).where(Recording.call_id == call_id))
            if recording is None:
                return False
            recording.transcript = summary
            return True

    def sweep(self, *, now: float | None = None) -> list[IngestOutcome]:
        """Ingest every call left in the spool whose files stopped changing: calls that ended while this
        process was down, or whose ingest failed. Files still being written are left alone."""
        now = time.time() if now is None else now
        outcomes = []
        for uid, mtime in sorted(spool.calls_in_spool(self.monitor_dir).items()):
            age = now - mtime
            if age < self.rules.sweep_min_age_s:
                continue
            if not spool.snapshot(self.monitor_dir, uid).closed and age < self.rules.sweep_stale_s:
                continue  # an unclosed file not yet stale: the call may still be in progress
            outcomes.append(self.ingest_call(uid, trigger="sweep"))
        return outcomes


def start_ingest(
    parts: RecordingsParts,
    monitor_dir: Path | None = None,
    *,
    rules: IngestRules | None = None,
    sweep_now: bool = True,
) -> CallEndIngestor:
    """The process's ingestor (kept on ``parts.ingestor``). ``monitor_dir`` defaults to the main Asterisk
    instance's (``main_monitor_dir``). With ``sweep_now`` the spool is swept once in the background, for
    calls that ended while no process was ingesting."""
    existing = parts.ingestor
    if existing is not None and not existing._closed:
        return existing
    ingestor = CallEndIngestor(
        parts.ctx,
        monitor_dir or main_monitor_dir(parts.settings),
        calls=SqlCallLookup(parts.session_factory),
        transcripts=parts.transcripts,
        rules=rules,
    )
    parts.ingestor = ingestor
    if sweep_now:
        ingestor.submit(ingestor.sweep)
    return ingestor
