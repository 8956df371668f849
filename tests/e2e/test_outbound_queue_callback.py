"""Callback-in-queue with the real Asterisk: a caller waiting in the consultation queue presses *, is hung up
with a confirmation, keeps their place through a placeholder in app_queue, and is called back (agent first,
then the citizen through the carrier trunk) when the queue's agent is free; a busy citizen is tried again.
sipp plays the caller, the auto-answering agent and the citizen's phone."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.bootstrap import App
from kernel.clock import FakeClock
from telephony.ari import AriClient, AriEndpoint
from telephony.config import DEFAULT_QUEUES, AgentAccount, QueueSpec
from telephony.orm import QueueCallbackRow
from telephony.outbound import DialPlan, OutboundAri
from telephony.queue_callback import QueueCallbackPolicy, QueueCallbacks, QueueCallbackStore
from telephony.switch import Switch
from telephony.testing import free_port, running_switch, why_no_asterisk
from tests.conftest import make_app
from tests.e2e.outbound_support import (
    answering_scenario,
    busy_scenario,
    callback_caller_scenario,
    caller,
    citizen,
    talking_scenario,
    waiting_caller_scenario,
)

pytestmark = [pytest.mark.asterisk, pytest.mark.slow, pytest.mark.timeout(90)]

MONDAY_1000 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Haikou
MONDAY_2230 = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # 22:30: no callbacks at night
TUESDAY_0800 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00: callbacks begin
CALLER = "13800000009"
# No wrap-up and no announcements: the test waits for nothing but the calls themselves.
QUEUES = tuple(QueueSpec(q.name, q.title, q.strategy, 10, 0, q.weight, 0) for q in DEFAULT_QUEUES)


@pytest.fixture
def app(sqlite_template: Path, tmp_path: Path) -> Iterator[App]:
    reason = why_no_asterisk(need=("sipp",))
    if reason:
        pytest.skip(reason)
    db = tmp_path / "hotline.sqlite3"
    shutil.copyfile(sqlite_template, db)
    hot = make_app(f"sqlite:///{db}", tmp_path, FakeClock(MONDAY_1000), seed=False, migrate=False)
    yield hot
    hot.close()


@dataclass
class Rig:
    switch: Switch
    callbacks: QueueCallbacks
    store: QueueCallbackStore
    clock: FakeClock
    work: Path

    def queue(self) -> str:
        return self.switch.rx("queue show consultation")

    def call(self, scenario: str, name: str) -> subprocess.Popen[bytes]:
        return caller(
            self.work, scenario, switch_port=self.switch.config.sip_port, service="12347", name=name
        )


@contextlib.asynccontextmanager
async def rig(app: App, work: Path, *, agent: list[str], citizen_calls: list[str]) -> AsyncIterator[Rig]:
    """The switch with one paused agent (sipp), the citizen's phone behind the carrier trunk (sipp), and the
    callback service on the outbound ARI application."""
    agent_port, citizen_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    account = AgentAccount(
        "agent1001", "pw-1001", "Li Lei", ("consultation",), contact=f"sip:agent1001@127.0.0.1:{agent_port}"
    )
    clock = app.clock
    assert isinstance(clock, FakeClock)
    with (
        running_switch([account], queues=QUEUES, unit_trunk=f"sip:127.0.0.1:{citizen_port}") as switch,
        citizen(work, agent, port=agent_port),
        citizen(work, citizen_calls, port=citizen_port),
    ):
        switch.rx("queue pause member PJSIP/agent1001")  # busy with someone else: callers wait
        cfg = switch.config
        ari = OutboundAri.connect(
            f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, f"{cfg.ari_app}-outbound"
        )
        store = QueueCallbackStore(app.write_session_factory)
        policy = QueueCallbackPolicy(retry_after=timedelta(0))
        callbacks = QueueCallbacks(ari, store, clock, plan=DialPlan(ring_seconds=10), policy=policy)
        await ari.start()
        stop = asyncio.Event()
        loop = asyncio.create_task(callbacks.run_forever(stop, poll_seconds=0.2))
        try:
            yield Rig(switch, callbacks, store, clock, work)
        finally:
            stop.set()
            await loop
            await ari.aclose()


async def until(check: object, what: str, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {within} s: {what}")


def request(store: QueueCallbackStore) -> QueueCallbackRow | None:
    rows = store.all()
    return rows[0] if rows else None


def state(store: QueueCallbackStore) -> str:
    row = request(store)
    return row.state if row else ""


async def test_caller_presses_star_and_is_called_back_when_the_agent_is_free(
    app: App, tmp_path: Path
) -> None:
    # The citizen is busy the first time: the agent is released, and the second call connects them.
    async with rig(
        app,
        tmp_path,
        agent=[answering_scenario([], tmp_path), answering_scenario([], tmp_path)],
        citizen_calls=[busy_scenario(), talking_scenario(1500)],
    ) as r:
        proc = r.call(callback_caller_scenario(CALLER, tmp_path), "caller")
        await until(lambda: state(r.store) == "placed", "the request is stored and its placeholder queued")
        assert await asyncio.to_thread(proc.wait, 10) == 0  # hung up by the switch after the confirmation
        waiting = r.queue()
        assert "consultation has 1 calls" in waiting and "hotline-callback-place" in waiting, waiting

        r.switch.rx("queue unpause member PJSIP/agent1001")
        await until(lambda: state(r.store) == "done", "the agent and the citizen are connected", within=30)
        await until(lambda: "No Callers" in r.queue() or "has 0 calls" in r.queue(), "the queue is empty")

    row = request(r.store)
    assert row is not None
    assert (row.phone, row.queue, row.position, row.priority) == (CALLER, "consultation", 1, 0)
    assert (row.state, row.agent, row.attempts, row.last_result) == ("done", "agent1001", 2, "connected")
    assert row.connected_at is not None


async def test_the_callback_keeps_the_callers_place_ahead_of_later_callers(app: App, tmp_path: Path) -> None:
    clock = app.clock
    assert isinstance(clock, FakeClock)
    clock.set(MONDAY_2230)  # at night the request is kept, not called back yet
    async with rig(
        app,
        tmp_path,
        agent=[answering_scenario([], tmp_path)],
        citizen_calls=[talking_scenario(1500)],
    ) as r:
        first = r.call(callback_caller_scenario(CALLER, tmp_path), "first")
        await until(lambda: state(r.store) == "waiting", "the request is stored")
        assert await asyncio.to_thread(first.wait, 10) == 0
        # A second caller joins after the first one asked for the callback.
        second = r.call(waiting_caller_scenario("13800000010", 25_000), "second")
        await until(lambda: "consultation has 1 calls" in r.queue(), "the second caller waits")

        clock.set(TUESDAY_0800)  # morning: the placeholder goes in at the first caller's position (1)
        await until(lambda: state(r.store) == "placed", "the placeholder is queued")
        await until(lambda: "consultation has 2 calls" in r.queue(), "two in the queue")
        lines = [ln for ln in r.queue().splitlines() if ln.strip().startswith(("1.", "2."))]
        assert "hotline-callback-place" in lines[0] and "hotline-callback-place" not in lines[1], lines

        r.switch.rx("queue unpause member PJSIP/agent1001")
        await until(lambda: state(r.store) == "done", "the callback goes first", within=30)
        assert "consultation has 1 calls" in r.queue()  # the later caller is still waiting
        second.terminate()
        await asyncio.to_thread(second.wait, 5)

    row = request(r.store)
    assert row is not None and (row.state, row.agent, row.attempts) == ("done", "agent1001", 1)


async def test_without_the_callback_service_the_caller_goes_back_to_waiting(tmp_path: Path) -> None:
    """The * key while nobody runs the outbound application: Stasis fails, the caller is queued again."""
    reason = why_no_asterisk(need=("sipp",))
    if reason:
        pytest.skip(reason)
    account = AgentAccount(
        "agent1001", "pw-1001", "Li Lei", ("consultation",), contact="sip:agent1001@127.0.0.1:9"
    )
    with running_switch([account], queues=QUEUES) as switch:
        switch.rx("queue pause member PJSIP/agent1001")
        cfg = switch.config
        watcher = AriClient(
            AriEndpoint(f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, cfg.ari_app)
        )
        joins: list[str] = []

        async def on_event(event: dict[str, object]) -> None:
            if event.get("type") == "ChannelUserevent" and event.get("eventname") == "HotlineQueueJoin":
                joins.append(str(event.get("timestamp")))

        events = asyncio.create_task(watcher.run_events(on_event))
        try:
            await asyncio.wait_for(watcher.connected.wait(), 10)
            proc = caller(
                tmp_path,
                callback_caller_scenario(CALLER, tmp_path, presses=3),
                switch_port=cfg.sip_port,
                service="12347",
                name="caller",
            )
            await until(lambda: len(joins) >= 2, "the caller joined the queue again after *")
            assert "consultation has 1 calls" in switch.rx("queue show consultation")
            proc.terminate()
            await asyncio.to_thread(proc.wait, 5)
        finally:
            events.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await events
            await watcher.aclose()
