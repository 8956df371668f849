"""The national rules on the web desk, through HTTP: the confidential caller, yellow and red cards in the
unit's inbox and on the wallboard, an assisting unit's objection and its review, negotiation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from agent_ui.orm import AccessAudit
from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App
from kernel.clock import FakeClock
from routing.commands import IntakeCommand
from routing.domain.model import Actor
from tests.integration.test_agent_ui_flows import file_order, housing_category

HOUSING = "city.housing"  # the demo department accounts' unit


def intake(hot: App, **extra: object) -> str:
    cmd = IntakeCommand.model_validate(
        {
            "channel": "phone",
            "category_id": housing_category(hot),
            "description": "小区楼道照明损坏，多次反映无人处理",
            "citizen_phone": "13812345678",
            "citizen_name": "李雷",
            **extra,
        }
    )
    return hot.work_orders.intake(cmd, Actor("agent1", "agent")).number


def test_a_confidential_caller_is_hidden_from_the_unit_without_reveal(hot: App) -> None:
    demo_accounts(hot.desk)
    web = make_web(hot.desk)
    agent, dept = TestClient(web), TestClient(web)
    token = login(agent, "agent1")
    r = agent.post(
        "/desk/orders",
        data={
            "csrf_token": token,
            "citizen_phone": "13812345678",
            "citizen_name": "李雷",
            "category_id": str(housing_category(hot)),
            "description": "举报小区物业乱收费，不愿透露身份",
            "confidential": "1",
            "action": "dispatch",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    number = r.headers["location"].split("filed=")[1].split("&")[0]
    assert hot.work_orders.get(number).confidential

    dept_token = login(dept, "dept1")
    page = dept.get(f"/orders/{number}").text
    assert "13812345678" not in page and "138****5678" not in page and "李雷" not in page
    assert "reveal-phone" not in page and 'data-testid="confidential"' in page
    assert dept.post(f"/orders/{number}/reveal-phone", data={"csrf_token": dept_token}).status_code == 403

    seen = agent.get(f"/orders/{number}").text
    assert "13812345678" in seen and "李雷" in seen
    with hot.session_factory() as session:
        audits = session.execute(
            select(AccessAudit.username, AccessAudit.action).where(AccessAudit.subject == number)
        ).all()
    assert ("agent1", "view_confidential") in audits and not [u for u, _ in audits if u == "dept1"]


def test_ordinary_orders_keep_the_audited_reveal(hot: App) -> None:
    demo_accounts(hot.desk)
    web = make_web(hot.desk)
    agent, dept = TestClient(web), TestClient(web)
    number = file_order(agent, hot, login(agent, "agent1"))
    token = login(dept, "dept1")
    assert "reveal-phone" in dept.get(f"/orders/{number}").text
    assert "13812345678" in dept.post(f"/orders/{number}/reveal-phone", data={"csrf_token": token}).text


def test_yellow_then_red_card_in_the_inbox_and_on_the_wallboard(hot: App, clock: FakeClock) -> None:
    demo_accounts(hot.desk)
    web = make_web(hot.desk)
    dept, sup = TestClient(web), TestClient(web)
    number = intake(hot)
    login(dept, "dept1")
    login(sup, "leader1")
    assert 'data-testid="card-yellow"' not in dept.get("/dept/inbox").text
    clock.advance(minutes=20)
    hot.scheduler.run_once()
    inbox = dept.get("/dept/inbox").text
    assert 'data-testid="card-yellow"' in inbox and number in inbox
    assert 'data-testid="kpi-yellow">1<' in inbox
    clock.advance(minutes=10)
    hot.scheduler.run_once()
    inbox = dept.get("/dept/inbox").text
    assert 'data-testid="card-red"' in inbox and 'data-testid="card-yellow"' not in inbox
    assert 'data-testid="kpi-red">1<' in inbox
    board = sup.get("/supervisor/wallboard/panel").text
    assert 'data-testid="kpi-red">1<' in board and "cards-by-unit" in board
    assert "红牌" in sup.get(f"/orders/{number}").text


def test_an_assisting_unit_objects_and_the_hotline_rules(hot: App) -> None:
    demo_accounts(hot.desk)
    web = make_web(hot.desk)
    dept, sup = TestClient(web), TestClient(web)
    number = intake(
        hot,
        targets=[{"unit_code": "city.market"}, {"unit_code": HOUSING, "role": "assist"}],
    )
    token = login(dept, "dept1")
    r = dept.post(f"/dept/orders/{number}/objection", data={"csrf_token": token, "reason": " "})
    assert r.status_code == 422 and "必填" in r.text
    r = dept.post(
        f"/dept/orders/{number}/objection",
        data={
            "csrf_token": token,
            "reason": "楼道照明属物业公司维修，不属住建职责",
            "proposed_unit": "city.health",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    sup_token = login(sup, "leader1")
    page = sup.get("/supervisor/rulings").text
    assert "楼道照明属物业公司维修，不属住建职责" in page and "city.health" in page
    r = sup.post(
        f"/supervisor/orders/{number}/rule-objection",
        data={"csrf_token": sup_token, "unit_code": HOUSING, "decision": "approve", "note": ""},
    )
    assert r.status_code == 422  # a ruling needs its reason
    r = sup.post(
        f"/supervisor/orders/{number}/rule-objection",
        data={
            "csrf_token": sup_token,
            "unit_code": HOUSING,
            "decision": "approve",
            "replacement": "city.health",
            "note": "属卫健部门监管",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    units = {a.unit_code for a in hot.work_orders.get(number).active_assignments}
    assert units == {"city.market", "city.health"}
    assert number not in dept.get("/dept/inbox").text


def test_negotiation_records_the_units_and_dispatches(hot: App) -> None:
    demo_accounts(hot.desk)
    web = make_web(hot.desk)
    sup = TestClient(web)
    number = intake(hot, dispatch=False)
    token = login(sup, "leader1")
    assert number in sup.get("/supervisor/negotiations").text
    r = sup.post(
        f"/supervisor/orders/{number}/negotiate",
        data={
            "csrf_token": token,
            "participants": [HOUSING, "street.meilan.haidian"],
            "lead_unit": "street.meilan.haidian",
            "note": "协商",
        },
    )
    assert r.status_code == 422 and "66号" in r.text  # a functional department's matter stays with it
    r = sup.post(
        f"/supervisor/orders/{number}/negotiate",
        data={
            "csrf_token": token,
            "participants": [HOUSING, "city.health", "street.meilan.haidian"],
            "lead_unit": HOUSING,
            "assist_units": ["city.health", "street.meilan.haidian"],
            "note": "三方协商：住建主办，卫健、海甸街道协办",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:800]
    order = hot.work_orders.get(number)
    assert order.state.value == "dispatched" and order.lead_unit == HOUSING
    (talk,) = order.negotiations
    assert talk.participants == [HOUSING, "city.health", "street.meilan.haidian"]
    assert "三方协商" in sup.get(f"/orders/{number}").text
    assert number not in sup.get("/supervisor/negotiations").text
