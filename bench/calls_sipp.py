"""Load: concurrent SIP calls (sipp) -> urgent queue -> auto-answering agents (sipp UAS), all recorded.

Prints calls placed, successful, failed, peak concurrent calls (Asterisk's ``core show channels``), calls/s
and the recordings written. Needs root (the Asterisk chroot), sipp and sox.

    .venv/bin/python bench/calls_sipp.py --calls 300 --rate 20 --talk-ms 6000 --agents 130

``--ivr``: every call dials 12345 and goes through the real FastAGI IVR (this process serves it, threaded,
as ``hotline ivr serve`` does) with the generated prompts: it presses 2 (English) and 3 (urgent) as SIP INFO,
each a little after its menu prompt starts (timed from the prompt files), and the report counts how many
reached the urgent queue (Asterisk's queue_log).
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
from datetime import UTC, date, datetime
from pathlib import Path

from ivr.fastagi import FastAgiHandle, start_server
from ivr.orders import FakeOrderLookup
from ivr.service import IvrServices
from kernel.clock import FakeClock
from telephony import sipp
from telephony.config import DEFAULT_QUEUES, AgentAccount, QueueSpec
from telephony.testing import cached_ivr_sounds, free_port, running_switch, why_no_asterisk

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def start_ivr() -> FastAgiHandle:
    """The real IVR (menus, engine, pyst2 over FastAGI) with a day-time clock and no work orders."""

    class Weekdays:
        def is_workday(self, day: date) -> bool:
            return day.weekday() < 5

    services = IvrServices(
        calendar=Weekdays(),
        orders=FakeOrderLookup({}),
        clock=FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),  # a Monday, 10:00 in Haikou
    )
    return start_server("127.0.0.1", 0, services=services)


def _seconds(wav: Path) -> float:
    with wave.open(str(wav)) as w:
        return float(w.getnframes()) / float(w.getframerate())


def ivr_keys(sounds: Path) -> list[tuple[int, str]]:
    """2 (English) one second into the language prompt; 3 (urgent) one second into the main menu."""
    first = _seconds(sounds / "zh" / "welcome.wav") + 1.0
    second = _seconds(sounds / "en" / "recording_notice.wav") + 1.0
    return [(int(first * 1000), "2"), (int(second * 1000), "3")]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--talk-ms", type=int, default=6000)
    parser.add_argument("--agents", type=int, default=130)
    parser.add_argument("--ivr", action="store_true", help="through 12345 and the FastAGI IVR")
    args = parser.parse_args()
    reason = why_no_asterisk()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    clips = sorted(AUDIO.glob("*.wav"))
    work = Path(tempfile.mkdtemp(prefix="calls-bench-"))
    caller_audio = sipp.to_ulaw(clips[0], work / "caller.ulaw")
    agent_audio = sipp.to_ulaw(clips[1], work / "agent.ulaw")
    agent_port = free_port(socket.SOCK_DGRAM)
    # Every agent account points at the same sipp UAS; ringinuse=no gives each concurrent call its own agent.
    agents = [
        AgentAccount(
            f"agent{2000 + i}",
            f"pw{i}",
            f"Agent {i}",
            ("urgent",),
            contact=f"sip:agent{2000 + i}@127.0.0.1:{agent_port}",
        )
        for i in range(args.agents)
    ]
    queues = tuple(QueueSpec(q.name, q.title, q.strategy, 10, 0, q.weight, 300) for q in DEFAULT_QUEUES)
    peak = 0
    ivr = start_ivr() if args.ivr else None
    sounds = cached_ivr_sounds() if args.ivr else None
    with running_switch(
        agents,
        queues=queues,
        rtp_start=40000,
        rtp_end=49999,
        fastagi_port=ivr.port if ivr else 4573,
        sounds=sounds,
    ) as switch:
        agent_sc = sipp.write_agent(work, agent_audio, ring_ms=200)
        uas = subprocess.Popen(
            sipp.agent_command(agent_sc, local_port=agent_port, media_port=free_port(socket.SOCK_DGRAM)),
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stop = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not stop.is_set():
                out = switch.rx("core show channels count", check=False)
                match = re.search(r"(\d+) active call", out)
                if match:
                    peak = max(peak, int(match.group(1)))
                time.sleep(0.5)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        numbers = [f"139{i:08d}" for i in range(args.calls)]
        if sounds is not None:
            scenario, inf = sipp.write_ivr_caller(
                work, caller_audio, keys=ivr_keys(sounds), talk_ms=args.talk_ms, numbers=numbers
            )
        else:
            scenario, inf = sipp.write_caller(work, caller_audio, talk_ms=args.talk_ms, numbers=numbers)
        stats = work / "caller-stats.csv"
        started = time.monotonic()
        subprocess.run(
            sipp.caller_command(
                scenario,
                inf,
                target=f"127.0.0.1:{switch.config.sip_port}",
                service="12345" if args.ivr else "12346",
                local_port=free_port(socket.SOCK_DGRAM),
                calls=args.calls,
                rate=args.rate,
                limit=args.agents,
                media_port=free_port(socket.SOCK_DGRAM),
                stats=stats,
                timeout_s=600,
            ),
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        elapsed = time.monotonic() - started
        stop.set()
        watcher.join()
        uas.terminate()
        uas.wait(5)
        recordings = list(switch.host_path(switch.config.monitor_dir).glob("*.wav"))
        completed = switch.rx("queue show urgent").split(" C:")[1].split(",")[0]
        queue_log = (switch.host_path(switch.config.dirs.log) / "queue_log").read_text()
    if ivr is not None:
        ivr.stop()
    result = sipp.SippStats.from_csv(stats)
    if args.ivr:
        entered = sum(1 for line in queue_log.splitlines() if "|urgent|NONE|ENTERQUEUE|" in line)
        print(f"through the IVR   {entered} of {result.created} reached the urgent queue (queue_log)")
    print(f"calls placed      {result.created}")
    print(f"successful        {result.successful}")
    print(f"failed            {result.failed}")
    print(f"queue completed   {completed} (Asterisk: urgent queue C:)")
    print(f"peak concurrent   {peak} calls (core show channels)")
    print(f"elapsed           {elapsed:.1f} s, offered rate {args.rate}/s, talk {args.talk_ms} ms")
    print(f"throughput        {result.successful / elapsed:.1f} completed calls/s")
    print(f"recording files   {len(recordings)} ({len(recordings) // 3} calls x mixed+caller+agent)")
    return 0 if result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
