"""The supervisors' missed-call callbacks page and its JSON: the period's missed calls, the callbacks owed,
each call made, the share called back (in time); numbers shown in full to supervisors, every view audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from agent_ui.orm import AccessAudit
from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App
from kernel.clock import FakeClock
from telephony.callback_report import CallbackReports
from telephony.callback_store import QueueCallbackStore
from telephony.missed_calls import QueueCallbackPolicy, note_missed_call
from telephony.orm import CallRow

MONDAY_0800 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Haikou


@pytest.fixture
def client(hot: App, clock: FakeClock) -> TestClient:
    clock.set(MONDAY_0800 + timedelta(hours=4))  # 12:00
    demo_accounts(hot)
    assert isinstance(hot.desk.callback_reports, CallbackReports)  # the composition root's
    return TestClient(make_web(hot.desk))


def missed(hot: App, call_id: str, phone: str, at: datetime, *, queued: bool = True) -> None:
    with hot.session_factory() as session, session.begin():
        call = CallRow(call_id=call_id, caller_number=phone, dialed="12345", started_at=at, ended_at=at)
        call.queued_at = at if queued else None
        call.queue = "consultation" if queued else None
        session.add(call)
        session.flush()
        note_missed_call(session, call, at + timedelta(seconds=30), QueueCallbackPolicy())


def test_the_page_and_the_json_agree_on_the_share_called_back(client: TestClient, hot: App) -> None:
    store = QueueCallbackStore(hot.session_factory)
    missed(hot, "c1", "13800000001", MONDAY_0800)  # called back in time
    missed(hot, "c2", "13800000002", MONDAY_0800 + timedelta(minutes=5), queued=False)  # still owed, overdue
    missed(hot, "c3", "13800000003", MONDAY_0800 + timedelta(minutes=6))  # called back late
    missed(hot, "c4", "13800000003", MONDAY_0800 + timedelta(minutes=7))  # the same citizen again
    [first, second, third] = store.all()
    tried = store.attempt_started(first.id, 1, "agent1001", MONDAY_0800 + timedelta(minutes=10))
    store.attempt_ended(tried, "busy", MONDAY_0800 + timedelta(minutes=11), dial_status="BUSY", cause=17)
    tried = store.attempt_started(first.id, 2, "agent1001", MONDAY_0800 + timedelta(minutes=14))
    store.attempt_ended(tried, "connected", MONDAY_0800 + timedelta(minutes=15), dial_status="ANSWER")
    store.set(
        first.id, MONDAY_0800, state="done", attempts=2, connected_at=MONDAY_0800 + timedelta(minutes=15)
    )
    store.set(third.id, MONDAY_0800, state="done", attempts=1, connected_at=MONDAY_0800 + timedelta(hours=2))
    assert second.state == "waiting"
    store.add(call_id="c5", phone="13800000005", queue="consultation", priority=0, position=3, language="zh",
              now=MONDAY_0800 + timedelta(minutes=20), source="queue")  # fmt: skip

    login(client, "leader1")
    data = client.get("/supervisor/callbacks.json").json()
    summary = data["summary"]
    assert (summary["missed_calls"], summary["missed_in_queue"], summary["missed_in_ivr"]) == (4, 3, 1)
    assert (summary["owed"], summary["called_back"], summary["in_time"]) == (3, 2, 1)
    assert (summary["share_called_back"], summary["share_in_time"]) == (0.6667, 0.3333)
    assert (summary["pending"], summary["overdue"], summary["requested"]) == (2, 1, 1)
    rows = {row["phone"]: row for row in data["callbacks"]}
    assert rows["13800000003"]["missed_calls"] == 2 and rows["13800000003"]["in_time"] is False
    assert [(t["attempt"], t["result"]) for t in rows["13800000001"]["tries"]] == [
        (1, "busy"),
        (2, "connected"),
    ]
    assert rows["13800000002"]["overdue"] is True

    page = client.get("/supervisor/callbacks").text
    assert 'data-testid="kpi-share">66.7%<' in page and 'data-testid="kpi-share-in-time">33.3%<' in page
    assert "13800000002" in page and "语音导航中挂机" in page and "忙线" in page
    with hot.session_factory() as session:
        views = session.scalars(select(AccessAudit.action).where(AccessAudit.username == "leader1")).all()
    assert views.count("view_missed_callbacks") == 2


def test_periods_and_roles(client: TestClient, hot: App) -> None:
    missed(hot, "c1", "13800000001", MONDAY_0800 - timedelta(days=1))  # Sunday
    login(client, "leader1")
    assert client.get("/supervisor/callbacks.json").json()["summary"]["missed_calls"] == 0
    assert client.get("/supervisor/callbacks.json?days=2").json()["summary"]["missed_calls"] == 1
    assert client.get("/supervisor/callbacks.json?day=2026-11-22").json()["summary"]["missed_calls"] == 1
    bad = client.get("/supervisor/callbacks.json?day=22/11/2026")
    assert bad.status_code == 400 and bad.json()["error"]["en"] == "the day is YYYY-MM-DD"
    assert client.get("/supervisor/callbacks?days=99").status_code == 400
    client.cookies.clear()
    login(client, "agent1")
    assert client.get("/supervisor/callbacks").status_code == 403
    assert client.get("/supervisor/callbacks.json").status_code == 403


def test_without_telephony_the_page_says_so(hot: App) -> None:
    demo_accounts(hot)
    hot.desk.callback_reports = None
    client = TestClient(make_web(hot.desk))
    login(client, "leader1")
    assert 'data-testid="callbacks-offline"' in client.get("/supervisor/callbacks").text
    assert client.get("/supervisor/callbacks.json").json()["connected"] is False
