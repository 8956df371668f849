"""Ingest on call end, on SQLite and PostgreSQL: telephony's CallEnded on the bus → the call's MixMonitor files
(named as the dialplan names them) are stored with the call's metadata, the transcript is linked, and every
outcome (stored, abandoned, declined, not recorded, missing, failed then swept) leaves an ingest record.

The real Asterisk version of the first case is tests/e2e/test_recordings_call.py.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from asr.events import CallTranscriptClosed, TranscriptSegment
from hotline.bootstrap import App
from hotline.wiring import recordings_on_call_end
from recordings.call_end import CallEndIngestor
from recordings.call_end_terms import IngestRules
from recordings.context import RecordingsContext
from recordings.events import RecordingIngested, RecordingStored
from recordings.orm import Recording, RecordingFile, RecordingIngest
from recordings.policy import RecordingPolicyService
from recordings.storage import LocalStore, Payload, read_all
from recordings.testing import speech_like, wav_bytes, write_mixmonitor_files
from telephony.events import CallEnded
from telephony.orm import CallLegRow, CallRow, CallWorkOrderRow

FAST = IngestRules(settle_timeout_s=2.0, grace_s=0.2, poll_s=0.05, retries=2, retry_delay_s=0.05)
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
def ctx(hot: App) -> RecordingsContext:
    return hot.recordings.use_store(LocalStore(hot.settings.resolved_recordings_dir))


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    path = tmp_path / "monitor"
    path.mkdir()
    return path


@pytest.fixture
def ingestor(hot: App, ctx: RecordingsContext, spool_dir: Path) -> Iterator[CallEndIngestor]:
    ingestor = recordings_on_call_end(hot, spool_dir, rules=FAST, sweep_now=False)
    yield ingestor
    ingestor.close()


def add_call(
    hot: App,
    call_id: str,
    *,
    outcome: str = "answered",
    agent: str | None = "agent1001",
    recorded: bool = True,
    orders: tuple[str, ...] = (),
) -> None:
    """The call as telephony's ARI recorder leaves it (telephony/records.py)."""
    with hot.session_factory() as session, session.begin():
        session.add(
            CallRow(
                call_id=call_id,
                caller_number="13800000001",
                dialed="12346",
                started_at=T0,
                queued_at=T0 + timedelta(seconds=1),
                answered_at=T0 + timedelta(seconds=3) if agent else None,
                ended_at=T0 + timedelta(seconds=10),
                queue="urgent",
                agent=agent,
                outcome=outcome,
                recording=f"/var/lib/hotline/x/monitor/{call_id}.wav" if recorded else None,
            )
        )
        session.flush()
        session.add(
            CallLegRow(
                call_id=call_id,
                channel_id=call_id,
                channel_name="PJSIP/citizen-00000001",
                role="caller",
                number="13800000001",
                created_at=T0,
                answered_at=T0,
                ended_at=T0 + timedelta(seconds=10),
            )
        )
        if agent:
            session.add(
                CallLegRow(
                    call_id=call_id,
                    channel_id=f"{call_id}-agent",
                    channel_name=f"PJSIP/{agent}-00000002",
                    role="agent",
                    agent=agent,
                    created_at=T0 + timedelta(seconds=2),
                    answered_at=T0 + timedelta(seconds=3),
                    ended_at=T0 + timedelta(seconds=10),
                    dial_status="ANSWER",
                )
            )
        for number in orders:
            session.add(CallWorkOrderRow(call_id=call_id, work_order_number=number))


def ended(hot: App, call_id: str, outcome: str = "answered", agent: str | None = "agent1001") -> None:
    hot.bus.publish(CallEnded(call_id, "13800000001", outcome, agent, T0 + timedelta(seconds=10)))


def ingests(hot: App, call_id: str) -> list[RecordingIngest]:
    with hot.session_factory() as session:
        return list(
            session.scalars(
                select(RecordingIngest).where(RecordingIngest.call_id == call_id).order_by(RecordingIngest.id)
            )
        )


def recording_of(hot: App, call_id: str) -> Recording | None:
    with hot.session_factory() as session:
        recording = session.scalar(select(Recording).where(Recording.call_id == call_id))
        if recording is not None:
            _ = recording.files
        return recording


def segment(call_id: str, leg: str, start: int, end: int, text: str) -> TranscriptSegment:
    return TranscriptSegment(call_id, leg, start, end, text, text, True, "vosk", T0)  # type: ignore[arg-type]


