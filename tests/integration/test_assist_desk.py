"""The order form that fills itself, on the desk (SQLite and PostgreSQL): the page carries the call's
suggested values, filing records per field what the agent kept or changed, bad input changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agent_ui.live import AutofillReady, DeskFeed, FilledField
from agent_ui.testing import demo_accounts, login, make_web
from hotline.bootstrap import App
from routing.orm import Category, work_orders
from routing.suggest.orm import AssistFieldChoice

PATH = "城乡建设/城市建设和市政管理/城市公共设施"


@pytest.fixture
def desk(hot: App) -> dict[str, Any]:
    demo_accounts(hot)
    web = make_web(hot.desk)
    client = TestClient(web)
    token = login(client, "agent1")
    with hot.session_factory() as session:
        cat = session.scalar(select(Category.id).where(Category.path == PATH))
    feed: DeskFeed = web.state.ui_feed
    return {"client": client, "token": token, "category": cat, "feed": feed}


def _suggested(desk: dict[str, Any]) -> None:
    feed: DeskFeed = desk["feed"]
    feed.call_answered("agent1", "call-af", "13800138000", "consultation")
    feed.autofill(
        AutofillReady(
            "call-af",
            (
                FilledField(
                    "citizen_phone", "13800138000", "13800138000", "screen_pop", "来电号码", ("13907551234",)
                ),
                FilledField("district", "美兰区", "美兰区", "speech", "按地名：海甸岛"),
                FilledField("location_text", "海甸岛和平大道32号门口", "", "speech", "按地名"),
                FilledField("category", PATH, PATH, "model", "分类模型 0.82"),
                FilledField("case_type", "complaint", "投诉", "speech", "听到「坏了」"),
            ),
        )
    )


def test_the_desk_page_carries_the_calls_suggested_values(hot: App, desk: dict[str, Any]) -> None:
    _suggested(desk)
    page = desk["client"].get("/desk").text
    data = json.loads(page.split('id="autofill-data">', 1)[1].split("</script>", 1)[0])
    assert data["call_id"] == "call-af"
    assert data["fields"]["district"]["value"] == "美兰区"
    assert data["fields"]["category"]["id"] == desk["category"], "the picker selects by id"
    assert data["fields"]["citizen_phone"]["offers"] == ["13907551234"]
    assert 'data-af-for="district"' in page and 'name="assist_state"' in page and 'id="unit_code"' in page


def test_filing_records_per_field_what_the_agent_kept_or_changed(hot: App, desk: dict[str, Any]) -> None:
    _suggested(desk)
    state = {
        "citizen_phone": {"suggested": "13800138000", "source": "screen_pop", "state": "suggested"},
        "district": {"suggested": "美兰区", "source": "speech", "state": "accepted"},
        "location_text": {"suggested": "海甸岛和平大道32号门口", "source": "speech", "state": "edited"},
        "category": {"suggested": PATH, "source": "model", "state": "suggested"},
        "case_type": {"suggested": "complaint", "source": "speech", "state": "edited"},
        "unit": {"suggested": "", "source": "model", "state": "suggested"},
        "not_a_field": {"suggested": "x"},
    }
    r = desk["client"].post(
        "/desk/orders",
        data={
            "csrf_token": desk["token"],
            "call_id": "call-af",
            "citizen_phone": "13800138000",
            "category_id": str(desk["category"]),
            "district": "美兰区",
            "location_text": "海甸岛和平大道30号",
            "case_type": "",
            "description": "路灯坏了一个星期",
            "unit_code": "city.municipal",
            "assist_state": json.dumps(state, ensure_ascii=False),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    with hot.session_factory() as session:
        rows = {
            row.field: (row.suggested, row.final, row.outcome)
            for row in session.scalars(
                select(AssistFieldChoice).where(AssistFieldChoice.call_id == "call-af")
            )
        }
        order_id = session.scalar(
            select(AssistFieldChoice.order_id).where(AssistFieldChoice.call_id == "call-af")
        )
        number = session.scalar(select(work_orders.c.number).where(work_orders.c.id == order_id))
    assert rows == {
        "citizen_phone": ("13800138000", "13800138000", "kept"),
        "district": ("美兰区", "美兰区", "accepted"),
        "location_text": ("海甸岛和平大道32号门口", "海甸岛和平大道30号", "changed"),
        "category": (PATH, PATH, "kept"),
        "case_type": ("complaint", "", "cleared"),
    }
    assert hot.work_orders.get(str(number)).lead_unit == "city.municipal", "the agent's unit leads"


def _file(desk: dict[str, Any], **fields: str) -> Any:
    data = {
        "csrf_token": desk["token"],
        "citizen_phone": "13800138000",
        "category_id": str(desk["category"]),
        "description": "路灯坏了",
        **fields,
    }
    return desk["client"].post("/desk/orders", data=data, follow_redirects=False)


@pytest.mark.parametrize(
    "state", ["{not json", "[1, 2]", json.dumps({"district": {"suggested": ["美兰区"]}}), "x" * 30_000]
)
def test_a_malformed_assist_state_is_ignored_and_the_order_still_filed(
    hot: App, desk: dict[str, Any], state: str
) -> None:
    assert _file(desk, assist_state=state).status_code == 303
    with hot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AssistFieldChoice)) == 0


def test_an_unknown_unit_is_refused_next_to_the_field_and_nothing_is_filed(
    hot: App, desk: dict[str, Any]
) -> None:
    with hot.session_factory() as session:
        before = session.scalar(select(func.count()).select_from(work_orders))
    r = _file(desk, unit_code="city.nonexistent")
    assert r.status_code == 422 and 'id="err-unit_code"' in r.text and "请从列表中选择承办单位" in r.text
    with hot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(work_orders)) == before
