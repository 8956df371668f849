"""The authorization matrix: every route of the web desk × every role (and anonymous), against an explicit
table. A route added without an entry here fails the test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from agent_ui.roles import Role
from agent_ui.testing import demo_accounts, iter_api_routes, login, make_web
from agent_ui.users import UserService
from hotline.bootstrap import App
from hotline.web import create_web_app
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor

ANON = "anonymous"
AGENT, SUP, QA, HANDLER, HEAD, ADMIN = (r.value for r in Role)
EVERY_ROLE = frozenset({AGENT, SUP, QA, HANDLER, HEAD, ADMIN})
PUBLIC = EVERY_ROLE | {ANON}
DESK = frozenset({AGENT, SUP, ADMIN})
DEPT = frozenset({HANDLER, HEAD})
SUPERVISION = frozenset({SUP, ADMIN})
QUALITY = frozenset({QA, SUP, ADMIN})
RECORDINGS = frozenset({SUP, QA, ADMIN})
CALLBACKS = frozenset({AGENT, QA, SUP, ADMIN})
SCORECARD_EDITORS = frozenset({QA, ADMIN})
ADMINS = frozenset({ADMIN})

ANALYTICS_PAGES = ("/analytics", "/bigscreen")  # served by the desk, with analytics' parts
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): EVERY_ROLE,
    ("GET", "/desk"): DESK,
    ("GET", "/desk/pop"): DESK,
    ("GET", "/desk/live"): DESK,
    ("GET", "/desk/transcript"): DESK,
    ("GET", "/desk/status-panel"): DESK,
    ("POST", "/desk/status"): DESK,
    ("POST", "/desk/suggest"): DESK,
    ("POST", "/desk/orders"): DESK,
    ("POST", "/desk/history"): DESK,
    ("POST", "/desk/emergency"): DESK,
    ("GET", "/desk/kb"): DESK,
    ("GET", "/desk/stream"): DESK,
    ("GET", "/dept/inbox"): DEPT,
    ("POST", "/dept/orders/{number}/acknowledge"): DEPT,
    ("POST", "/dept/orders/{number}/start"): DEPT,
    ("POST", "/dept/orders/{number}/note"): DEPT,
    ("POST", "/dept/orders/{number}/resolve"): DEPT,
    ("POST", "/dept/orders/{number}/return"): DEPT,
    ("POST", "/dept/orders/{number}/extension"): DEPT,
    ("POST", "/dept/orders/{number}/supervision/{supervision}/acknowledge"): DEPT,
    ("POST", "/dept/orders/{number}/objection"): DEPT,
    ("GET", "/supervisor/wallboard"): SUPERVISION,
    ("GET", "/bigscreen"): SUPERVISION,
    ("GET", "/bigscreen/data"): SUPERVISION,
    ("GET", "/bigscreen/stream"): SUPERVISION,
    ("GET", "/analytics"): SUPERVISION,
    ("GET", "/analytics/hot-events"): SUPERVISION,
    ("POST", "/analytics/hot-events/{event_id}/merge"): SUPERVISION,
    ("POST", "/analytics/hot-events/{event_id}/dismiss"): SUPERVISION,
    ("POST", "/analytics/orders/{number}/unmerge"): SUPERVISION,
    ("GET", "/analytics/staffing"): SUPERVISION,
    ("GET", "/analytics/migratory"): SUPERVISION,
    ("GET", "/analytics/playbooks"): SUPERVISION,
    ("POST", "/analytics/playbooks/{code}"): SUPERVISION,
    ("GET", "/analytics/reports"): SUPERVISION,
    ("GET", "/analytics/reports/download"): SUPERVISION,
    ("GET", "/supervisor/wallboard/panel"): SUPERVISION,
    ("GET", "/supervisor/wallboard/stream"): SUPERVISION,
    ("GET", "/supervisor/rulings"): SUPERVISION,
    ("GET", "/supervisor/callbacks"): SUPERVISION,
    ("GET", "/supervisor/callbacks.json"): SUPERVISION,
    ("POST", "/supervisor/orders/{number}/rule-return"): SUPERVISION,
    ("POST", "/supervisor/orders/{number}/decide"): SUPERVISION,
    ("POST", "/supervisor/reopen"): SUPERVISION,
    ("POST", "/supervisor/orders/{number}/rule-objection"): SUPERVISION,
    ("GET", "/supervisor/negotiations"): SUPERVISION,
    ("POST", "/supervisor/orders/{number}/negotiate"): SUPERVISION,
    ("GET", "/supervisor/monitor"): SUPERVISION,
    ("POST", "/supervisor/calls/{call_id}/monitor"): SUPERVISION,
    ("POST", "/supervisor/monitor/{session_id}/stop"): SUPERVISION,
    ("GET", "/qa/callbacks"): CALLBACKS,
    ("POST", "/qa/callbacks/{number}"): CALLBACKS,
    ("GET", "/qa/reviews"): QUALITY,
    ("POST", "/qa/samples/run"): QUALITY,
    ("GET", "/qa/reviews/{recording_id}"): QUALITY,
    ("POST", "/qa/reviews/{recording_id}"): QUALITY,
    ("GET", "/qa/agents/{agent}"): QUALITY,
    ("GET", "/qa/scorecards"): QUALITY,
    ("POST", "/qa/scorecards"): SCORECARD_EDITORS,
    ("GET", "/orders/{number}"): EVERY_ROLE,
    ("POST", "/orders/{number}/reveal-phone"): EVERY_ROLE,
    ("GET", "/recordings"): RECORDINGS,
    ("GET", "/recordings/{recording_id}"): RECORDINGS,
    ("GET", "/admin/users"): ADMINS,
    ("POST", "/admin/users"): ADMINS,
    ("POST", "/admin/users/{username}/reset-password"): ADMINS,
    ("GET", "/admin/audit"): ADMINS,
}


def desk_routes(web: object) -> set[tuple[str, str]]:
    found = set()
    for path, route in iter_api_routes(web.routes):  # type: ignore[attr-defined]
        if route.endpoint.__module__.startswith("agent_ui"):
            for method in route.methods:
                found.add((method, path))
    return found


def _denied(response: object) -> bool:
    status = response.status_code  # type: ignore[attr-defined]
    location = response.headers.get("location", "")  # type: ignore[attr-defined]
    return status in (401, 403) or (status == 303 and location.startswith("/login?next="))


def test_every_desk_route_has_an_entry(hot: App) -> None:
    web = create_web_app(hot)  # as composed for real: the desk's own pages and those it serves for analytics
    routes = desk_routes(web)
    assert routes - EXPECTED.keys() == set(), "routes without an authorization entry"
    assert EXPECTED.keys() - routes == set(), "entries for routes that no longer exist"
    mounts = [r for r in web.routes if isinstance(r, Mount)]
    assert [m.path for m in mounts] == ["/ui-static"]
    assert routes == desk_routes(make_web(hot.desk)) | {r for r in routes if r[1].startswith(ANALYTICS_PAGES)}


def test_static_files_are_public(hot: App) -> None:
    client = TestClient(make_web(hot.desk))
    assert client.get("/ui-static/app.css").status_code == 200
    assert client.get("/ui-static/vendor/htmx.min.js").status_code == 200


@pytest.mark.parametrize("who", [ANON, AGENT, SUP, QA, HANDLER, HEAD, ADMIN])
def test_authorization_matrix(hot: App, who: str) -> None:
    web = create_web_app(hot)
    web.state.ui_sse_lifetime = 0  # server-sent event streams end at once in this test
    demo_accounts(hot)
    UserService(hot.session_factory, hot.clock).create(
        "victim", "Victim", AGENT, password="victim-password-1"
    )
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            category_path=_housing_category(hot),
            description="楼道灯坏了",
            citizen_phone="13812345678",
        ),
        Actor("seed", "agent"),
    )
    values = {
        "number": order.number,
        "supervision": "DB0000",
        "call_id": "call-1",
        "username": "victim",
        "recording_id": "999",
        "agent": "agent1",
        "session_id": "mon-1",
        "event_id": "999",
        "code": "gaokao",
    }
    client = TestClient(web)
    usernames = {AGENT: "agent1", SUP: "leader1", QA: "qa1", HANDLER: "dept1", HEAD: "head1", ADMIN: "admin"}
    token = ""
    if who == ANON:
        client.get("/login")
    else:
        token = login(client, usernames[who])
    ordered = sorted(EXPECTED, key=lambda k: k == ("POST", "/logout"))  # log out last
    for method, path in ordered:
        url = path.format(**values)
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        else:
            form = {"csrf_token": token}
            if who == ANON and path == "/login":
                form["csrf_token"] = client.cookies.get("hotline_login_csrf", "")
            response = client.post(url, data=form, follow_redirects=False)
        allowed = who in EXPECTED[(method, path)]
        assert response.status_code < 500, (method, path, who, response.status_code)
        assert _denied(response) != allowed, (method, path, who, response.status_code)


def _housing_category(hot: App) -> str:
    from sqlalchemy import select

    from routing.orm import Category

    with hot.session_factory() as session:
        path = session.scalar(
            select(Category.path)
            .where(Category.lead_unit == "city.housing", Category.district_lead.is_(None))
            .limit(1)
        )
    assert path is not None
    return path
