"""The switch's spool (names, unclosed WAV headers, waiting for MixMonitor), transcript links, heated words,
complaints about a call, and when the daily job runs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from recordings import audio, spool
from recordings.call_end_terms import transcript_summary
from recordings.jobs import next_run
from recordings.orders import OrderSummary, complaint_concerns
from recordings.sampling import heated_words
from recordings.testing import speech_like, wav_bytes, write_mixmonitor_files
from recordings.transcripts import Segment

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
UID = "test22170x305957-1795321291.0"  # a test instance's UNIQUEID holds a dash and a dot


def unclosed(data: bytes) -> bytes:
    """What Asterisk's WAV writer leaves while it writes: the sizes in the header still zero."""
    return data[:4] + b"\0\0\0\0" + data[8:40] + b"\0\0\0\0" + data[44:]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"{UID}.wav", (UID, "mixed")),
        (f"{UID}-caller.wav", (UID, "caller")),
        (f"{UID}-agent.wav", (UID, "agent")),
        ("1732240000.7-in.wav", ("1732240000.7", "caller")),
        ("1732240000.7-out.wav", ("1732240000.7", "agent")),
        (".part-x.wav", None),
        ("notes.txt", None),
    ],
)
def test_spool_names(name: str, expected: tuple[str, str] | None) -> None:
    assert spool.uniqueid_of(name) == expected


def test_files_of_reads_the_dialplan_names_and_the_older_ones(tmp_path: Path) -> None:
    new = write_mixmonitor_files(tmp_path / "new", UID, seconds=0.5)
    assert spool.files_of(tmp_path / "new", UID) == new
    assert {p.name for p in new.values()} == {f"{UID}.wav", f"{UID}-caller.wav", f"{UID}-agent.wav"}
    old = write_mixmonitor_files(tmp_path / "old", "1732240000.7", seconds=0.5, legacy_names=True)
    assert spool.files_of(tmp_path / "old", "1732240000.7") == old
    assert spool.calls_in_spool(tmp_path / "new").keys() == {UID}
    assert spool.calls_in_spool(tmp_path / "absent") == {}


def test_header_completeness_and_repair() -> None:
    data = wav_bytes(speech_like(1.0))
    assert spool.header_complete(data[:44], len(data)) is True
    assert spool.header_complete(unclosed(data)[:44], len(data)) is False
    assert spool.header_complete(data[:44], len(data) + 320) is False  # still growing past the header's sizes
    assert spool.header_complete(b"OggS" + bytes(40), 44) is None
    repaired = spool.repair_header(unclosed(data))
    assert repaired == data and audio.describe(repaired).duration_ms == 1000
    assert spool.repair_header(data) is data


def test_wait_settled_waits_for_the_writer_to_close_and_stop(tmp_path: Path) -> None:
    """A fake writer: each look finds more audio; on the fourth the header is written (closed)."""
    data = wav_bytes(speech_like(1.0))
    path = tmp_path / f"{UID}.wav"
    path.write_bytes(unclosed(data)[:1000])
    looks = {"n": 0}
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        clock["t"] += seconds
        looks["n"] += 1
        if looks["n"] < 3:
            path.write_bytes(unclosed(data)[: 1000 + 3000 * looks["n"]])
        elif looks["n"] == 3:
            path.write_bytes(data)

    settled = spool.wait_settled(
        tmp_path, UID, expect_files=True, sleep=sleep, monotonic=lambda: clock["t"], poll_s=0.2
    )
    assert settled.closed and settled.files == {"mixed": path}
    assert looks["n"] == 4  # closed on the 4th look, stable on the 5th
    assert settled.waited_ms == 800


def test_wait_settled_gives_up(tmp_path: Path) -> None:
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        clock["t"] += seconds

    nothing = spool.wait_settled(
        tmp_path, UID, expect_files=False, grace_s=1.0, sleep=sleep, monotonic=lambda: clock["t"]
    )
    assert (nothing.files, nothing.waited_ms) == ({}, 1000)
    missing = spool.wait_settled(
        tmp_path, UID, expect_files=True, timeout_s=3.0, sleep=sleep, monotonic=lambda: clock["t"]
    )
    assert (missing.files, missing.waited_ms) == ({}, 3000)
    (tmp_path / f"{UID}.wav").write_bytes(unclosed(wav_bytes(speech_like(0.2))))
    never_closed = spool.wait_settled(
        tmp_path, UID, expect_files=True, timeout_s=2.0, sleep=sleep, monotonic=lambda: clock["t"]
    )
    assert never_closed.files and not never_closed.closed and never_closed.waited_ms >= 2000


def test_transcript_summary() -> None:
    segments = [
        Segment("caller", 0, 2000, "喂"),
        Segment("agent", 2500, 4000, "您好"),
        Segment("caller", 24000, 25000, "在吗"),
    ]
    assert transcript_summary(segments, closed=True) == {
        "closed": True,
        "segments": {"agent": 1, "caller": 2},
        "speech_ms": {"agent": 1500, "caller": 3000},
        "longest_silence_ms": 20000,
        "longest_silence_at_ms": 4000,
    }


def test_heated_words_in_either_leg() -> None:
    segments = [
        Segment("caller", 0, 1000, "你们这个 什么 态度"),
        Segment("caller", 2000, 3000, "我要投诉你 你工号多少"),
        Segment("agent", 4000, 5000, "请您不要骂人"),
        Segment("caller", 6000, 7000, "屏幕滚动条坏了"),  # 滚 alone is not a quarrel
    ]
    assert heated_words(segments, ("什么态度", "投诉你", "骂人", "滚蛋")) == [
        {"leg": "caller", "at_ms": 0, "word": "什么态度"},
        {"leg": "caller", "at_ms": 2000, "word": "投诉你"},
        {"leg": "agent", "at_ms": 4000, "word": "骂人"},
    ]


def test_a_complaint_concerns_the_call_it_names_or_the_same_citizen_after_it() -> None:
    complaint = OrderSummary(
        "HK9", "accepted", "complaint", "", "", "话务员态度差", ("c-linked",), "13800000000", NOW
    )

    def concerns(call_id: str, number: str | None, started: datetime, numbers: tuple[str, ...] = ()) -> bool:
        return complaint_concerns(
            complaint, call_id=call_id, caller_number=number, started_at=started, order_numbers=numbers
        )

    assert concerns("c-linked", None, NOW - timedelta(days=300))
    assert concerns("c-x", None, NOW - timedelta(days=300), ("HK9",))
    assert concerns("c-x", "13800000000", NOW - timedelta(days=3))
    assert not concerns("c-x", "13800000000", NOW - timedelta(days=31))  # beyond the look-back
    assert not concerns("c-x", "13800000000", NOW + timedelta(days=1))  # called after complaining
    assert not concerns("c-x", "13900000000", NOW - timedelta(days=3))


def test_daily_job_time() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    early = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)  # 02:00 on the 23rd in Haikou
    day, when = next_run(early, time(3, 30), tz)
    assert (day.isoformat(), when.isoformat()) == ("2026-11-23", "2026-11-23T03:30:00+08:00")
    late = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00: today's run is due now (catch up)
    day, when = next_run(late, time(3, 30), tz)
    assert day.isoformat() == "2026-11-23" and when == late.astimezone(tz)
