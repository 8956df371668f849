"""Load: concurrent SIP calls (sipp) -> urgent queue -> auto-answering agents (sipp UAS), all recorded.

Prints calls placed, successful, failed, peak concurrent calls (Asterisk's ``core show channels``), calls/s
and the recordings written. Needs root (the Asterisk chroot), sipp and sox.

    .venv/bin/python bench/calls_sipp.py --calls 300 --rate 20 --talk-ms 6000 --agents 130
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
from pathlib import Path

from telephony import sipp
from telephony.config import DEFAULT_QUEUES, AgentAccount, QueueSpec
from telephony.testing import free_port, running_switch, why_no_asterisk

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--talk-ms", type=int, default=6000)
    parser.add_argument("--agents", type=int, default=130)
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
    with running_switch(agents, queues=queues, rtp_start=40000, rtp_end=49999) as switch:
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
        scenario, inf = sipp.write_caller(work, caller_audio, talk_ms=args.talk_ms, numbers=numbers)
        stats = work / "caller-stats.csv"
        started = time.monotonic()
        subprocess.run(
            sipp.caller_command(
                scenario,
                inf,
                target=f"127.0.0.1:{switch.config.sip_port}",
                service="12346",
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
    result = sipp.SippStats.from_csv(stats)
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
