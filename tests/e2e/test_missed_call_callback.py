"""Missed-call callback (漏接电话回拨) on the real switch: a citizen hangs up while waiting in the queue; the call
recorder owes them a callback; when the agent is free the callback service rings the agent, then the citizen's
phone through the carrier trunk (sipp UAS), and the outcome and the attempt are stored; the supervisors' report
counts the missed call as called back in time."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from kernel.calling_hours import CallingHours
from kernel.clock import SystemClock
from telephony.callback_report import CallbackReports
from telephony.callback_store import QueueCallbackStore
from telephony.config import AgentAccount
from telephony.missed_calls import QueueCallbackPolicy
from telephony.orm import CallRow, QueueCallbackRow
from telephony.outbound import DialPlan, OutboundAri
from telephony.queue_callback import QueueCallbacks
from telephony.records import CallRecorder
from telephony.testing import free_port, running_switch, why_no_asterisk
from tests.e2e.outbound_support import (
    answering_scenario,
    caller,
    citizen,
    talking_scenario,
    waiting_caller_scenario,
)
from tests.e2e.telephony_support import NO_WRAPUP, queue_shows, recorder_running, until

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.slow,
    pytest.mark.timeout(120),
    pytest.mark.parametrize("seeded_db_url", ["sqlite"], indirect=True),
]

CITIZEN = "13800000031"
# Calls at any hour of any day: the test runs whenever the machine's clock says (the windows themselves are
# tested in tests/unit/telephony/test_missed_calls.py).
ALWAYS = QueueCallbackPolicy(hours=CallingHours(((time(0), time.max),)), retry_after=timedelta(0))


def requests(hot: App) -> list[QueueCallbackRow]:
    with hot.session_factory() as session:
        return list(session.scalars(select(QueueCallbackRow).order_by(QueueCallbackRow.id)))


async def test_a_citizen_who_hung_up_in_the_queue_is_called_back(hot: App, tmp_path: Path) -> None:
    reason = why_no_asterisk(need=("sipp",))
    if reason:
        pytest.skip(reason)
    agent_port, citizen_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    account = AgentAccount(
        "agent1001", "pw-1001", "Li Lei", ("consultation",), contact=f"sip:agent1001@127.0.0.1:{agent_port}"
    )
    store = QueueCallbackStore(hot.write_session_factory)
    with (
        running_switch([account], queues=NO_WRAPUP, unit_trunk=f"sip:127.0.0.1:{citizen_port}") as switch,
        citizen(tmp_path, [answering_scenario([], tmp_path)], port=agent_port),
        citizen(tmp_path, [talking_scenario(1500)], port=citizen_port),
    ):
        switch.rx("queue pause member PJSIP/agent1001")  # busy with someone else: the citizen waits
        cfg = switch.config
        ari = OutboundAri.connect(
            f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, f"{cfg.ari_app}-outbound"
        )
        callbacks = QueueCallbacks(ari, store, SystemClock(), plan=DialPlan(ring_seconds=10), policy=ALWAYS)
        recorder = CallRecorder(hot.session_factory, hot.bus, callbacks=ALWAYS)
        await ari.start()
        stop = asyncio.Event()
        loop = asyncio.create_task(callbacks.run_forever(stop, poll_seconds=0.2))
        try:
            async with recorder_running(switch, hot, recorder=recorder):
                proc = caller(tmp_path, waiting_caller_scenario(CITIZEN, 2500), switch_port=cfg.sip_port,
                              service="12347", name="caller")  # fmt: skip
                await queue_shows(switch, "consultation has 1 calls")
                assert await asyncio.to_thread(proc.wait, 20) == 0  # the citizen gave up and hung up

                await until(
                    lambda: [r.state for r in requests(hot)] == ["placed"], what="the callback is queued"
                )
                waiting = await queue_shows(switch, "consultation has 1 calls")
                assert "hotline-callback-place" in waiting, waiting

                switch.rx("queue unpause member PJSIP/agent1001")
                await until(
                    lambda: [r.state for r in requests(hot)] == ["done"],
                    within=40,
                    what="agent and citizen talk",
                )
        finally:
            stop.set()
            await loop
            await ari.aclose()

    [request] = requests(hot)
    with hot.session_factory() as session:
        call = session.scalars(select(CallRow)).one()
    assert (call.caller_number, call.outcome, call.queue) == (CITIZEN, "abandoned", "consultation")
    assert (request.source, request.phone, request.call_id, request.missed_calls) == (
        "abandoned_queue",
        CITIZEN,
        call.call_id,
        1,
    )
    assert (request.state, request.agent, request.attempts, request.last_result) == (
        "done",
        "agent1001",
        1,
        "connected",
    )
    assert request.connected_at is not None and request.due_by is not None
    assert request.connected_at <= request.due_by
    [tried] = store.attempts(request.id)
    assert (tried.attempt, tried.agent, tried.result, tried.dial_status) == (
        1,
        "agent1001",
        "connected",
        "ANSWER",
    )
    now = datetime.now(UTC)
    report = CallbackReports(hot.session_factory, SystemClock()).report(now - timedelta(hours=1), now)
    summary = report["summary"]
    assert (summary["missed_calls"], summary["owed"], summary["called_back"], summary["in_time"]) == (
        1,
        1,
        1,
        1,
    )
    assert summary["share_called_back"] == 1.0
