"""One system, many processes: events reach every desk, and nothing is lost when a process is killed.

On a fresh PostgreSQL database with the NATS broker, this starts two web processes, two SLA schedulers and,
where a throw-away Asterisk can run, two telephony followers (one active, one standby), each its own
`hotline run ROLE` process. Then:

1. fan-out: N desks (supervisor wallboard streams, server-sent events) spread over the two web processes;
   work orders are filed through each web process in turn, and the time from the request to the event on
   every desk is measured (p50/p99 over all desks and events);
2. failover, under intake load (a client that, like a load balancer, sends each request to a live web
   process): `kill -9` of one web process (its desks reconnect to the other: time until all are back),
   of one scheduler (the other keeps firing), of the active telephony follower (time until the standby
   holds the lease and follows the switch). Afterwards: every acknowledged order is in the database, and
   every deadline that came due fired exactly once (the SLA policy here gives a 1-minute response clock,
   so deadlines fire during the run).

    .venv/bin/python bench/scale_out.py [--desks 1000] [--events 20] [--load-seconds 90]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BROKER = os.environ.get("HOTLINE_TEST_BROKER_URL", "nats://127.0.0.1:4222")
HOTLINE = [sys.executable, "-m", "hotline.cli"]
POLICY = """
default: {response_minutes: 1, resolution_working_days: 5, reopen_response_minutes: 1, reopen_resolution_working_days: 3}
urgent: {response_minutes: 1, resolution_working_days: 1}
escalation: {unit_head_minutes: 0, district_or_bureau_head_minutes: 1, supervision_order_minutes: 2}
supervision: {acknowledge_minutes: 30, resolution_working_days: 3}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(self.args, env=self.env, stdout=handle, stderr=handle, cwd=ROOT)

    def kill9(self) -> float:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        at = time.time()
        self.popen.wait(10)
        return at

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wait_log(path: Path, pattern: str, after: float = 0.0, timeout: float = 60) -> float:
    """The time (log timestamp, epoch seconds) of the first line matching ``pattern`` logged after ``after``."""
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        for line in path.read_text(errors="replace").splitlines():
            if rx.search(line):
                stamp = line[:23]
                with contextlib.suppress(ValueError):
                    at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()
                    if at >= after:
                        return at
        time.sleep(0.05)
    raise RuntimeError(f"{path.name}: no line matching {pattern!r}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---- desks ------------------------------------------------------------------------------------------------
@dataclass
class Desk:
    base: str
    arrivals: list[float] = field(default_factory=list)  # when each event arrived
    connected_at: float = 0.0
    reconnects: int = 0


async def follow(desk: Desk, client: httpx.AsyncClient, bases: list[str], stop: asyncio.Event) -> None:
    """A wallboard: reads the stream, reconnecting to the next live web process when one dies."""
    index = bases.index(desk.base)
    while not stop.is_set():
        base = bases[index % len(bases)]
        try:
            async with client.stream("GET", f"{base}/supervisor/wallboard/stream", timeout=None) as r:
                if r.status_code != 200:
                    raise httpx.HTTPError(f"status {r.status_code}")
                desk.base = base
                desk.connected_at = time.time()
                async for line in r.aiter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event:"):
                        desk.arrivals.append(time.time())
        except (httpx.HTTPError, OSError):
            pass
        if stop.is_set():
            return
        desk.reconnects += 1
        index += 1
        await asyncio.sleep(0.2)


async def login(client: httpx.AsyncClient, base: str) -> None:
    page = await client.get(f"{base}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = await client.post(
        f"{base}/login",
        data={"username": "leader1", "password": "hotline-demo-12345", "csrf_token": token.group(1)},
    )
    assert r.status_code in (200, 303), r.status_code


# ---- the run ----------------------------------------------------------------------------------------------
async def fan_out(bases: list[str], api_key: str, desks_n: int, events: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=desks_n + 50, max_keepalive_connections=desks_n + 50)
    async with httpx.AsyncClient(limits=limits, follow_redirects=False) as client:
        await login(client, bases[0])
        desks = [Desk(bases[i % len(bases)]) for i in range(desks_n)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(follow(d, client, bases, stop)) for d in desks]
        for _ in range(600):
            if all(d.connected_at for d in desks):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        for d in desks:
            d.arrivals.clear()
        latencies: list[float] = []
        missing = 0
        async with httpx.AsyncClient(headers={"X-API-Key": api_key}) as api:
            for i in range(events):
                base = bases[i % len(bases)]
                before = {id(d): len(d.arrivals) for d in desks}
                sent = time.time()
                r = await api.post(
                    f"{base}/api/work-orders",
                    json={
                        "channel": "web",
                        "description": f"路灯不亮 扇出 {i}",
                        "citizen_phone": "13800138000",
                    },
                )
                assert r.status_code in (200, 201), r.text
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and any(len(d.arrivals) <= before[id(d)] for d in desks):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                for d in desks:
                    got = d.arrivals[before[id(d)] :]
                    if got:
                        latencies.append(got[0] - sent)
                    else:
                        missing += 1
                await asyncio.sleep(0.3)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "deliveries": len(latencies),
        "missing": missing,
        "p50_ms": pct(latencies, 0.5) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
    }