def test_a_call_that_ends_is_stored_with_its_metadata_and_leaves_the_spool(
    hot: App, ctx: RecordingsContext, ingestor: CallEndIngestor, spool_dir: Path
) -> None:
    uid = "1795321291.7"
    add_call(hot, uid, orders=("HK20261123000001",))
    paths = write_mixmonitor_files(spool_dir, uid, seconds=2.5)
    originals = {kind: p.read_bytes() for kind, p in paths.items()}
    ended(hot, uid)
    assert ingestor.drain(30)

    [log] = ingests(hot, uid)
    assert (log.outcome, log.trigger, log.call_outcome, log.attempts) == (
        "stored",
        "call_ended",
        "answered",
        1,
    )
    assert sorted(log.kinds) == ["agent", "caller", "mixed"] and log.recording_id is not None
    recording = recording_of(hot, uid)
    assert recording is not None
    assert (recording.agent, recording.queue, recording.caller_number) == (
        "agent1001",
        "urgent",
        "13800000001",
    )
    assert recording.started_at == T0 + timedelta(
        seconds=1
    )  # MixMonitor starts as the caller joins the queue
    assert (recording.duration_ms, recording.call_outcome) == (2500, "answered")
    assert recording.order_numbers == ["HK20261123000001"]
    assert [(leg["role"], leg["agent"], leg["dial_status"]) for leg in recording.legs] == [
        ("caller", None, ""),
        ("agent", "agent1001", "ANSWER"),
    ]
    files = {f.kind: f for f in recording.files}
    for kind, data in originals.items():
        stored = read_all(ctx.store, files[kind].storage_key)
        assert stored == data
        assert files[kind].sha256 == hashlib.sha256(data).hexdigest()
        assert (files[kind].size_bytes, files[kind].format) == (len(data), "wav")
    assert list(spool_dir.iterdir()) == []  # stored, so removed from the switch's spool
    assert [e.outcome for e in hot.bus.published if isinstance(e, RecordingIngested)] == ["stored"]
    assert len([e for e in hot.bus.published if isinstance(e, RecordingStored)]) == 1

    ended(hot, uid)  # a repeated event finds nothing left to do
    assert ingestor.drain(30)
    assert [(i.outcome, i.recording_id) for i in ingests(hot, uid)] == [
        ("stored", log.recording_id),
        ("unchanged", log.recording_id),
    ]


def test_the_transcript_is_linked_whether_it_closes_before_or_after_the_ingest(
    hot: App, ingestor: CallEndIngestor, spool_dir: Path
) -> None:
    for uid in ("before.1", "after.2"):
        add_call(hot, uid)
        write_mixmonitor_files(spool_dir, uid, seconds=1)
    closed = CallTranscriptClosed(
        "before.1",
        (segment("before.1", "caller", 0, 900, "喂"), segment("before.1", "agent", 1000, 2000, "您好")),
    )
    hot.bus.publish(closed)  # the transcript closes first: kept until the recording exists
    ended(hot, "before.1")
    ended(hot, "after.2")
    assert ingestor.drain(30)
    hot.bus.publish(CallTranscriptClosed("after.2", (segment("after.2", "caller", 0, 500, "在吗"),)))
    assert ingestor.drain(30)
    before, after = recording_of(hot, "before.1"), recording_of(hot, "after.2")
    assert before is not None and after is not None
    assert before.transcript is not None and before.transcript["segments"] == {"agent": 1, "caller": 1}
    assert before.transcript["closed"] is True
    assert after.transcript is not None and after.transcript["segments"] == {"caller": 1}


def test_a_caller_who_hung_up_in_the_queue_is_kept_without_an_agent(
    hot: App, ingestor: CallEndIngestor, spool_dir: Path
) -> None:
    add_call(hot, "abandoned.3", outcome="abandoned", agent=None)
    write_mixmonitor_files(spool_dir, "abandoned.3", seconds=1.5)
    ended(hot, "abandoned.3", "abandoned", None)
    assert ingestor.drain(30)
    [log] = ingests(hot, "abandoned.3")
    assert log.outcome == "stored" and "before an agent answered" in log.detail
    recording = recording_of(hot, "abandoned.3")
    assert recording is not None and recording.agent is None and recording.call_outcome == "abandoned"


