"""The web process loads no speech model: its memory before and after a call transcribed by a worker.

A fresh PostgreSQL database, `hotline run web` and `hotline run asr` (the real recognizer from settings)
as processes on the NATS broker; this process coordinates (as the telephony role does, with a fake ARI
tap), publishes the screen pop, plays a real Mandarin clip (16 kHz) on both legs for ``--seconds``, then
hangs up. Reported: the web process's RSS before and after, whether it mapped any speech library
(libvosk, CTranslate2, ONNX Runtime), the worker's RSS, and the transcript lines the web process's desk
picture received (`/metrics`' bus counter).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import uuid
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from asr.rtp import PACKET_BYTES, swap16
from bench.asr_workers import BROKER, Rig
from telephony.events import CallAnswered, CallEnded

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CLIP = ROOT.parent / "shared" / "audio" / "zh_aishell_BAC009S0724W0121.wav"
HOTLINE = [sys.executable, "-m", "hotline.cli"]
SPEECH_LIBS = ("libvosk", "ctranslate2", "onnxruntime", "faster_whisper")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def speech_libs(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({lib for lib in SPEECH_LIBS if lib in maps})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def started(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as handle:
        proc = subprocess.Popen(args, env=env, stdout=handle, stderr=handle, cwd=ROOT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def clip_frames() -> list[bytes]:
    with wave.open(str(CLIP)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = w.readframes(w.getnframes()) + bytes(32000)  # the clip, then a second of silence
    be = swap16(pcm) if sys.byteorder == "little" else pcm
    return [be[i : i + PACKET_BYTES] for i in range(0, len(be) - PACKET_BYTES + 1, PACKET_BYTES)]


async def web_rss(seconds: float = 20.0) -> None:
    name = f"hotline_asrw_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    tmp = Path(tempfile.mkdtemp(prefix="asrw-"))
    port = free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": ADMIN.rsplit("/", 1)[0] + f"/{name}",
        "HOTLINE_DATA_DIR": str(tmp / "var"),
        "HOTLINE_BROKER_URL": BROKER,
        "HOTLINE_ENVIRONMENT": "development",
        "HOTLINE_HTTP_PORT": str(port),
        "HOTLINE_ASR_WORKER_ID": f"rss-{os.getpid()}",
        "HF_HUB_OFFLINE": "1",
    }
    try:
        upgrade = [*HOTLINE, "db", "upgrade"]
        await asyncio.to_thread(subprocess.run, upgrade, env=env, check=True, capture_output=True, cwd=ROOT)
        with (
            started([*HOTLINE, "run", "web"], env, tmp / "web.log") as web,
            started([*HOTLINE, "run", "asr"], env, tmp / "asr.log") as worker,
        ):
            async with httpx.AsyncClient() as client:
                for _ in range(300):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"http://127.0.0.1:{port}/")).status_code < 500:
                            break
                    await asyncio.sleep(0.2)
            rig = Rig(("caller", "agent"))
            rig.clip = clip_frames()
            await rig.start()
            await rig.wait_workers({env["HOTLINE_ASR_WORKER_ID"]})
            await asyncio.sleep(2.0)
            before = rss_mb(web.pid)
            call_id = f"rss-{os.getpid()}"
            now = datetime.now(UTC)
            rig.bus.publish(CallAnswered(call_id, "13800138000", "agent01", "urgent", (), (), (), now))
            await rig.open_calls(1, "rss")  # the coordinator names it rss-0
            await rig.play(seconds)
            rig.bus.publish(CallEnded("rss-0", "13800138000", "answered", "agent01", datetime.now(UTC)))
            await rig.end_calls()
            await asyncio.sleep(2.0)
            after = rss_mb(web.pid)
            segments = sum(len(c.finals) for c in rig.calls.values())
            print(f"web process RSS: {before:.0f} MB before the call, {after:.0f} MB after ({seconds:.0f} s)")
            print(f"speech libraries mapped in the web process: {speech_libs(web.pid) or 'none'}")
            print(f"worker RSS: {rss_mb(worker.pid):.0f} MB, speech libraries: {speech_libs(worker.pid)}")
            print(f"caller finals from the worker: {segments}")
            await rig.close()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print(f"logs in {tmp}")


if __name__ == "__main__":
    asyncio.run(web_rss())
