"""Ingest → compress → retention → integrity, on SQLite and PostgreSQL, with the local file store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from kernel.clock import FakeClock
from recordings import audio
from recordings.compress import compress_recording
from recordings.context import RecordingsContext
from recordings.events import RecordingStored
from recordings.ingest import NoRecordingFiles, RecordingNotAllowed, ingest
from recordings.integrity import verify
from recordings.orders import FakeOrderLookup, OrderSummary, SqlOrderLookup
from recordings.orm import Recording, RecordingFile
from recordings.policy import QueuePolicy, RecordingPolicyService
from recordings.retention import RetentionPolicy, run_retention
from recordings.storage import LocalStore, read_all
from recordings.testing import write_mixmonitor_files


@pytest.fixture
def ctx(hot: App) -> RecordingsContext:
    return hot.recordings.use_store(LocalStore(hot.settings.resolved_recordings_dir))


def _files(ctx: RecordingsContext, recording_id: int) -> dict[str, RecordingFile]:
    with ctx.session_factory() as session:
        rows = session.scalars(select(RecordingFile).where(RecordingFile.recording_id == recording_id))
        return {f.kind: f for f in rows}


def test_ingest_stores_three_files_with_checksums_and_is_idempotent(
    hot: App, ctx: RecordingsContext, tmp_path: Path
) -> None:
    paths = write_mixmonitor_files(tmp_path / "monitor", "1732240000.7", seconds=2.5)
    first = ingest(
        ctx,
        "1732240000.7",
        tmp_path / "monitor",
        agent="8001",
        queue="hotline",
        order_numbers=["HK20261123000001"],
    )
    assert first.created and sorted(first.stored) == ["agent", "caller", "mixed"]
    files = _files(ctx, first.recording_id)
    for kind, path in paths.items():
        assert read_all(ctx.store, files[kind].storage_key) == path.read_bytes()
        assert files[kind].size_bytes == path.stat().st_size
        assert files[kind].duration_ms == 2500 and files[kind].sample_rate == 8000
    assert files["mixed"].storage_key.endswith("/1732240000.7/mixed.wav")
    stored = [e for e in hot.bus.published if isinstance(e, RecordingStored)]
    assert len(stored) == 1 and stored[0].agent == "8001"

    again = ingest(ctx, "1732240000.7", tmp_path / "monitor")
    assert (
        not again.created and again.stored == [] and sorted(again.unchanged) == ["agent", "caller", "mixed"]
    )
    assert len([e for e in hot.bus.published if isinstance(e, RecordingStored)]) == 1
    with ctx.session_factory() as session:
        recording = session.scalars(select(Recording)).one()
        assert recording.duration_ms == 2500
        assert recording.order_numbers == ["HK20261123000001"]
        assert len(recording.waveform) == 200


def test_ingest_measures_a_raised_voice_on_the_caller_leg(ctx: RecordingsContext, tmp_path: Path) -> None:
    write_mixmonitor_files(tmp_path, "loud", seconds=4, caller_amplitude=0.9, agent_amplitude=0.05)
    result = ingest(ctx, "loud", tmp_path)
    with ctx.session_factory() as session:
        features = session.get_one(Recording, result.recording_id).features
    assert features["caller_loud_s"] == 4 and features["agent_loud_s"] == 0


def test_ingest_refuses_without_files_or_consent(hot: App, ctx: RecordingsContext, tmp_path: Path) -> None:
    with pytest.raises(NoRecordingFiles):
        ingest(ctx, "none", tmp_path)
    policy = RecordingPolicyService(hot.session_factory, hot.clock)
    assert not policy.decide_for_call("declined", "hotline", "no").record
    write_mixmonitor_files(tmp_path, "declined")
    with pytest.raises(RecordingNotAllowed):
        ingest(ctx, "declined", tmp_path)


def test_consent_decisions_are_stored_once(hot: App) -> None:
    policy = RecordingPolicyService(hot.session_factory, hot.clock)
    policy.set_queue_policy(QueuePolicy("complaints", record=False, announce=False))
    assert policy.decide_for_call("c1", "complaints", None).reason == "queue_off"
    assert policy.decide_for_call("c2", "hotline", None).record
    assert policy.decide_for_call("c2", "hotline", "no").record  # decided already: the first answer stands
    assert policy.queue_policy("hotline") == QueuePolicy("hotline")


@pytest.mark.parametrize("codec", ["opus", "gsm"])
def test_compress_makes_a_smaller_copy_of_the_same_length(
    ctx: RecordingsContext, tmp_path: Path, codec: str
) -> None:
    write_mixmonitor_files(tmp_path, "c", seconds=6)
    rid = ingest(ctx, "c", tmp_path).recording_id
    result = compress_recording(ctx, rid, codec)
    assert result is not None and result.compressed_bytes < result.original_bytes / 4
    compressed = _files(ctx, rid)["compressed"]
    data = read_all(ctx.store, compressed.storage_key)
    assert audio.describe(data).format == codec
    assert abs(audio.describe(data).duration_ms - 6000) < 100
    assert compress_recording(ctx, rid, codec) is None  # already done


def test_retention_purges_originals_then_deletes_unless_an_order_is_open(
    hot: App, ctx: RecordingsContext, clock: FakeClock, tmp_path: Path
) -> None:
    for uid in ("old", "held"):
        write_mixmonitor_files(tmp_path, uid, seconds=1)
        rid = ingest(ctx, uid, tmp_path, order_numbers=["HK1"] if uid == "held" else ()).recording_id
        compress_recording(ctx, rid)
    orders = FakeOrderLookup([OrderSummary("HK1", "in_progress", "complaint", "", "", "", ())])
    policy = RetentionPolicy(keep_original_days=30, delete_after_days=365)

    assert run_retention(ctx, orders, policy).actions == []  # too young for anything
    clock.advance(days=31)
    dry = run_retention(ctx, orders, policy, dry_run=True)
    assert [(a.call_id, a.what) for a in dry.actions] == [("old", "originals")] and dry.bytes_freed > 0
    assert [h.open_orders for h in dry.held] == [("HK1",)]
    assert all(f.deleted_at is None for f in _files(ctx, 1).values())  # a dry run changes nothing

    done = run_retention(ctx, orders, policy)
    assert done.bytes_freed == dry.bytes_freed
    old = {f.kind: f for f in _files(ctx, dry.actions[0].recording_id).values() if f.deleted_at is None}
    assert list(old) == ["compressed"]
    assert not ctx.store.exists(_files(ctx, dry.actions[0].recording_id)["mixed"].storage_key)

    clock.advance(days=400)
    orders.orders = [OrderSummary("HK1", "closed", "complaint", "", "", "", ())]
    final = run_retention(ctx, orders, policy)
    assert sorted((a.call_id, a.what) for a in final.actions) == [("held", "recording"), ("old", "recording")]
    assert ctx.store.list() == []
    assert verify(ctx).ok


def test_sql_order_lookup_finds_orders_by_number_and_by_linked_call(hot: App) -> None:
    from routing.commands import IntakeCommand
    from routing.domain.enums import Channel
    from routing.domain.model import Actor

    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="话务员态度恶劣，挂我电话",
            citizen_phone="13800000000",
            call_id="1732240000.9",
            dispatch=False,
        ),
        Actor("8001", "agent"),
    )
    lookup = SqlOrderLookup(hot.session_factory)
    assert [o.number for o in lookup.linked([], "1732240000.9")] == [order.number]
    assert lookup.linked([], "1732240000") == []  # a prefix of another id is not a match
    assert [o.number for o in lookup.linked([order.number], None)] == [order.number]
    assert lookup.linked([order.number], None)[0].is_open
    assert [o.number for o in lookup.mentioning(["话务员"])] == [order.number]


def test_verify_finds_missing_altered_and_orphan_files(ctx: RecordingsContext, tmp_path: Path) -> None:
    write_mixmonitor_files(tmp_path, "v", seconds=1)
    rid = ingest(ctx, "v", tmp_path).recording_id
    assert verify(ctx).ok
    files = _files(ctx, rid)
    ctx.store.delete(files["caller"].storage_key)
    data = bytearray(read_all(ctx.store, files["agent"].storage_key))
    data[100] ^= 0xFF  # one flipped byte, same size
    ctx.store.put(files["agent"].storage_key, bytes(data))
    ctx.store.put("2026/01/01/stray/mixed.wav", b"stray")
    report = verify(ctx)
    assert sorted((p.kind, p.problem) for p in report.problems) == [
        ("agent", "altered"),
        ("caller", "missing"),
    ]
    assert report.orphans == ["2026/01/01/stray/mixed.wav"]
