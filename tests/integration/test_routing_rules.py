"""The national rules through the service and the REST API, on SQLite and PostgreSQL: catalogue editions
chosen at ``now``, no push-down to streets, objections with their review, negotiation, confidential
callers, and cards in the scores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agent_ui.orm import AccessAudit
from hotline.bootstrap import App
from hotline.web import create_web_app
from kernel.clock import FakeClock
from routing.apikeys import create_api_key
from routing.catalogue import EditionHeader, load_edition
from routing.commands import IntakeCommand
from routing.domain.errors import Conflict
from routing.domain.model import Actor
from routing.orm import order_audit, work_orders
from routing.reference import data_file, default_taxonomy_csv

PROPERTY = (
    "城乡建设/住房保障与房地产/物业服务"  # the catalogue: the district's housing bureau (a functional dept)
)
MEILAN_HOUSING = "district_bureau.meilan.housing"
STREET = "street.meilan.haidian"
ORDER = {
    "channel": "web",
    "description": "海甸岛白沙门公园旁小区楼道堆放杂物，存在消防隐患",
    "citizen_phone": "13976001234",
    "citizen_name": "王明",
    "location_text": "美兰区海甸岛白沙门",
    "district": "美兰区",
    "category_path": PROPERTY,
}


@pytest.fixture
def keys(hot: App) -> dict[str, str]:
    with hot.session_factory() as session, session.begin():
        return {
            "agent": create_api_key(session, "desk", "agent"),
            "supervisor": create_api_key(session, "boss", "supervisor"),
            "housing": create_api_key(session, "meilan-housing", "department", MEILAN_HOUSING),
            "street": create_api_key(session, "haidian", "department", STREET),
            "head": create_api_key(session, "haidian-head", "department_head", STREET),
        }


@pytest.fixture
def api(hot: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(hot, components=("routing.api", "agent_ui.app"))) as client:
        yield client


def h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def rows(hot: App, table: object) -> int:
    with hot.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def intake(hot: App, **extra: object) -> str:
    cmd = IntakeCommand.model_validate({**ORDER, **extra})
    return hot.work_orders.intake(cmd, Actor("agent1", "agent")).number


# ---- catalogue editions ------------------------------------------------------------------------------
def edition_files(tmp_path: Path, version: str, effective: str, lead: str) -> tuple[EditionHeader, Path]:
    doc = yaml.safe_load(data_file("category_units.yaml").read_text(encoding="utf-8"))
    for rule in doc["rules"]:
        if rule.get("level3") == "物业服务":
            rule["lead"], rule["district_lead"] = lead, None
    doc["catalogue"] = {"version": version, "effective_from": effective}
    path = tmp_path / f"category_units_{version}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return EditionHeader(version, datetime.fromisoformat(effective).astimezone(UTC)), path


def test_the_edition_in_force_at_now_routes_and_is_recorded(
    hot: App, clock: FakeClock, tmp_path: Path
) -> None:
    first = hot.work_orders.get(intake(hot))
    assert first.lead_unit == MEILAN_HOUSING and first.catalogue_version == "2026.1"
    header, path = edition_files(tmp_path, "2026.2", "2026-12-01T00:00:00+08:00", "city.market")
    with hot.session_factory() as session, session.begin():
        _edition, changed = load_edition(
            session,
            header,
            default_taxonomy_csv(),
            path,
            data_file("dispatch_rules.yaml"),
            now=clock.now(),
            loaded_by="test",
        )
    assert changed
    hot.work_orders.reference_changed()
    before = hot.work_orders.get(intake(hot))
    assert before.lead_unit == MEILAN_HOUSING and before.catalogue_version == "2026.1"  # not yet in force
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 2026-12-01 00:00 in Haikou
    after = hot.work_orders.get(intake(hot))
    assert after.lead_unit == "city.market" and after.catalogue_version == "2026.2"
    dispatch = next(e for e in after.history if e.action == "dispatch")
    assert dispatch.after["catalogue"] == "2026.2"
    # an edition in force never changes: a correction is a new version
    header2, path2 = edition_files(tmp_path, "2026.2", "2026-12-01T00:00:00+08:00", "city.housing")
    with hot.session_factory() as session, session.begin(), pytest.raises(Conflict):
        load_edition(
            session,
            header2,
            default_taxonomy_csv(),
            path2,
            data_file("dispatch_rules.yaml"),
            now=clock.now(),
            loaded_by="test",
        )


def test_reseeding_the_shipped_edition_changes_nothing(hot: App, clock: FakeClock) -> None:
    from routing.reference import seed_all

    with hot.session_factory() as session, session.begin():
        report = seed_all(session, now=clock.now())
    assert report.catalogue_version == "2026.1"


def test_catalogue_editions_over_http(api: TestClient, keys: dict[str, str]) -> None:
    (edition,) = api.get("/api/catalogues", headers=h(keys["agent"])).json()
    assert edition["version"] == "2026.1" and edition["in_force"] and edition["categories"] == 517


# ---- dispatch rules over HTTP ------------------------------------------------------------------------
def test_a_functional_departments_matter_is_not_dispatched_to_a_street(
    hot: App, api: TestClient, keys: dict[str, str]
) -> None:
    r = api.post(
        "/api/work-orders", json={**ORDER, "targets": [{"unit_code": STREET}]}, headers=h(keys["agent"])
    )
    assert r.status_code == 422 and "66" in r.json()["message"] and r.json()["message_en"]
    assert rows(hot, work_orders) == 0  # nothing written
    r = api.post(
        "/api/work-orders",
        json={**ORDER, "targets": [{"unit_code": MEILAN_HOUSING}, {"unit_code": STREET, "role": "assist"}]},
        headers=h(keys["agent"]),
    )
    assert r.status_code == 201, r.text  # a street may assist


def test_objection_review_and_negotiation_over_http(
    hot: App, api: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    body = {**ORDER, "targets": [{"unit_code": MEILAN_HOUSING}, {"unit_code": STREET, "role": "assist"}]}
    number = api.post("/api/work-orders", json=body, headers=h(keys["agent"])).json()["number"]
    r = api.post(
        f"/api/work-orders/{number}/objection",
        json={"reason": "该小区不在本街道辖区", "proposed_unit": "street.meilan.baisha"},
        headers=h(keys["street"]),
    )
    assert r.status_code == 200, r.text
    (objection,) = [x for x in r.json()["requests"] if x["kind"] == "objection"]
    assert objection["status"] == "pending" and objection["proposed_unit"] == "street.meilan.baisha"
    assert [d for d in r.json()["deadlines"] if d["kind"] == "objection_review" and not d["cancelled_at"]]
    r = api.post(
        f"/api/work-orders/{number}/objection/ruling",
        json={
            "unit_code": STREET,
            "approve": True,
            "note": "属白沙街道",
            "replacement": "street.meilan.baisha",
        },
        headers=h(keys["street"]),
    )
    assert r.status_code == 403  # a unit does not rule on its own objection
    r = api.post(
        f"/api/work-orders/{number}/objection/ruling",
        json={
            "unit_code": STREET,
            "approve": True,
            "note": "属白沙街道",
            "replacement": "street.meilan.baisha",
        },
        headers=h(keys["supervisor"]),
    )
    assert r.status_code == 200, r.text
    assert {u["unit_code"] for u in r.json()["units"]} == {MEILAN_HOUSING, "street.meilan.baisha"}
    clock.advance(hours=25)
    r = api.post(
        f"/api/work-orders/{number}/return", json={"reason": "非本单位职责"}, headers=h(keys["housing"])
    )
    assert r.status_code == 409 and "window" in r.json()["message_en"]  # past the objection window
    # the hotline negotiates a lead and co-handlers
    r = api.post(
        f"/api/work-orders/{number}/negotiation",
        json={
            "participants": [MEILAN_HOUSING, "city.fire", "street.meilan.baisha"],
            "lead_unit": MEILAN_HOUSING,
            "assist_units": ["city.fire"],
            "note": "三方电话协商：住建主办，消防协办",
        },
        headers=h(keys["agent"]),
    )
    assert r.status_code == 200, r.text
    (talk,) = r.json()["negotiations"]
    assert talk["participants"] == [MEILAN_HOUSING, "city.fire", "street.meilan.baisha"]
    assert {(u["unit_code"], u["role"]) for u in r.json()["units"]} == {
        (MEILAN_HOUSING, "lead"),
        ("city.fire", "assist"),
    }
    r = api.post(
        f"/api/work-orders/{number}/negotiation",
        json={"participants": [STREET, MEILAN_HOUSING], "lead_unit": STREET, "note": "x"},
        headers=h(keys["supervisor"]),
    )
    assert r.status_code == 422  # no push-down, even by negotiation


# ---- the confidential caller -------------------------------------------------------------------------
def test_units_never_see_a_confidential_caller(hot: App, api: TestClient, keys: dict[str, str]) -> None:
    body = {
        **ORDER,
        "confidential": True,
        "targets": [{"unit_code": MEILAN_HOUSING}, {"unit_code": STREET, "role": "assist"}],
    }
    r = api.post("/api/work-orders", json=body, headers=h(keys["agent"]))
    assert r.status_code == 201 and r.json()["confidential"] is True
    number = r.json()["number"]
    for key in ("housing", "street", "head"):
        seen = api.get(f"/api/work-orders/{number}", headers=h(keys[key])).text
        trail = api.get(f"/api/work-orders/{number}/events", headers=h(keys[key])).text
        listed = api.get("/api/work-orders", headers=h(keys[key])).text
        for text in (seen, trail, listed):
            assert "13976001234" not in text and "139****1234" not in text and "王明" not in text
    full = api.get(f"/api/work-orders/{number}", headers=h(keys["supervisor"])).json()
    assert full["citizen_phone"] == "13976001234" and full["citizen_name"] == "王明"
    with hot.session_factory() as session:  # the hotline's view lands in the desk's access audit
        seen_by = set(session.scalars(select(AccessAudit.username).where(AccessAudit.subject == number)))
    assert "api:boss" in seen_by and not {"api:meilan-housing", "api:haidian", "api:haidian-head"} & seen_by
    # an ordinary order: the unit sees the number masked, as before
    plain = api.post(
        "/api/work-orders",
        json={**ORDER, "targets": [{"unit_code": MEILAN_HOUSING}]},
        headers=h(keys["agent"]),
    )
    masked = api.get(f"/api/work-orders/{plain.json()['number']}", headers=h(keys["housing"])).json()
    assert masked["citizen_phone"] == "139****1234" and masked["citizen_name"] == "王明"


# ---- cards in the scores -------------------------------------------------------------------------------
def test_cards_show_in_the_units_scores(
    hot: App, api: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    body = {**ORDER, "targets": [{"unit_code": MEILAN_HOUSING}]}
    number = api.post("/api/work-orders", json=body, headers=h(keys["agent"])).json()["number"]
    clock.advance(minutes=20)
    hot.scheduler.run_once()
    order = api.get(f"/api/work-orders/{number}", headers=h(keys["housing"])).json()
    assert [(c["color"], c["clock"]) for c in order["cards"]] == [("yellow", "response")]
    clock.advance(minutes=10)
    hot.scheduler.run_once()
    (score,) = api.get("/api/scores", headers=h(keys["housing"])).json()
    assert score["yellow_cards"] == 1 and score["red_cards"] == 1 and score["responses_late"] == 1
    with hot.session_factory() as session:
        actions = set(session.scalars(select(order_audit.c.action)))
    assert {"yellow_card", "red_card"} <= actions
