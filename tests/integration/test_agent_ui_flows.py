"""The desk's main paths through HTTP: log-in and lock-out, intake and dispatch, the department's steps,
the callback, masking and the access audit, language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agent_ui.orm import AccessAudit
from agent_ui.security import SESSION_COOKIE
from agent_ui.testing import TEST_PASSWORD, csrf_from, demo_accounts, login, make_web
from hotline.bootstrap import App
from kernel.clock import FakeClock
from routing.orm import Category


@pytest.fixture
def client(hot: App) -> TestClient:
    demo_accounts(hot)
    return TestClient(make_web(hot.desk))


def housing_category(hot: App) -> int:
    with hot.session_factory() as session:
        cat = session.scalar(
            select(Category.id)
            .where(Category.lead_unit == "city.housing", Category.district_lead.is_(None))
            .limit(1)
        )
    assert cat is not None
    return cat


def file_order(
    client: TestClient, hot: App, token: str, description: str = "小区楼道照明损坏，多次反映无人处理"
) -> str:
    response = client.post(
        "/desk/orders",
        data={
            "csrf_token": token,
            "citizen_phone": "13812345678",
            "category_id": str(housing_category(hot)),
            "description": description,
            "location_text": "",
            "action": "dispatch",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    number = response.headers["location"].split("filed=")[1].split("&")[0]
    return number


def test_pages_are_chinese_by_default_and_english_on_request(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="zh-CN">' in page.text and "登录" in page.text
    english = client.get("/login?lang=en")
    assert '<html lang="en">' in english.text and "Log in" in english.text
    assert '<html lang="en">' in client.get("/login").text  # the choice sticks (cookie)


def test_session_cookie_is_signed_httponly_and_lax(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "agent1", "password": TEST_PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    value = client.cookies[SESSION_COOKIE]
    assert client.get("/desk", follow_redirects=False).status_code == 200
    client.cookies.clear()
    client.cookies.set(
        SESSION_COOKIE, value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    )  # tampered
    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_five_failures_lock_the_account_for_fifteen_minutes(
    client: TestClient, hot: App, clock: FakeClock
) -> None:
    for _ in range(5):
        page = client.get("/login")
        r = client.post(
            "/login",
            data={"username": "agent1", "password": "wrong-password", "csrf_token": csrf_from(page.text)},
        )
    assert r.status_code == 429 and "锁定" in r.text
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": "agent1", "password": TEST_PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 429  # the right password does not help while locked
    clock.advance(minutes=16)
    login(client, "agent1")


def test_post_without_csrf_token_is_refused_and_changes_nothing(client: TestClient, hot: App) -> None:
    login(client, "agent1")
    r = client.post(
        "/desk/orders",
        data={"citizen_phone": "13812345678", "description": "x", "category_id": str(housing_category(hot))},
    )
    assert r.status_code == 403
    with hot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Category)) > 0
        from routing.orm import work_orders

        assert session.scalar(select(func.count()).select_from(work_orders)) == 0


def test_agent_files_department_handles_qa_calls_back(hot: App, clock: FakeClock) -> None:
    demo_accounts(hot)
    web = make_web(hot.desk)
    agent, dept, qa = TestClient(web), TestClient(web), TestClient(web)
    number = file_order(agent, hot, login(agent, "agent1"))
    assert number in agent.get(f"/desk?filed={number}&dispatched=1").text

    token = login(dept, "dept1")
    inbox = dept.get("/dept/inbox").text
    assert number in inbox and 'class="countdown"' in inbox
    for step, data in (
        ("acknowledge", {}),
        ("start", {}),
        ("note", {"note": "已联系物业"}),
        ("resolve", {"reply": "电梯已修复"}),
    ):
        r = dept.post(
            f"/dept/orders/{number}/{step}", data={"csrf_token": token, **data}, follow_redirects=False
        )
        assert r.status_code == 303, (step, r.text[:500])
    assert hot.work_orders.get(number).state.value == "resolved"

    token = login(qa, "qa1")
    assert number in qa.get("/qa/callbacks").text
    r = qa.post(
        f"/qa/callbacks/{number}",
        data={"csrf_token": token, "outcome": "satisfied", "solved": "yes", "rating": "5"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    order = hot.work_orders.get(number)
    assert order.state.value == "closed"
    actions = [h.action for h in order.history]
    assert actions[:2] == ["accept", "dispatch"] and actions[-1] == "close"
    page = agent.get(f"/orders/{number}").text
    assert "resolve" in page and "dept1" in page  # the full history with who did what


def test_department_sees_only_its_units_orders_with_masked_numbers(hot: App) -> None:
    demo_accounts(hot)
    web = make_web(hot.desk)
    agent = TestClient(web)
    number = file_order(agent, hot, login(agent, "agent1"))
    other = TestClient(web)
    from agent_ui.users import UserService

    UserService(hot.session_factory, hot.clock).create(
        "market1", "市场监管经办", "dept_handler", "city.market", TEST_PASSWORD
    )
    login(other, "market1")
    assert other.get(f"/orders/{number}").status_code == 404
    assert number not in other.get("/dept/inbox").text
    r = other.post(
        f"/dept/orders/{number}/acknowledge", data={"csrf_token": csrf_from(other.get("/dept/inbox").text)}
    )
    assert r.status_code == 404

    dept = TestClient(web)
    token = login(dept, "dept1")
    page = dept.get(f"/orders/{number}").text
    assert "138****5678" in page and "13812345678" not in page
    revealed = dept.post(f"/orders/{number}/reveal-phone", data={"csrf_token": token}).text
    assert "13812345678" in revealed
    agent_view = agent.get(f"/orders/{number}").text
    assert "13812345678" in agent_view
    with hot.session_factory() as session:
        audits = session.execute(
            select(AccessAudit.username, AccessAudit.detail).where(
                AccessAudit.action == "view_phone", AccessAudit.subject == number
            )
        ).all()
    assert ("dept1", "revealed") in audits and ("agent1", "order page") in audits
    assert not any(u == "dept1" and d == "order page" for u, d in audits)


def test_answered_on_the_spot_closes_without_dispatch(client: TestClient, hot: App) -> None:
    token = login(client, "agent1")
    r = client.post(
        "/desk/orders",
        data={
            "csrf_token": token,
            "citizen_phone": "13812345678",
            "description": "公积金提取需要什么材料",
            "action": "answer",
            "answer": "携带身份证和购房合同到公积金中心办理",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    number = r.headers["location"].split("filed=")[1].split("&")[0]
    order = hot.work_orders.get(number)
    assert order.state.value == "closed" and order.resolution_kind == "on_the_spot" and not order.assignments


def test_overdue_response_shows_on_the_wallboard(client: TestClient, hot: App, clock: FakeClock) -> None:
    number = file_order(client, hot, login(client, "agent1"))
    sup = TestClient(client.app)
    login(sup, "leader1")
    assert "0" in sup.get("/supervisor/wallboard/panel").text
    clock.advance(minutes=31)
    hot.scheduler.run_once()
    board = sup.get("/supervisor/wallboard").text
    assert f"工单 {number} 响应超时" in board
    assert hot.clock.now() - timedelta(minutes=31) < hot.clock.now()


def test_return_and_arbitration(hot: App) -> None:
    demo_accounts(hot)
    web = make_web(hot.desk)
    agent, dept, sup = TestClient(web), TestClient(web), TestClient(web)
    number = file_order(agent, hot, login(agent, "agent1"))
    token = login(dept, "dept1")
    r = dept.post(
        f"/dept/orders/{number}/return",
        data={"csrf_token": token, "reason": "非本单位职责"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    token = login(sup, "leader1")
    assert number in sup.get("/supervisor/rulings").text
    r = sup.post(
        f"/supervisor/orders/{number}/rule-return",
        data={
            "csrf_token": token,
            "decision": "approve",
            "unit_code": "city.market",
            "note": "属市场监管职责",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:800]
    assert hot.work_orders.get(number).lead_unit == "city.market"
