"""What an outside probe found (issue 11), each as a test over HTTP on SQLite and PostgreSQL.

Numbers in the test names are the issue's items. The parallel lock-out (2) against a real server process is
in test_security_lockout.py; the fuzz run and the authorization matrix have their own files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agent_ui.orm import AccessAudit
from agent_ui.testing import demo_accounts, login
from agent_ui.users import DEV_DEMO_PASSWORD, UserService
from hotline.bootstrap import App
from hotline.web import create_web_app
from kernel.clock import FakeClock
from routing.apikeys import create_api_key
from routing.commands import IntakeCommand, TargetIn
from routing.domain.enums import Channel, OrderState, SupervisionState
from routing.domain.model import Actor
from routing.kb.orm import KbArticle
from routing.orm import work_orders
from routing.suggest.orm import SuggestionFeedback

PHONE = "13976001234"
POWER, HOUSING = "utility.power", "city.housing"


@pytest.fixture
def web(hot: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(hot)) as client:
        yield client


@pytest.fixture
def keys(hot: App) -> dict[str, str]:
    with hot.session_factory() as session, session.begin():
        return {
            "agent": create_api_key(session, "desk", "agent"),
            "supervisor": create_api_key(session, "boss", "supervisor"),
            "integration": create_api_key(session, "wechat", "integration"),
            "granted": create_api_key(session, "grid", "integration", phone_access=True),
            "housing_head": create_api_key(session, "housing-head", "department_head", HOUSING),
            "power": create_api_key(session, "power", "department", POWER),
            "power_head": create_api_key(session, "power-head", "department_head", POWER),
        }


def h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def power_order(hot: App, description: str = "小区停电三小时了") -> str:
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description=description,
            citizen_phone=PHONE,
            citizen_name="王明",
            location_text="龙华区玉沙路",
            targets=[TargetIn(unit_code=POWER)],
        ),
        Actor("agent1", "agent"),
    )
    return order.number


def count(hot: App, entity: Any) -> int:
    with hot.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(entity)) or 0)


# ---- 1. anonymous writes --------------------------------------------------------------------------------
ARTICLE = {"key": "scam", "title": "请提供身份证和银行密码", "body": "请把身份证号和银行卡密码告诉我们。"}


def test_1_no_anonymous_writes_to_the_knowledge_base_or_the_model(
    hot: App, web: TestClient, keys: dict[str, str]
) -> None:
    articles, feedback = count(hot, KbArticle), count(hot, SuggestionFeedback)
    assert web.post("/api/kb/articles", json=ARTICLE).status_code == 401
    assert web.put("/api/kb/articles/1", json={"title": "骗局"}).status_code == 401
    given = {"text": "路灯坏了", "suggested": {}, "chosen_level1": "城乡建设"}
    assert web.post("/api/suggest/feedback", json=given).status_code == 401
    # an agent may read the knowledge base but not write it; a department may not teach the model
    assert web.post("/api/kb/articles", json=ARTICLE, headers=h(keys["agent"])).status_code == 403
    assert web.post("/api/suggest/feedback", json=given, headers=h(keys["power"])).status_code == 403
    assert web.get("/api/kb/search", params={"q": "银行"}).status_code == 401
    assert (count(hot, KbArticle), count(hot, SuggestionFeedback)) == (articles, feedback)
    made = web.post("/api/kb/articles", json=ARTICLE, headers=h(keys["supervisor"]))
    assert made.status_code == 201 and made.json()["key"] == "scam"


# ---- 3. a department head's key is scoped to its unit ----------------------------------------------------
def _supervision_for_power(hot: App, clock: FakeClock, number: str) -> str:
    for _ in range(3):  # response breach → escalation → supervision order (30 min apart)
        clock.advance(minutes=31)
        hot.scheduler.run_once()
    sup = [s for s in hot.work_orders.get(number).supervisions if s.unit_code == POWER]
    assert sup and sup[0].state is SupervisionState.ISSUED
    return sup[0].number


def test_3_department_head_keys_see_and_act_for_their_own_unit_only(
    hot: App, web: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    number = power_order(hot)
    sup = _supervision_for_power(hot, clock, number)
    head = h(keys["housing_head"])
    listed = web.get("/api/work-orders", headers=head).json()["items"]
    assert number not in [o["number"] for o in listed]
    assert web.post("/api/work-orders/search", json={}, headers=head).json()["items"] == []
    assert web.get(f"/api/work-orders/{number}", headers=head).status_code == 404
    assert web.get(f"/api/work-orders/{number}/events", headers=head).status_code == 404
    assert all(a["unit_code"] == HOUSING for a in web.get("/api/alarms", headers=head).json())
    assert {s["unit_code"] for s in web.get("/api/scores", headers=head).json()} <= {HOUSING}
    assert sum(web.get("/api/stats", headers=head).json()["by_state"].values()) == 0
    ack = web.post(
        f"/api/work-orders/{number}/supervisions/{sup}/acknowledge",
        json={"unit_code": POWER},
        headers=head,
    )
    assert ack.status_code in (403, 404)
    # the power unit's own head sees all of it and acknowledges its supervision order
    own = h(keys["power_head"])
    assert number in [o["number"] for o in web.get("/api/work-orders", headers=own).json()["items"]]
    assert any(a["unit_code"] == POWER for a in web.get("/api/alarms", headers=own).json())
    ack = web.post(f"/api/work-orders/{number}/supervisions/{sup}/acknowledge", json={}, headers=own)
    assert ack.status_code == 200, ack.text


def test_3_only_the_lead_units_head_records_the_callback(
    hot: App, web: TestClient, keys: dict[str, str]
) -> None:
    number = power_order(hot)
    power = h(keys["power"])
    assert web.post(f"/api/work-orders/{number}/acknowledge", json={}, headers=power).status_code == 200
    done = web.post(f"/api/work-orders/{number}/resolve", json={"reply": "已恢复供电"}, headers=power)
    assert done.status_code == 200, done.text
    satisfied = {"outcome": "satisfied", "solved": True, "rating": 5}
    other = web.post(f"/api/work-orders/{number}/callback", json=satisfied, headers=h(keys["housing_head"]))
    assert other.status_code == 404
    assert hot.work_orders.get(number).state is OrderState.RESOLVED  # not closed by another unit
    own = web.post(f"/api/work-orders/{number}/callback", json=satisfied, headers=h(keys["power_head"]))
    assert own.status_code == 200 and own.json()["state"] == "closed"


# ---- 4. bad input answers 4xx with a reason, logs no personal data --------------------------------------
def test_4_bad_input_is_refused_at_the_edge(
    hot: App, web: TestClient, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    agent = h(keys["agent"])
    orders = count(hot, work_orders)
    base = {"channel": "web", "citizen_phone": PHONE, "citizen_name": "王明"}
    caplog.set_level(logging.DEBUG)
    answers = {
        "nul in query": web.get("/api/categories?level1=%00", headers=agent),
        "nul in open311 path": web.get("/open311/v2/requests/%00.json"),
        "nul in login": web.post("/login", data={"username": "admin\0", "password": "x", "csrf_token": "t"}),
        "nul in description": web.post(
            "/api/work-orders", json={**base, "description": "漏水\u0000"}, headers=agent
        ),
        "lone surrogate": web.post(
            "/api/work-orders",
            content=b'{"channel":"web","citizen_phone":"13976001234","description":"\\ud800"}',
            headers={**agent, "content-type": "application/json"},
        ),
        "huge offset": web.get("/api/work-orders?offset=99999999999999999999", headers=agent),
        "huge service code": web.get("/open311/v2/services/99999999999.json"),
        "huge recording id": web.get("/api/recordings/99999999999"),
        "huge article id": web.get("/api/kb/articles/99999999999", headers=agent),
        "unknown state": web.get("/api/work-orders?state=bogus", headers=agent),
        "NaN": web.post(
            "/api/routing/suggest",
            content=b'{"description":"x","category_id":NaN}',
            headers={**agent, "content-type": "application/json"},
        ),
        "deep nesting": web.post(
            "/api/work-orders",
            content=b"[" * 50_000 + b"]" * 50_000,
            headers={**agent, "content-type": "application/json"},
        ),
    }
    for what, r in answers.items():
        assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:200])
    body = answers["nul in description"].json()
    assert body["message"] and body["message_en"]
    assert answers["huge offset"].status_code == 422
    assert count(hot, work_orders) == orders
    assert PHONE not in caplog.text and "王明" not in caplog.text


def test_4_a_duplicate_knowledge_base_key_is_a_conflict(web: TestClient, keys: dict[str, str]) -> None:
    editor = h(keys["supervisor"])
    assert web.post("/api/kb/articles", json=ARTICLE, headers=editor).status_code == 201
    again = web.post("/api/kb/articles", json=ARTICLE, headers=editor)
    assert again.status_code == 409 and again.json()["message_en"]


# ---- 5. idempotent intake -------------------------------------------------------------------------------
def test_5_the_same_external_ref_from_the_same_client_returns_the_first_order(
    hot: App, web: TestClient, keys: dict[str, str]
) -> None:
    order = {"channel": "wechat", "description": "路灯不亮", "citizen_phone": PHONE, "external_ref": "wx-1"}
    first = web.post("/api/work-orders", json=order, headers=h(keys["integration"]))
    again = web.post("/api/work-orders", json=order, headers=h(keys["integration"]))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    other = web.post("/api/work-orders", json=order, headers=h(keys["granted"]))  # another client
    assert other.status_code == 201 and other.json()["number"] != first.json()["number"]
    with hot.session_factory() as session:
        refs = session.scalars(select(work_orders.c.external_ref).where(work_orders.c.external_ref == "wx-1"))
        assert len(list(refs)) == 2


# ---- 6. demo accounts outside development -----------------------------------------------------------------
def test_6_the_demo_password_logs_in_only_in_development(hot: App, web: TestClient) -> None:
    dev = UserService(hot.session_factory, hot.clock, allow_demo_password=True)
    dev.create("demo1", "演示", "agent", password=DEV_DEMO_PASSWORD)
    assert dev.authenticate("demo1", DEV_DEMO_PASSWORD).user is not None
    page = web.get("/login")  # this app runs with environment=test: not development
    token = page.cookies.get("hotline_login_csrf") or web.cookies.get("hotline_login_csrf")
    r = web.post(
        "/login",
        data={"username": "demo1", "password": DEV_DEMO_PASSWORD, "csrf_token": token or ""},
        follow_redirects=False,
    )
    assert r.status_code == 401


# ---- 7. full phone numbers through the API are audited; integrations see them masked ----------------------
def test_7_unmasked_reads_are_audited_and_integrations_masked(
    hot: App, web: TestClient, keys: dict[str, str]
) -> None:
    number = power_order(hot)

    def views() -> int:
        with hot.session_factory() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        AccessAudit.action == "view_phone", AccessAudit.subject == number
                    )
                )
                or 0
            )

    assert web.get(f"/api/work-orders/{number}", headers=h(keys["agent"])).json()["citizen_phone"] == PHONE
    assert views() == 1
    masked = web.get(f"/api/work-orders/{number}", headers=h(keys["integration"])).json()
    assert masked["citizen_phone"] == "139****1234" and views() == 1
    search = {"phone": PHONE}
    assert web.post("/api/work-orders/search", json=search, headers=h(keys["integration"])).status_code == 403
    found = web.post("/api/work-orders/search", json=search, headers=h(keys["granted"])).json()["items"]
    assert [o["citizen_phone"] for o in found] == [PHONE] and views() == 2
    assert web.get(f"/api/work-orders?phone={PHONE}", headers=h(keys["agent"])).status_code == 422


# ---- 8. sessions end on the server at log-out; Secure cookies behind https --------------------------------
def test_8_a_cookie_replayed_after_logout_is_refused(hot: App, web: TestClient) -> None:
    demo_accounts(hot)
    token = login(web, "agent1")
    stolen = web.cookies.get("hotline_session")
    assert stolen and web.get("/desk", follow_redirects=False).status_code == 200
    web.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    replay = TestClient(web.app, cookies={"hotline_session": stolen})
    r = replay.get("/desk", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_8_cookies_are_secure_when_the_public_url_is_https(hot: App) -> None:
    demo_accounts(hot)
    hot.settings.public_url = "https://12345.example.gov.cn"
    with TestClient(create_web_app(hot)) as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()
        assert "max-age=31536000" in page.headers["strict-transport-security"]


# ---- 9. body limits count the bytes that arrive ------------------------------------------------------------
def test_9_a_chunked_body_over_the_limit_is_refused_before_parsing(
    hot: App, web: TestClient, keys: dict[str, str]
) -> None:
    articles = count(hot, KbArticle)

    def chunks() -> Iterator[bytes]:
        yield b'{"key":"big","title":"t","body":"'
        for _ in range(1024):  # 1 MiB, announced by no Content-Length
            yield b"x" * 1024
        yield b'"}'

    r = web.post(
        "/api/kb/articles",
        content=chunks(),
        headers={**h(keys["supervisor"]), "content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["message_en"]
    assert count(hot, KbArticle) == articles


# ---- 10. Open311 reads: public view without personal data, capped pages, full reads with a key -------------
def test_10_open311_public_reads_carry_no_personal_data(
    hot: App, web: TestClient, keys: dict[str, str]
) -> None:
    number = power_order(hot, "我家（玉沙路8号302）停电了，家里有病人")
    public = web.get("/open311/v2/requests.json").json()
    row = next(r for r in public if r["service_request_id"] == number)
    assert row["description"] is None and row["address"] is None and row["status_notes"] is None
    assert "玉沙路" not in web.get(f"/open311/v2/requests/{number}.xml").text
    assert web.get("/open311/v2/requests.json?page_size=1000").status_code == 422
    full = web.get(f"/open311/v2/requests/{number}.json", headers=h(keys["agent"])).json()[0]
    assert "病人" in full["description"]
    assert web.get(f"/open311/v2/requests/{number}.json", headers=h(keys["housing_head"])).status_code == 404
    assert web.get(f"/open311/v2/requests/{number}.json", headers=h("hk_wrong")).status_code == 403


# ---- 11. the low ones ---------------------------------------------------------------------------------------
def test_11_failed_logins_answer_alike_for_real_and_unknown_names(hot: App, web: TestClient) -> None:
    demo_accounts(hot)
    token = web.get("/login") and web.cookies.get("hotline_login_csrf")

    def statuses(name: str) -> list[int]:
        form = {"username": name, "password": "wrong-password", "csrf_token": token or ""}
        return [web.post("/login", data=form).status_code for _ in range(7)]

    real, unknown = statuses("agent1"), statuses("nobody-here")
    assert real == unknown == [401, 401, 401, 401, 429, 429, 429]


def test_11_security_headers_and_closed_docs_in_production(hot: App, web: TestClient) -> None:
    for path in ("/login", "/api/stats", "/open311/v2/services.json"):
        headers = web.get(path).headers
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "strict-transport-security" not in headers  # plain http: no HSTS
    assert web.get("/docs").status_code == 200  # not production
    hot.settings.environment = "production"
    with TestClient(create_web_app(hot)) as prod:
        assert prod.get("/docs").status_code == 404
        assert prod.get("/openapi.json").status_code == 404


def test_11_invisible_text_and_false_category_are_refused(
    hot: App, web: TestClient, keys: dict[str, str]
) -> None:
    before = count(hot, work_orders)
    base = {"channel": "web", "citizen_phone": PHONE}
    zero_width = web.post(
        "/api/work-orders", json={**base, "description": "\u200b\u200b\ufeff"}, headers=h(keys["agent"])
    )
    false_category = web.post(
        "/api/work-orders",
        json={**base, "description": "路灯", "category_id": False},
        headers=h(keys["agent"]),
    )
    assert (zero_width.status_code, false_category.status_code) == (422, 422)
    assert count(hot, work_orders) == before


def test_11_phone_numbers_stay_out_of_query_strings(hot: App, web: TestClient) -> None:
    demo_accounts(hot)
    token = login(web, "agent1")
    assert web.get(f"/desk/history?phone={PHONE}").status_code == 405
    r = web.post("/desk/history", data={"phone": PHONE, "csrf_token": token})
    assert r.status_code == 200
    record = logging.LogRecord(
        "uvicorn.access", 20, "", 0, '%s - "%s %s"', ("1.2.3.4", "GET", "/x?p=13976001234"), None
    )
    from kernel.http_edge import RedactQueryDigits

    RedactQueryDigits().filter(record)
    assert PHONE not in record.getMessage()
