"""Bad input in every form: a clear message next to the field, status 422, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agent_ui.orm import User
from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App
from routing.domain.model import Actor
from routing.lifecycle import Acknowledge, Resolve
from routing.orm import (
    Category,
    order_audit,
    order_callbacks,
    order_requests,
    work_orders,
)


def snapshot(hot: App) -> tuple[Any, ...]:
    """Everything a form could change."""
    with hot.session_factory() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(t))
            for t in (work_orders, order_audit, order_requests, order_callbacks, User.__table__)
        )
        versions = session.scalar(select(func.coalesce(func.sum(work_orders.c.version), 0)))
        states = tuple(
            session.execute(
                select(work_orders.c.number, work_orders.c.state).order_by(work_orders.c.number)
            ).all()
        )
    return (*counts, versions, states)


@pytest.fixture
def env(hot: App) -> dict[str, Any]:
    demo_accounts(hot)
    web = make_web(hot.desk)
    clients = {name: TestClient(web) for name in ("agent1", "dept1", "leader1", "qa1", "admin")}
    tokens = {name: login(c, name) for name, c in clients.items()}
    with hot.session_factory() as session:
        cat = session.scalar(
            select(Category.id)
            .where(Category.lead_unit == "city.housing", Category.district_lead.is_(None))
            .limit(1)
        )
    r = clients["agent1"].post(
        "/desk/orders",
        data={
            "csrf_token": tokens["agent1"],
            "citizen_phone": "13812345678",
            "category_id": str(cat),
            "description": "小区楼道照明损坏",
        },
        follow_redirects=False,
    )
    number = r.headers["location"].split("filed=")[1].split("&")[0]
    return {"clients": clients, "tokens": tokens, "number": number, "category": cat}


def _check(
    hot: App,
    env: dict[str, Any],
    who: str,
    url: str,
    data: dict[str, str],
    field: str,
    text: str | None = None,
) -> None:
    before = snapshot(hot)
    response = env["clients"][who].post(url, data={"csrf_token": env["tokens"][who], **data})
    assert response.status_code == 422, (url, data, response.status_code)
    assert f'id="err-{field}"' in response.text, (url, field)
    if text:
        message = response.text.split(f'id="err-{field}"', 1)[1][:300]
        assert text in message, (field, message)
    assert snapshot(hot) == before, f"{url} changed the database on bad input"


def test_login_form(hot: App) -> None:
    demo_accounts(hot)
    client = TestClient(make_web(hot.desk))
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"csrf_token": token, "username": "", "password": ""})
    assert r.status_code == 422 and 'id="err-username"' in r.text and 'id="err-password"' in r.text


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"citizen_phone": "123"}, "citizen_phone", "有效的手机号"),
        ({"citizen_phone": "12345"}, "citizen_phone", "有效的手机号"),
        ({"description": ""}, "description", "必填"),
        ({"description": "x" * 5001}, "description", "过长"),
        ({"category_id": ""}, "category_id", "分类"),
        ({"category_id": "999999"}, "category_id", "分类不存在"),
        ({"district": "火星区"}, "district", "四个区"),
        ({"action": "answer", "answer": " "}, "answer", "当场答复"),
    ],
)
def test_intake_form(hot: App, env: dict[str, Any], data: dict[str, str], field: str, text: str) -> None:
    good = {
        "citizen_phone": "13912345678",
        "category_id": str(env["category"]),
        "description": "噪音扰民",
        "action": "dispatch",
    }
    _check(hot, env, "agent1", "/desk/orders", {**good, **data}, field, text)


def test_agent_status_form(hot: App, env: dict[str, Any]) -> None:
    _check(hot, env, "agent1", "/desk/status", {"status": "sleeping"}, "status")
    _check(hot, env, "agent1", "/desk/status", {"status": "paused", "reason": ""}, "reason")


@pytest.mark.parametrize(
    ("step", "data", "field"),
    [
        ("note", {"note": "  "}, "note"),
        ("resolve", {"reply": ""}, "reply"),
        ("return", {"reason": ""}, "reason"),
        ("extension", {"days": "abc", "reason": "需要协调"}, "days"),
        ("extension", {"days": "99", "reason": "需要协调"}, "days"),
        ("extension", {"days": "3", "reason": ""}, "ext_reason"),
    ],
)
def test_department_forms(hot: App, env: dict[str, Any], step: str, data: dict[str, str], field: str) -> None:
    number = env["number"]
    _check(hot, env, "dept1", f"/dept/orders/{number}/{step}", data, f"{number}:{field}")


def test_department_step_refused_by_the_domain_shows_why(hot: App, env: dict[str, Any]) -> None:
    number = env["number"]
    # Resolving before acknowledging is not allowed: the message says so, next to the order.
    _check(hot, env, "dept1", f"/dept/orders/{number}/resolve", {"reply": "已处理"}, f"{number}:resolve")


def test_supervisor_forms(hot: App, env: dict[str, Any]) -> None:
    number = env["number"]
    dept = env["clients"]["dept1"]
    dept.post(
        f"/dept/orders/{number}/return", data={"csrf_token": env["tokens"]["dept1"], "reason": "非本单位职责"}
    )
    url = f"/supervisor/orders/{number}/rule-return"
    _check(hot, env, "leader1", url, {"decision": "", "note": "x"}, f"{number}:decision")
    _check(
        hot,
        env,
        "leader1",
        url,
        {"decision": "approve", "note": "改派", "unit_code": ""},
        f"{number}:unit_code",
    )
    _check(hot, env, "leader1", url, {"decision": "reject", "note": ""}, f"{number}:note")
    _check(
        hot,
        env,
        "leader1",
        url,
        {"decision": "approve", "note": "改派", "unit_code": "city.housing"},
        f"{number}:rule",
        "原单位",
    )
    _check(hot, env, "leader1", "/supervisor/reopen", {"number": "", "reason": ""}, "reopen:number")
    _check(hot, env, "leader1", "/supervisor/reopen", {"number": number, "reason": "x"}, "reopen:number")
    _check(
        hot,
        env,
        "leader1",
        f"/supervisor/orders/{number}/decide",
        {"kind": "extension", "decision": "approve"},
        f"{number}:decide",
    )


def test_callback_form(hot: App, env: dict[str, Any]) -> None:
    number = env["number"]
    _check(
        hot, env, "qa1", f"/qa/callbacks/{number}", {"outcome": "satisfied"}, f"{number}:form", "不能登记回访"
    )
    dept = Actor("dept1", "dept_handler", "city.housing")
    hot.work_orders.handle(Acknowledge(number, "city.housing"), dept)
    hot.work_orders.handle(Resolve(number, "city.housing", "已修复"), dept)
    _check(hot, env, "qa1", f"/qa/callbacks/{number}", {"outcome": ""}, f"{number}:outcome")
    _check(
        hot,
        env,
        "qa1",
        f"/qa/callbacks/{number}",
        {"outcome": "satisfied", "rating": "9"},
        f"{number}:rating",
    )
    _check(
        hot,
        env,
        "qa1",
        f"/qa/callbacks/{number}",
        {"outcome": "satisfied", "solved": "maybe"},
        f"{number}:solved",
    )
    _check(hot, env, "qa1", f"/qa/callbacks/{number}", {"outcome": "happy"}, f"{number}:outcome")


def test_account_form(hot: App, env: dict[str, Any]) -> None:
    base = {"username": "newagent", "display_name": "新座席", "role": "agent", "unit_code": ""}
    _check(hot, env, "admin", "/admin/users", {**base, "username": "A B"}, "username")
    _check(hot, env, "admin", "/admin/users", {**base, "username": "agent1"}, "username", "已存在")
    _check(hot, env, "admin", "/admin/users", {**base, "display_name": ""}, "display_name")
    _check(hot, env, "admin", "/admin/users", {**base, "role": "king"}, "role")
    _check(hot, env, "admin", "/admin/users", {**base, "role": "dept_handler"}, "unit_code")
    _check(hot, env, "admin", "/admin/users", {**base, "unit_code": "city.housing"}, "unit_code")
