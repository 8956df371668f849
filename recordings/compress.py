"""Long-term copies: the mixed WAV re-encoded to Opus (16 kbit/s speech) or GSM 06.10, with ffmpeg.

The originals stay until the retention job purges them after the configured number of days.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from recordings import audio
from recordings.context import RecordingsContext
from recordings.events import RecordingCompressed
from recordings.ingest import storage_key
from recordings.orm import Recording, RecordingFile
from recordings.storage import read_all

# codec -> (file extension, ffmpeg output arguments). GSM is written as WAV/GSM 06.10 ("gsm_ms"), which
# libsndfile reads back; Opus in Ogg, 16 kHz wideband speech at 16 kbit/s.
CODECS: dict[str, tuple[str, list[str]]] = {
    "opus": ("opus", ["-c:a", "libopus", "-b:a", "16k", "-application", "voip"]),
    "gsm": ("wav", ["-ar", "8000", "-ac", "1", "-c:a", "libgsm_ms"]),
}


class CompressionFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Compressed:
    recording_id: int
    codec: str
    original_bytes: int
    compressed_bytes: int


def encode(source: bytes, codec: str) -> bytes:
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; choose one of {sorted(CODECS)}")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise CompressionFailed("ffmpeg is not installed (apt-get install ffmpeg)")
    extension, arguments = CODECS[codec]
    with tempfile.TemporaryDirectory(prefix="hotline-compress-") as tmp:
        src, out = Path(tmp) / "in.wav", Path(tmp) / f"out.{extension}"
        src.write_bytes(source)
        done = subprocess.run(
            [
                ffmpeg,
                "-nostdin",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(src),
                *arguments,
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not out.is_file():
            raise CompressionFailed(f"ffmpeg failed ({done.returncode}): {done.stderr.strip()[:500]}")
        return out.read_bytes()


def compress_recording(ctx: RecordingsContext, recording_id: int, codec: str = "opus") -> Compressed | None:
    """Make the compressed copy of one recording; None when it has one already or no mixed original."""
    with ctx.session_factory() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise LookupError(f"no recording {recording_id}")
        files = {f.kind: f for f in recording.files if f.deleted_at is None}
        if "compressed" in files or "mixed" not in files:
            return None
        mixed_key, original_bytes = files["mixed"].storage_key, files["mixed"].size_bytes
        started_at, call_id = recording.started_at, recording.call_id
    encoded = encode(read_all(ctx.store, mixed_key), codec)
    info = audio.describe(encoded)
    key = storage_key(started_at, call_id, "compressed", CODECS[codec][0])
    size = ctx.store.put(key, encoded)
    with ctx.writer() as session, session.begin():
        recording = session.get(Recording, recording_id)
        assert recording is not None
        old = session.scalar(
            select(RecordingFile).where(
                RecordingFile.recording_id == recording_id, RecordingFile.kind == "compressed"
            )
        )
        if old is not None:  # a deleted copy from an earlier run: replace it
            session.delete(old)
            session.flush()
        session.add(
            RecordingFile(
                recording_id=recording_id,
                kind="compressed",
                storage_key=key,
                format=codec,
                sample_rate=info.sample_rate,
                channels=info.channels,
                duration_ms=info.duration_ms,
                size_bytes=size,
                sha256=hashlib.sha256(encoded).hexdigest(),
                created_at=ctx.clock.now(),
            )
        )
        if recording.retention_state == "active":
            recording.retention_state = "compressed"
    ctx.bus.publish(RecordingCompressed(recording_id, call_id, codec, size))
    return Compressed(recording_id, codec, original_bytes, size)


def pending_compression(ctx: RecordingsContext, *, started_after: datetime | None = None) -> list[int]:
    """Recordings without a compressed copy; with ``started_after``, only those younger than that (the
    retention job does not compress what it is about to delete)."""
    query = select(Recording.id).where(Recording.retention_state == "active").order_by(Recording.id)
    if started_after is not None:
        query = query.where(Recording.started_at > started_after)
    with ctx.session_factory() as session:
        return list(session.scalars(query))