def test_consent_no_removes_the_files_and_keeps_nothing(
    hot: App, ingestor: CallEndIngestor, spool_dir: Path
) -> None:
    add_call(hot, "declined.4")
    RecordingPolicyService(hot.session_factory, hot.clock).decide_for_call("declined.4", "urgent", "no")
    write_mixmonitor_files(spool_dir, "declined.4", seconds=1)
    ended(hot, "declined.4")
    assert ingestor.drain(30)
    [log] = ingests(hot, "declined.4")
    assert log.outcome == "declined" and "3 spool file(s) removed" in log.detail
    assert recording_of(hot, "declined.4") is None and list(spool_dir.iterdir()) == []


def test_no_recording_started_and_missing_files_are_told_apart(
    hot: App, ingestor: CallEndIngestor, spool_dir: Path
) -> None:
    add_call(hot, "ivr.5", outcome="ivr_only", agent=None, recorded=False)
    add_call(hot, "lost.6")  # the dialplan named a recording file, but none is there
    ended(hot, "ivr.5", "ivr_only", None)
    ended(hot, "lost.6")
    assert ingestor.drain(30)
    [ivr] = ingests(hot, "ivr.5")
    [lost] = ingests(hot, "lost.6")
    assert (ivr.outcome, ivr.call_outcome) == ("not_recorded", "ivr_only") and "IVR" in ivr.detail
    assert lost.outcome == "missing" and "MixMonitor was started" in lost.detail
    assert lost.wait_ms >= 2000 > ivr.wait_ms  # only a started recording is waited for


def test_files_still_being_written_are_waited_for(
    hot: App, ingestor: CallEndIngestor, spool_dir: Path
) -> None:
    """As Asterisk does: header sizes zero while writing, the full header only when MixMonitor closes."""
    data = wav_bytes(speech_like(2.0))
    path = spool_dir / "slow.7.wav"
    path.write_bytes(data[:4] + bytes(4) + data[8:40] + bytes(4) + data[44:8000])
    add_call(hot, "slow.7")

    def finish() -> None:
        time.sleep(0.5)
        path.write_bytes(data)

    writer = threading.Thread(target=finish)
    writer.start()
    ended(hot, "slow.7")
    assert ingestor.drain(30)
    writer.join()
    [log] = ingests(hot, "slow.7")
    assert log.outcome == "stored" and log.detail == "" and log.wait_ms >= 400
    recording = recording_of(hot, "slow.7")
    assert recording is not None and recording.duration_ms == 2000


class FlakyStore(LocalStore):
    """A real local store whose writes fail while ``broken`` (a full disk, an unreachable bucket)."""

    broken = True

    def put(self, key: str, data: Payload) -> int:
        if self.broken:
            raise OSError("No space left on device")
        return super().put(key, data)


def test_a_failed_store_leaves_the_files_for_the_sweep(hot: App, spool_dir: Path, tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "flaky")
    ctx = hot.recordings.use_store(store)
    from recordings.calls import SqlCallLookup
    from recordings.transcripts import SqlTranscriptSource

    ingestor = CallEndIngestor(
        ctx,
        spool_dir,
        calls=SqlCallLookup(hot.session_factory),
        transcripts=SqlTranscriptSource(hot.session_factory),
        rules=FAST,
    )
    hot.bus.subscribe(CallEnded, ingestor.on_call_ended)
    try:
        add_call(hot, "flaky.8")
        write_mixmonitor_files(spool_dir, "flaky.8", seconds=1)
        ended(hot, "flaky.8")
        assert ingestor.drain(30)
        [failed] = ingests(hot, "flaky.8")
        assert (failed.outcome, failed.attempts) == ("failed", 2) and "No space left" in failed.detail
        assert len(list(spool_dir.iterdir())) == 3 and recording_of(hot, "flaky.8") is None

        store.broken = False
        young = write_mixmonitor_files(spool_dir, "young.9", seconds=1)  # a call that may still be going on
        old = time.time() - 600
        for path in spool_dir.glob("flaky.8*"):
            os.utime(path, (old, old))
        swept = ingestor.sweep()
        assert [(o.call_id, o.outcome) for o in swept] == [("flaky.8", "stored")]
        assert ingests(hot, "flaky.8")[-1].trigger == "sweep"
        assert sorted(p.name for p in spool_dir.iterdir()) == sorted(p.name for p in young.values())
        with hot.session_factory() as session:
            kinds = session.scalars(
                select(RecordingFile.kind).join(Recording).where(Recording.call_id == "flaky.8")
            ).all()
        assert sorted(kinds) == ["agent", "caller", "mixed"]
    finally:
        ingestor.close()
