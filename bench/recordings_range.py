"""Recordings benchmarks: HTTP range requests on a local file (latency p50/p99, throughput) through the
real API stack (FastAPI TestClient, in process), ingest + compress time per call-minute, and the call-end
ingest path (recordings/wiring.py: telephony's call record read, spool wait, store, row, spool cleanup)
for a batch of calls.

Run: .venv/bin/python bench/recordings_range.py [--minutes 5] [--requests 500] [--calls 20]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hotline.bootstrap import bootstrap
from hotline.migrate import upgrade
from kernel.bus import EventBus
from kernel.settings import Settings
from recordings import api
from recordings.access import Listener
from recordings.call_end import CallEndIngestor
from recordings.call_end_terms import IngestRules
from recordings.calls import SqlCallLookup
from recordings.compress import compress_recording
from recordings.ingest import ingest
from recordings.storage import LocalStore
from recordings.testing import write_mixmonitor_files
from recordings.transcripts import SqlTranscriptSource


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the test call")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=64 * 1024, help="bytes per range request")
    parser.add_argument("--calls", type=int, default=20, help="calls through the call-end ingest path")
    parser.add_argument("--call-seconds", type=float, default=120.0, help="length of each of those calls")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        settings = Settings(
            environment="test",
            secret_key="bench",
            data_dir=tmp / "var",
            database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
        )
        settings.data_dir.mkdir(parents=True)
        hot = bootstrap(settings, bus=EventBus())
        upgrade(hot.engine)
        ctx = hot.recordings.use_store(LocalStore(settings.resolved_recordings_dir))
        write_mixmonitor_files(tmp / "mon", "bench", seconds=args.minutes * 60)

        t0 = time.perf_counter()
        rid = ingest(ctx, "bench", tmp / "mon", agent="8001").recording_id
        t_ingest = time.perf_counter() - t0
        t0 = time.perf_counter()
        done = compress_recording(ctx, rid, "opus")
        t_compress = time.perf_counter() - t0
        assert done is not None

        hot.recordings.listener = lambda _request: Listener("bench", "qa")
        web = FastAPI()
        web.state.hot = hot
        api.install(web, hot.recordings)
        client = TestClient(web)
        size = int(client.head(f"/api/recordings/{rid}/audio").headers["content-length"])
        rng = random.Random(1)
        latencies = []
        started = time.perf_counter()
        for _ in range(args.requests):
            start = rng.randrange(0, max(1, size - args.chunk))
            t0 = time.perf_counter()
            response = client.get(
                f"/api/recordings/{rid}/audio", headers={"Range": f"bytes={start}-{start + args.chunk - 1}"}
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 206
        elapsed = time.perf_counter() - started

        spool = tmp / "spool"
        ingestor = CallEndIngestor(
            ctx,
            spool,
            calls=SqlCallLookup(hot.session_factory),
            transcripts=SqlTranscriptSource(hot.session_factory),
            rules=IngestRules(poll_s=0.05),
        )
        outcomes = []
        t0 = time.perf_counter()
        for i in range(args.calls):
            write_mixmonitor_files(spool, f"1795400000.{i}", seconds=args.call_seconds)
            outcomes.append(ingestor.ingest_call(f"1795400000.{i}", trigger="cli"))
        t_calls = time.perf_counter() - t0
        ingestor.close()
        assert all(o.outcome == "stored" for o in outcomes), outcomes
        hot.close()

    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}, SQLite, LocalStore"
    )
    print(f"call: {args.minutes:g} min mono 8 kHz ×3 files (mixed {size} bytes)")
    print(f"ingest: {t_ingest:.3f} s total, {t_ingest / args.minutes * 1000:.1f} ms per call-minute")
    print(
        f"opus compress: {t_compress:.3f} s total, {t_compress / args.minutes * 1000:.1f} ms per call-minute, "
        f"{done.original_bytes} → {done.compressed_bytes} bytes ({done.original_bytes / done.compressed_bytes:.1f}×)"
    )
    ingest_ms = [o.ingest_ms for o in outcomes]
    print(
        f"call-end ingest, {args.calls} calls of {args.call_seconds:g} s (3 files each, {outcomes[0].size_bytes} B): "
        f"store+row p50 {statistics.median(ingest_ms):.0f} ms, max {max(ingest_ms)} ms; spool wait "
        f"{statistics.median(o.wait_ms for o in outcomes):.0f} ms (two looks {0.05:g} s apart); "
        f"{t_calls / args.calls * 1000:.0f} ms per call including writing the test files"
    )
    print(
        f"range GET {args.chunk} B ×{args.requests} (each audited): p50 {statistics.median(latencies):.2f} ms, "
        f"p99 {percentile(latencies, 0.99):.2f} ms, {args.requests / elapsed:.0f} req/s, "
        f"{args.requests * args.chunk / elapsed / 1e6:.1f} MB/s"
    )


if __name__ == "__main__":
    main()
