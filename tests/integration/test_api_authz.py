"""The API's authorization matrix: every operation of the REST, knowledge-base, suggestion and Open311 APIs
(taken from the route table, so a new route without an entry fails) × every key role and no key, on
SQLite and PostgreSQL. A unit's keys are also checked against another unit's order: 0 leaks.
The web desk's own matrix (pages and forms × user roles) is test_agent_ui_authz.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent_ui.testing import iter_api_routes
from hotline.bootstrap import App
from hotline.web import create_web_app
from routing.apikeys import API_ROLES, create_api_key
from routing.commands import IntakeCommand, TargetIn
from routing.domain.enums import Channel
from routing.domain.model import Actor

ANON = "anonymous"
INTEGRATION, AGENT, SUP, DEPT, HEAD, QA, ADMIN = API_ROLES
ANY_KEY = frozenset(API_ROLES)
PUBLIC = ANY_KEY | {ANON}
STAFF = frozenset({AGENT, SUP, ADMIN, INTEGRATION})
UNIT_WORK = frozenset({DEPT, SUP, ADMIN})
RULERS = frozenset({SUP, ADMIN})
KB_READERS = frozenset({AGENT, SUP, QA, ADMIN, INTEGRATION})
UNIT = "city.housing"
OTHER_UNIT = "utility.power"
ORDER = {"channel": "web", "description": "楼道灯坏了", "citizen_phone": "13812345678"}
ARTICLE = {"key": "k-{who}", "title": "标题", "body": "正文"}

EXPECTED: dict[tuple[str, str], tuple[frozenset[str], Any]] = {
    ("POST", "/api/work-orders"): (STAFF, ORDER),
    ("GET", "/api/work-orders"): (ANY_KEY, None),
    ("POST", "/api/work-orders/search"): (ANY_KEY, {}),
    ("GET", "/api/work-orders/{number}"): (ANY_KEY, None),
    ("GET", "/api/work-orders/{number}/events"): (ANY_KEY, None),
    ("POST", "/api/work-orders/{number}/dispatch"): (frozenset({AGENT, SUP, ADMIN}), {}),
    ("POST", "/api/work-orders/{number}/acknowledge"): (UNIT_WORK, {"unit_code": UNIT}),
    ("POST", "/api/work-orders/{number}/start"): (UNIT_WORK, {"unit_code": UNIT}),
    ("POST", "/api/work-orders/{number}/notes"): (UNIT_WORK, {"unit_code": UNIT, "reason": "进展"}),
    ("POST", "/api/work-orders/{number}/resolve"): (UNIT_WORK, {"unit_code": UNIT, "reply": "已修"}),
    ("POST", "/api/work-orders/{number}/return"): (frozenset({DEPT}), {"reason": "非本单位"}),
    ("POST", "/api/work-orders/{number}/return/ruling"): (RULERS, {"approve": False}),
    ("POST", "/api/work-orders/{number}/extension"): (frozenset({DEPT}), {"reason": "需时", "days": 3}),
    ("POST", "/api/work-orders/{number}/appeal"): (
        frozenset({DEPT}),
        {"reason": "申诉", "target": "callback"},
    ),
    ("POST", "/api/work-orders/{number}/requests/{kind}/decision"): (RULERS, {"approve": False}),
    ("POST", "/api/work-orders/{number}/callback"): (
        frozenset({AGENT, QA, SUP, HEAD, ADMIN}),
        {"outcome": "unreachable"},
    ),
    ("POST", "/api/work-orders/{number}/reopen"): (RULERS, {"reason": "重办"}),
    ("POST", "/api/work-orders/{number}/supervisions/{sup}/acknowledge"): (
        frozenset({DEPT, HEAD, SUP}),
        {"unit_code": UNIT},
    ),
    ("POST", "/api/work-orders/{number}/objection"): (frozenset({DEPT}), {"reason": "不属本单位辖区"}),
    ("POST", "/api/work-orders/{number}/objection/ruling"): (RULERS, {"unit_code": UNIT, "approve": False}),
    ("POST", "/api/work-orders/{number}/negotiation"): (
        frozenset({AGENT, SUP, ADMIN}),
        {"participants": [UNIT, "city.market"], "lead_unit": UNIT, "note": "协商"},
    ),
    ("GET", "/api/catalogues"): (ANY_KEY, None),
    ("POST", "/api/routing/suggest"): (STAFF, {"description": "路灯坏了"}),
    ("GET", "/api/departments"): (ANY_KEY, None),
    ("GET", "/api/categories"): (ANY_KEY, None),
    ("GET", "/api/alarms"): (ANY_KEY, None),
    ("GET", "/api/scores"): (ANY_KEY, None),
    ("GET", "/api/stats"): (ANY_KEY, None),
    ("GET", "/api/kb/search"): (KB_READERS, {"q": "路灯"}),  # a GET's dict is its query string
    ("GET", "/api/kb/articles/{article_id}"): (KB_READERS, None),
    ("GET", "/api/kb/articles/{article_id}/history"): (KB_READERS, None),
    ("POST", "/api/kb/articles"): (RULERS, ARTICLE),
    ("PUT", "/api/kb/articles/{article_id}"): (RULERS, {"title": "新标题"}),
    ("POST", "/api/suggest"): (STAFF, {"text": "路灯坏了"}),
    ("POST", "/api/suggest/feedback"): (
        frozenset({AGENT, SUP, ADMIN}),
        {"text": "路灯坏了", "suggested": {}, "chosen_level1": "城乡建设"},
    ),
    ("GET", "/open311/v2/discovery.{fmt}"): (PUBLIC, None),
    ("GET", "/open311/v2/services.{fmt}"): (PUBLIC, None),
    ("GET", "/open311/v2/services/{code}.{fmt}"): (PUBLIC, None),
    ("GET", "/open311/v2/requests.{fmt}"): (PUBLIC, None),
    ("GET", "/open311/v2/requests/{number}.{fmt}"): (PUBLIC, None),
    ("POST", "/open311/v2/requests.{fmt}"): (STAFF, "open311-form"),
}
KEYED_MODULES = ("routing.api", "routing.kb", "routing.suggest", "routing.open311")


def api_routes(web: Any) -> set[tuple[str, str]]:
    found = set()
    for path, route in iter_api_routes(web.routes):
        if route.endpoint.__module__.startswith(KEYED_MODULES):
            found |= {(m, path) for m in route.methods if m != "HEAD"}
    return found


def _order(hot: App, unit: str) -> str:
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            description="楼道灯坏了",
            citizen_phone="13812345678",
            targets=[TargetIn(unit_code=unit)],
        ),
        Actor("seed", "agent"),
    )
    return order.number


@pytest.fixture
def setup(hot: App) -> tuple[TestClient, dict[str, str], dict[str, str]]:
    holder: Any
    web = create_web_app(hot)
    from tests.integration.test_security_fuzz import _StubEngine

    holder = hot.routing.suggestions
    holder._engine = _StubEngine()
    with hot.session_factory() as session, session.begin():
        keys = {
            role: create_api_key(session, f"m-{role}", role, UNIT if role in (DEPT, HEAD) else None)
            for role in API_ROLES
        }
        others = {role: create_api_key(session, f"o-{role}", role, OTHER_UNIT) for role in (DEPT, HEAD)}
    return TestClient(web, raise_server_exceptions=False), keys, others


def _call(client: TestClient, method: str, path: str, body: Any, key: str | None, who: str) -> int:
    headers = {"X-API-Key": key} if key else {}
    if body == "open311-form":
        form = {
            "service_code": "1",
            "description": "路灯坏了",
            "phone": "13812345678",
            "address_string": "海口",
        }
        if key:
            form["api_key"] = key
        return client.post(path, data=form).status_code
    if isinstance(body, dict):
        body = {k: (v.format(who=who) if isinstance(v, str) else v) for k, v in body.items()}
    if method == "GET":
        return client.get(path, params=body, headers=headers).status_code
    return client.request(method, path, json=body, headers=headers).status_code


def test_every_api_route_has_an_entry(hot: App) -> None:
    routes = api_routes(create_web_app(hot))
    assert routes - EXPECTED.keys() == set(), "API routes without an authorization entry"
    assert EXPECTED.keys() - routes == set(), "entries for routes that no longer exist"


@pytest.mark.parametrize("who", [ANON, *API_ROLES])
def test_api_authorization_matrix(hot: App, setup: Any, who: str) -> None:
    client, keys, _ = setup
    key = keys.get(who)
    values = {
        "number": _order(hot, UNIT),
        "kind": "extension",
        "sup": "DB0",
        "article_id": 1,
        "fmt": "json",
        "code": "1",
    }
    for (method, path), (allowed_roles, body) in EXPECTED.items():
        status = _call(client, method, path.format(**values), body, key, who)
        allowed = who in allowed_roles
        assert status < 500, (method, path, who, status)
        assert (status in (401, 403)) != allowed, (method, path, who, status)


@pytest.mark.parametrize("role", [DEPT, HEAD])
def test_another_units_key_learns_nothing_of_an_order(hot: App, setup: Any, role: str) -> None:
    client, _, others = setup
    number = _order(hot, UNIT)
    values = {
        "number": number,
        "kind": "extension",
        "sup": "DB0",
        "article_id": 1,
        "fmt": "json",
        "code": "1",
    }
    leaks = []
    for (method, path), (_roles, body) in EXPECTED.items():
        if "{number}" not in path or path.startswith("/open311/"):
            continue
        status = _call(client, method, path.format(**values), body, others[role], role)
        if status not in (403, 404):
            leaks.append((method, path, status))
    listed = client.get("/api/work-orders", headers={"X-API-Key": others[role]}).json()["items"]
    assert leaks == [] and number not in [o["number"] for o in listed]
    r = client.get(f"/open311/v2/requests/{number}.json", headers={"X-API-Key": others[role]})
    assert r.status_code == 404
