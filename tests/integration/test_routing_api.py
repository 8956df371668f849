"""The REST API over HTTP (FastAPI TestClient) on SQLite and PostgreSQL: roles, errors, audit, scores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.bootstrap import App
from hotline.web import create_web_app
from kernel.clock import FakeClock
from routing.apikeys import create_api_key
from routing.orm import order_audit, work_orders


@pytest.fixture
def keys(hot: App) -> dict[str, str]:
    with hot.session_factory() as session, session.begin():
        return {
            "agent": create_api_key(session, "desk", "agent"),
            "supervisor": create_api_key(session, "boss", "supervisor"),
            "meilan": create_api_key(
                session, "meilan-housing", "department", "district_bureau.meilan.housing"
            ),
            "power": create_api_key(session, "power", "department", "utility.power"),
        }


@pytest.fixture
def api(hot: App) -> Iterator[TestClient]:
    with TestClient(
        create_web_app(hot, components=("routing.api", "routing.open311", "agent_ui.app"))
    ) as client:
        yield client


def h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


ORDER = {
    "channel": "web",
    "description": "海甸岛白沙门公园旁小区楼道堆放杂物，存在消防隐患",
    "citizen_phone": "13976001234",
    "location_text": "美兰区海甸岛白沙门",
    "district": "美兰区",
    "category_path": "城乡建设/住房保障与房地产/物业服务",
}


def count_rows(hot: App) -> tuple[int, int]:
    with hot.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(work_orders)) or 0,
            session.scalar(select(func.count()).select_from(order_audit)) or 0,
        )


def test_department_lifecycle_over_http(
    hot: App, api: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    r = api.post("/api/work-orders", json=ORDER, headers=h(keys["agent"]))
    assert r.status_code == 201, r.text
    order = r.json()
    number, lead = order["number"], order["lead_unit"]
    assert order["state"] == "dispatched" and order["citizen_phone"] == "13976001234"
    dept = keys["meilan"] if lead == "district_bureau.meilan.housing" else None
    if dept is None:
        with hot.session_factory() as session, session.begin():
            dept = create_api_key(session, "lead-unit", "department", lead)
    seen = api.get(f"/api/work-orders/{number}", headers=h(dept)).json()
    assert seen["citizen_phone"] == "139****1234"  # departments see a masked number
    assert api.get(f"/api/work-orders/{number}", headers=h(keys["power"])).status_code == 404
    assert (
        api.post(f"/api/work-orders/{number}/acknowledge", json={}, headers=h(keys["power"])).status_code
        == 404  # another unit's order is not confirmed to exist, for writes as for reads
    )
    r = api.post(f"/api/work-orders/{number}/acknowledge", json={}, headers=h(dept))
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = api.post(f"/api/work-orders/{number}/acknowledge", json={}, headers=h(dept))
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = api.post(f"/api/work-orders/{number}/resolve", json={"reply": "已清理楼道杂物"}, headers=h(dept))
    assert r.json()["state"] == "resolved"
    r = api.post(
        f"/api/work-orders/{number}/callback",
        json={"outcome": "satisfied", "solved": True, "rating": 5},
        headers=h(keys["agent"]),
    )
    assert r.json()["state"] == "closed"
    events = api.get(f"/api/work-orders/{number}/events", headers=h(keys["supervisor"])).json()
    assert [e["action"] for e in events] == ["accept", "dispatch", "acknowledge", "resolve", "close"]
    assert events[2]["actor"] == "api:lead-unit" or events[2]["actor"].startswith("api:")
    scores = api.get("/api/scores", headers=h(dept)).json()
    assert [s["unit_code"] for s in scores] == [lead]
    assert scores[0]["satisfaction_rate"] == 1.0


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({**ORDER, "category_path": "没有/这个/分类"}, 422, "invalid_input"),
        ({**ORDER, "citizen_phone": "12345"}, 422, None),
        ({**ORDER, "citizen_phone": "abc"}, 422, None),
        ({**ORDER, "description": "长" * 5001}, 422, None),
        ({**ORDER, "district": "朝阳区"}, 422, None),
        ({**ORDER, "channel": "fax"}, 422, None),
        ({**ORDER, "surprise": 1}, 422, None),
        ({**ORDER, "targets": [{"unit_code": "nope"}]}, 422, "invalid_input"),
    ],
)
def test_bad_input_gets_a_reason_and_changes_nothing(
    hot: App, api: TestClient, keys: dict[str, str], body: dict[str, object], status: int, error: str | None
) -> None:
    before = count_rows(hot)
    r = api.post("/api/work-orders", json=body, headers=h(keys["agent"]))
    assert r.status_code == status, r.text
    if error:
        assert r.json()["error"] == error and r.json()["message"]
    else:
        assert r.json()["detail"][0]["msg"]
    assert count_rows(hot) == before


def test_malformed_json_oversized_body_and_missing_key(
    hot: App, api: TestClient, keys: dict[str, str]
) -> None:
    r = api.post(
        "/api/work-orders",
        content=b"{not json",
        headers={**h(keys["agent"]), "content-type": "application/json"},
    )
    assert r.status_code == 422 and "JSON" in r.text
    r = api.post(
        "/api/work-orders",
        content=b"x" * 70_000,
        headers={**h(keys["agent"]), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert api.post("/api/work-orders", json=ORDER).status_code == 401
    assert api.post("/api/work-orders", json=ORDER, headers=h("hk_wrong")).status_code == 401
    assert api.post("/api/work-orders", json=ORDER, headers=h(keys["meilan"])).status_code == 403
    assert count_rows(hot) == (0, 0)


def test_illegal_transition_is_409_with_a_chinese_reason(api: TestClient, keys: dict[str, str]) -> None:
    number = api.post("/api/work-orders", json=ORDER, headers=h(keys["agent"])).json()["number"]
    r = api.post(
        f"/api/work-orders/{number}/reopen", json={"reason": "再次投诉"}, headers=h(keys["supervisor"])
    )
    assert r.status_code == 409
    assert "不能重办" in r.json()["message"] and r.json()["message_en"]


def test_return_arbitration_and_extension_over_http(hot: App, api: TestClient, keys: dict[str, str]) -> None:
    order = api.post(
        "/api/work-orders",
        json={**ORDER, "targets": [{"unit_code": "utility.power"}]},
        headers=h(keys["agent"]),
    ).json()
    number = order["number"]
    r = api.post(
        f"/api/work-orders/{number}/return",
        json={"reason": "楼道杂物不属于供电职责"},
        headers=h(keys["power"]),
    )
    assert r.json()["state"] == "returned"
    r = api.post(
        f"/api/work-orders/{number}/return/ruling",
        json={
            "approve": True,
            "note": "改派美兰区住建",
            "targets": [{"unit_code": "district_bureau.meilan.housing"}],
        },
        headers=h(keys["supervisor"]),
    )
    assert r.status_code == 200 and r.json()["lead_unit"] == "district_bureau.meilan.housing"
    api.post(f"/api/work-orders/{number}/acknowledge", json={}, headers=h(keys["meilan"]))
    r = api.post(
        f"/api/work-orders/{number}/extension",
        json={"days": 3, "reason": "需业主配合清理"},
        headers=h(keys["meilan"]),
    )
    assert r.status_code == 200
    due = r.json()["resolution_due_at"]
    r = api.post(
        f"/api/work-orders/{number}/requests/extension/decision",
        json={"approve": True},
        headers=h(keys["supervisor"]),
    )
    assert r.json()["resolution_due_at"] > due


def test_reference_endpoints(api: TestClient, keys: dict[str, str]) -> None:
    units = api.get("/api/departments", headers=h(keys["agent"])).json()
    assert len(units) >= 60 and sum(len(u["duties"]) for u in units) >= 300
    assert {u["code"] for u in units} >= {
        "district.xiuying",
        "district.longhua",
        "district.qiongshan",
        "district.meilan",
    }
    cats = api.get("/api/categories", headers=h(keys["agent"])).json()
    assert len(cats) == 517
    r = api.post(
        "/api/routing/suggest",
        json={"description": "小区燃气泄漏，楼道里全是煤气味"},
        headers=h(keys["agent"]),
    )
    assert r.json()["urgent_class"] == "gas_leak" and r.json()["targets"][0]["unit_code"] == "utility.gas"
    assert api.get("/openapi.json").status_code == 200