@dataclass
class Load:
    acknowledged: set[str] = field(default_factory=set)
    errors: int = 0
    sent: int = 0


async def intake_load(bases: list[str], api_key: str, stop: asyncio.Event, load: Load, rate: float) -> None:
    """~``rate`` intakes a second, each retried on the other web process when one fails (a load balancer);
    an order counts as acknowledged only when a web process answered 200/201 with its number."""
    async with httpx.AsyncClient(headers={"X-API-Key": api_key}, timeout=10) as api:
        i = 0
        while not stop.is_set():
            ref = uuid.uuid4().hex[:16]
            body = {
                "channel": "web",
                "description": f"小区路灯不亮 负载 {i}",
                "citizen_phone": "13800138000",
                "external_ref": ref,
            }
            load.sent += 1
            for attempt in range(4):
                base = bases[(i + attempt) % len(bases)]
                try:
                    r = await api.post(f"{base}/api/work-orders", json=body)
                except httpx.HTTPError:
                    load.errors += 1
                    continue
                if r.status_code in (200, 201):
                    load.acknowledged.add(r.json()["number"])
                    break
                load.errors += 1
            i += 1
            await asyncio.sleep(1 / rate)


async def desks_back(bases: list[str], killed: str, desks_n: int, killed_at: float) -> list[float]:
    """Desks that were on the killed web process: seconds until all of them stream from the other again."""
    limits = httpx.Limits(max_connections=desks_n + 50, max_keepalive_connections=desks_n + 50)
    async with httpx.AsyncClient(limits=limits) as client:
        await login(client, bases[1] if bases[0] == killed else bases[0])
        desks = [Desk(killed) for _ in range(desks_n)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(follow(d, client, bases, stop)) for d in desks]
        for _ in range(600):
            if all(d.connected_at > killed_at and d.base != killed for d in desks):
                break
            await asyncio.sleep(0.05)
        back = sorted(d.connected_at - killed_at for d in desks)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return back


