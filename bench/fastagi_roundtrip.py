"""FastAGI command round trip under concurrent IVR sessions.

The IVR's FastAGI server runs in its own process (as it does beside Asterisk), with the shipped menus and a
fake work-order lookup. This process plays Asterisk for ``--sessions`` concurrent calls (asyncio), each call a
scripted walk through the menu (language, announcements, main menu, order query, routing). For every AGI
command it measures the turnaround: from the moment the fake Asterisk has written its answer to the previous
command until the next command line arrives, i.e. the time the IVR adds to each exchange.

    .venv/bin/python bench/fastagi_roundtrip.py --sessions 50 --calls 20
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import statistics
import time
from collections import deque
from datetime import UTC, date, datetime
from typing import Any

from ivr.fake_asterisk import DEAD_CHANNEL, AsteriskTranscript, agi_environment, answer

SCRIPTS: list[list[str | None]] = [
    ["1", "3"],  # Mandarin, urgent
    ["2", None, "7", "1"],  # English, a timeout and a wrong key, consultation
    ["1", "4", "202611230000123", "9", "2"],  # order query, back to the menu, complaint
    ["1", None, None, None],  # three timeouts: to an agent
]


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


def serve(port_out: multiprocessing.Queue[float], stop: Any, switch_s: float) -> None:
    import sys

    if switch_s:
        sys.setswitchinterval(switch_s)
    from ivr.fastagi import start_server
    from ivr.orders import FakeOrderLookup
    from ivr.service import IvrServices
    from kernel.clock import FakeClock

    services = IvrServices(
        calendar=Weekdays(),
        orders=FakeOrderLookup({"202611230000123": "in_progress"}),
        clock=FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
    )
    handle = start_server("127.0.0.1", 0, services=services)
    port_out.put(handle.port)
    started_cpu = time.process_time()
    stop.wait(600)
    port_out.put(time.process_time() - started_cpu)  # the server's CPU seconds, all its threads
    handle.stop()


async def one_call(
    port: int, keys: list[str | None], turnarounds: list[float], think_s: float = 0.0
) -> AsteriskTranscript:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    transcript = AsteriskTranscript()
    script: deque[str | None] = deque(keys)
    writer.write(("\n".join(agi_environment("agi://127.0.0.1:4573/ivr")) + "\n\n").encode())
    await writer.drain()
    sent_at = time.perf_counter()
    dead = False
    while True:
        raw = await asyncio.wait_for(reader.readline(), 10)
        if not raw:
            break
        turnarounds.append(time.perf_counter() - sent_at)
        command = raw.decode().strip()
        if dead:
            reply = DEAD_CHANNEL
        else:
            reply, dead = answer(command, script, transcript)
        if think_s:
            await asyncio.sleep(think_s)  # the prompt playing, the caller keying
        writer.write(f"{reply}\n".encode())
        await writer.drain()
        sent_at = time.perf_counter()
    writer.close()
    await writer.wait_closed()
    return transcript


async def run(
    port: int, sessions: int, calls: int, think_s: float = 0.0
) -> tuple[list[float], int, int, float]:
    turnarounds: list[float] = []
    routed = 0

    async def worker(i: int) -> None:
        nonlocal routed
        for n in range(calls):
            transcript = await one_call(port, SCRIPTS[(i + n) % len(SCRIPTS)], turnarounds, think_s)
            routed += "HOTLINE_ROUTE" in transcript.variables

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(sessions)))
    return turnarounds, routed, sessions * calls, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20, help="calls per concurrent session")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="delay before each answer (prompt playing); 0 saturates the server",
    )
    parser.add_argument(
        "--switch-interval-ms",
        type=float,
        default=0.0,
        help="the server's sys.setswitchinterval (default: Python's 5 ms)",
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue[float] = ctx.Queue()
    stop = ctx.Event()
    server = ctx.Process(target=serve, args=(ports, stop, args.switch_interval_ms / 1000), daemon=True)
    server.start()
    try:
        port = int(ports.get(timeout=60))
        asyncio.run(run(port, 4, 2))  # warm-up
        turnarounds, routed, total, elapsed = asyncio.run(
            run(port, args.sessions, args.calls, args.think_ms / 1000)
        )
    finally:
        stop.set()
        server_cpu_s = ports.get(timeout=30)
        server.join(10)
    ms = [t * 1000 for t in turnarounds]
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"think {args.think_ms:g} ms, server switch interval "
        f"{args.switch_interval_ms or 5:g} ms; {args.sessions} concurrent sessions, {total} calls "
        f"({routed} routed), {len(ms)} AGI commands in {elapsed:.2f} s ({len(ms) / elapsed:.0f} commands/s)"
    )
    print(
        f"server CPU per command: {server_cpu_s * 1000 / len(ms):.3f} ms "
        f"(~{len(ms) / server_cpu_s:.0f} commands/s per core; includes the warm-up calls)"
    )
    print(
        f"command turnaround ms: p50 {statistics.median(ms):.2f}  p90 {percentile(ms, 0.90):.2f}  "
        f"p99 {percentile(ms, 0.99):.2f}  max {max(ms):.2f}  (target p99 <= 10 ms)"
    )


if __name__ == "__main__":
    main()
