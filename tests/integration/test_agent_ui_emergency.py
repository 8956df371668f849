"""The desk's emergency-line keys (国办发〔2022〕12号) through HTTP, with a fake desk phone: the transfer or
three-way call, its record on the call's order (who and when, audited), and every refusal as a clear 4xx.
tests/e2e/test_browser_emergency.py does the same with real Chromium and the real switch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from agent_ui.ports import CallControl
from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App
from routing.commands import IntakeCommand
from routing.domain.enums import Channel, OrderState
from routing.domain.model import Actor
from telephony.desk import EmergencyTransfer

CALL, CITIZEN = "main-1700000000.1", "13812345678"


@dataclass
class FakeCallControl:
    """The desk port as telephony.desk.DeskTelephony behaves (held to it by the e2e test)."""

    at: datetime
    live: dict[str, str] = field(default_factory=dict)  # agent -> call id
    links: dict[str, list[str]] = field(default_factory=dict)
    refuse: str = ""
    done: list[EmergencyTransfer] = field(default_factory=list)

    def current_call(self, agent: str) -> str | None:
        return self.live.get(agent)

    def blind_transfer(self, call_id: str, target: str) -> None:
        raise NotImplementedError

    attended_transfer = three_way = blind_transfer

    def complete_transfer(self, call_id: str) -> None:
        raise NotImplementedError

    cancel_transfer = complete_transfer

    def caller_number(self, call_id: str) -> str | None:
        return CITIZEN

    def emergency(self, call_id: str, *, line: str, dialled: str, mode: str, agent: str) -> EmergencyTransfer:
        if self.refuse:
            raise RuntimeError(self.refuse)
        self.done.append(EmergencyTransfer(call_id, line, dialled, mode, agent, self.at, True))
        return self.done[-1]

    def emergency_transfers(self, call_id: str) -> list[EmergencyTransfer]:
        return [d for d in self.done if d.call_id == call_id]

    def linked_work_orders(self, call_id: str) -> list[str]:
        return self.links.get(call_id, [])


@pytest.fixture
def phone(hot: App) -> FakeCallControl:
    return FakeCallControl(hot.clock.now(), live={"agent1": CALL})


@pytest.fixture
def client(hot: App, phone: FakeCallControl) -> TestClient:
    demo_accounts(hot)
    assert isinstance(phone, CallControl)
    hot.desk.call_control = phone  # what the telephony role sets where it follows the switch
    hot.desk.feed.call_answered("agent1", CALL, CITIZEN, "consultation")
    return TestClient(make_web(hot.desk))


def emergency(client: TestClient, token: str, target: str) -> object:
    return client.post(
        "/desk/emergency",
        data={"csrf_token": token, "target": target, "call_id": CALL},
        follow_redirects=False,
    )


def test_the_desk_shows_one_key_per_line(client: TestClient) -> None:
    login(client, "agent1")
    page = client.get("/desk").text
    for n, line in enumerate(("110", "119", "120", "122"), start=1):
        assert f'value="{line}:transfer" data-emergency-key="{n}"' in page
        assert f'value="{line}:conference" data-emergency-key="shift+{n}"' in page


def test_a_transfer_with_no_order_yet_files_one_that_records_it(
    client: TestClient, hot: App, phone: FakeCallControl
) -> None:
    token = login(client, "agent1")
    response = emergency(client, token, "110:transfer")
    assert response.status_code == 303  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    number = location.split("orders=")[1]
    assert phone.done[0].line == "110" and phone.done[0].dialled == "110" and phone.done[0].agent == "agent1"
    order = hot.work_orders.get(number)
    assert order.state is OrderState.CLOSED and order.call_ids == [CALL] and order.citizen_phone == CITIZEN
    [event] = [h for h in order.history if h.action == "emergency_transfer"]
    assert (event.actor, event.actor_role) == ("agent1", "agent")
    assert (
        event.after["line"] == "110" and event.after["mode"] == "transfer" and event.after["call_id"] == CALL
    )
    assert event.after["at"] == phone.at.isoformat()
    assert "已一键转接110（公安）" in client.get(location).text
    assert hot.desk.feed.status("agent1").status == "wrap_up"  # released from the call


def test_a_three_way_call_is_recorded_on_the_calls_orders_and_on_the_one_filed_next(
    client: TestClient, hot: App, phone: FakeCallControl
) -> None:
    linked = hot.work_orders.intake(
        IntakeCommand(channel=Channel.PHONE, description="楼下有人打架", citizen_phone=CITIZEN, dispatch=False,
                      call_id=CALL),
        Actor("agent1", "agent"),
    )  # fmt: skip
    phone.links[CALL] = [linked.number]
    token = login(client, "agent1")
    response = emergency(client, token, "120:conference")
    assert response.headers["location"].endswith(f"orders={linked.number}")  # type: ignore[attr-defined]
    assert [
        h.after["line"]
        for h in hot.work_orders.get(linked.number).history
        if h.action == "emergency_transfer"
    ] == ["120"]
    assert hot.desk.feed.status("agent1").status == "on_call"  # still on the call
    filed = client.post(
        "/desk/orders",
        data={"csrf_token": token, "citizen_phone": CITIZEN, "description": "有人受伤，已与120三方通话",
              "call_id": CALL, "answer": "已联系120急救", "action": "answer"},
        follow_redirects=False,
    )  # fmt: skip
    assert filed.status_code == 303
    number = filed.headers["location"].split("filed=")[1].split("&")[0]
    [event] = [h for h in hot.work_orders.get(number).history if h.action == "emergency_transfer"]
    assert (event.after["line"], event.after["mode"], event.actor) == ("120", "conference", "agent1")


@pytest.mark.parametrize(
    ("target", "setup", "status", "message"),
    [
        ("911:transfer", None, 422, "请选择 110、119、120 或 122"),
        ("110:bounce", None, 422, "请选择 110、119、120 或 122"),
        ("110:transfer", "no call", 409, "当前没有可转接的通话"),
        ("110:transfer", "refuse", 409, "交换机未能接通 110：the switch could not call 110"),
    ],
)
def test_refusals_are_clear_and_change_nothing(
    client: TestClient,
    hot: App,
    phone: FakeCallControl,
    target: str,
    setup: str | None,
    status: int,
    message: str,
) -> None:
    if setup == "no call":
        phone.live.clear()
    elif setup == "refuse":
        phone.refuse = "the switch could not call 110"
    token = login(client, "agent1")
    response = emergency(client, token, target)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    assert phone.done == []
    with hot.session_factory() as session:
        from routing.orm import work_orders

        assert session.query(work_orders).count() == 0


def test_without_the_switch_and_for_other_roles(hot: App) -> None:
    demo_accounts(hot)
    client = TestClient(make_web(hot.desk))
    token = login(client, "agent1")
    response = emergency(client, token, "110:transfer")
    assert response.status_code == 409 and "未连接电话交换机" in response.text  # type: ignore[attr-defined]
    client.cookies.clear()
    token = login(client, "qa1")
    assert emergency(client, token, "110:transfer").status_code == 403  # type: ignore[attr-defined]