def run(args: argparse.Namespace) -> None:
    name = f"hotline_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="scale-"))
    policy = tmp / "sla.yaml"
    policy.write_text(POLICY)
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_DATA_DIR": str(tmp / "var"),
        "HOTLINE_BROKER_URL": BROKER,
        "HOTLINE_BROKER_NAMESPACE": f"bench{os.getpid()}",  # its own subjects on the shared server
        "HOTLINE_SLA_POLICY_FILE": str(policy),
        "HOTLINE_ASR_ENABLED": "false",
        "HOTLINE_ENVIRONMENT": "development",
    }
    procs: list[Proc] = []
    switch_cm = None
    try:
        subprocess.run([*HOTLINE, "seed"], env=env, check=True, capture_output=True, cwd=ROOT)
        subprocess.run(
            [*HOTLINE, "users", "demo", "--fixed"], env=env, check=True, capture_output=True, cwd=ROOT
        )
        key = (
            subprocess.run(
                [*HOTLINE, "apikeys", "create", "scale", "--role", "integration"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        ports = [free_port(), free_port()]
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for i, port in enumerate(ports):
            procs.append(
                Proc(
                    f"web{i + 1}",
                    [*HOTLINE, "run", "web"],
                    {**env, "HOTLINE_HTTP_PORT": str(port)},
                    tmp / f"web{i + 1}.log",
                )
            )
        for i in range(2):
            procs.append(
                Proc(f"scheduler{i + 1}", [*HOTLINE, "run", "scheduler"], env, tmp / f"scheduler{i + 1}.log")
            )
        telephony_env = None
        with contextlib.suppress(Exception):
            from telephony.testing import running_switch, why_no_asterisk

            if why_no_asterisk() is None:
                switch_cm = running_switch()
                switch = switch_cm.__enter__()
                cfg = switch.config
                telephony_env = {
                    **env,
                    "HOTLINE_TELEPHONY_ENABLED": "true",
                    "HOTLINE_ARI_URL": f"http://127.0.0.1:{cfg.http_port}",
                    "HOTLINE_ARI_USER": cfg.ari_user,
                    "HOTLINE_ARI_PASSWORD": cfg.ari_password,
                    "HOTLINE_ARI_APP": cfg.ari_app,
                }
        if telephony_env is not None:
            for i in range(2):
                procs.append(
                    Proc(
                        f"telephony{i + 1}",
                        [*HOTLINE, "run", "telephony"],
                        telephony_env,
                        tmp / f"telephony{i + 1}.log",
                    )
                )
        by_name = {p.name: p for p in procs}
        for p in procs:
            p.start()
            if p.name == "telephony1":
                wait_log(p.log, r"lease telephony acquired")
        for base in bases:
            wait_http(f"{base}/login")
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.2f}"
        )
        print(
            f"processes: {', '.join(p.name for p in procs)} (+ PostgreSQL, NATS"
            f"{', Asterisk' if telephony_env else ''})"
        )

        fan = asyncio.run(fan_out(bases, key, args.desks, args.events))
        print(
            f"fan-out: {args.desks} desks over 2 web processes, {args.events} events: "
            f"{fan['deliveries']:.0f} deliveries, {fan['missing']:.0f} missing, "
            f"p50 {fan['p50_ms']:.0f} ms, p99 {fan['p99_ms']:.0f} ms, max {fan['max_ms']:.0f} ms"
        )

        async def failover() -> dict[str, float]:
            stop = asyncio.Event()
            load = Load()
            loader = asyncio.create_task(intake_load(bases, key, stop, load, args.rate))
            out: dict[str, float] = {}
            await asyncio.sleep(args.load_seconds / 4)
            killed_at = await asyncio.to_thread(by_name["web1"].kill9)
            back = await desks_back(bases, bases[0], args.desks // 2, killed_at)
            out["desks_back_p50_s"], out["desks_back_p95_s"] = pct(back, 0.5), pct(back, 0.95)
            out["desks_back_s"] = back[-1]
            await asyncio.to_thread(by_name["web1"].start)
            await asyncio.to_thread(wait_http, f"{bases[0]}/login")
            await asyncio.sleep(args.load_seconds / 4)
            await asyncio.to_thread(by_name["scheduler1"].kill9)
            if "telephony1" in by_name:
                await asyncio.sleep(args.load_seconds / 8)
                killed_at = await asyncio.to_thread(by_name["telephony1"].kill9)
                took = await asyncio.to_thread(
                    wait_log,
                    by_name["telephony2"].log,
                    r"lease telephony acquired \(took over\)",
                    killed_at - 1,
                )
                followed = await asyncio.to_thread(
                    wait_log,
                    by_name["telephony2"].log,
                    r"ARI (events )?connected|connected to ARI",
                    killed_at - 1,
                    30,
                )
                out["standby_lease_s"] = took - killed_at
                out["standby_following_s"] = followed - killed_at
            await asyncio.sleep(args.load_seconds / 4)
            stop.set()
            await loader
            out["sent"] = load.sent
            out["acknowledged"] = len(load.acknowledged)
            out["errors"] = load.errors
            engine = create_engine(url)
            with engine.connect() as c:
                stored = {r[0] for r in c.execute(text("SELECT number FROM work_orders"))}
            engine.dispose()
            out["lost"] = len(load.acknowledged - stored)
            return out

        # let the deadlines of the orders filed so far come due while the load runs
        result = asyncio.run(failover())
        time.sleep(
            75
        )  # the last orders' 1-minute response deadlines come due; the surviving scheduler fires them
        engine = create_engine(url)
        with engine.connect() as c:
            due = c.execute(
                text(
                    "SELECT count(*) FROM order_deadlines WHERE due_at < now() - interval '10 seconds' "
                    "AND cancelled_at IS NULL"
                )
            ).scalar_one()
            missed = c.execute(
                text(
                    "SELECT count(*) FROM order_deadlines WHERE due_at < now() - interval '10 seconds' "
                    "AND cancelled_at IS NULL AND fired_at IS NULL"
                )
            ).scalar_one()
            doubled = c.execute(
                text(
                    "SELECT count(*) FROM (SELECT order_id, kind, level, unit_code, count(*) n FROM order_alarms "
                    "WHERE addressed_to <> 'hotline' GROUP BY order_id, kind, level, unit_code HAVING count(*) > 1) x"
                )
            ).scalar_one()
        engine.dispose()
        print(
            f"failover under {args.rate:.0f} intakes/s for {args.load_seconds} s: sent {result['sent']:.0f}, "
            f"acknowledged {result['acknowledged']:.0f}, lost {result['lost']:.0f}, "
            f"failed attempts (retried) {result['errors']:.0f}"
        )
        print(
            f"  web1 kill -9: its {args.desks // 2} desks streaming from web2 again after "
            f"p50 {result['desks_back_p50_s']:.2f} s, p95 {result['desks_back_p95_s']:.2f} s, "
            f"all {result['desks_back_s']:.2f} s"
        )
        print(f"  scheduler1 kill -9: deadlines due {due}, missed {missed}, doubled {doubled}")
        if "standby_lease_s" in result:
            print(
                f"  telephony1 kill -9: standby holds the lease after {result['standby_lease_s']:.2f} s, "
                f"follows the switch after {result['standby_following_s']:.2f} s"
            )
        else:
            print(
                "  telephony: no Asterisk here (needs root and the chroot); the follower failover was not run"
            )
    finally:
        for p in procs:
            p.stop()
        if switch_cm is not None:
            with contextlib.suppress(Exception):
                switch_cm.__exit__(None, None, None)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print(f"logs: {tmp}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--desks", type=int, default=1000)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--load-seconds", type=int, default=80)
    ap.add_argument("--rate", type=float, default=20.0)
    run(ap.parse_args())


if __name__ == "__main__":
    main()
