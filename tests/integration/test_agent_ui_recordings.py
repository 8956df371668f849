"""Recordings, quality review, callbacks, knowledge base, suggestions and monitoring in the web desk, over
HTTP against the real recordings component (files ingested, audio served with ranges, audits written), on
SQLite and PostgreSQL. Every form: bad input gets a message next to the field and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agent_ui.live import KbAnswer, ScoredChoice, SuggestionsReady
from agent_ui.orm import AccessAudit
from agent_ui.ports import FakeCallMonitor
from agent_ui.testing import (
    demo_accounts,
    login,
)
from hotline.bootstrap import App
from kernel.clock import FakeClock
from recordings.orm import QaReview, QaSample, QaScorecard, RecordingListen
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from routing.lifecycle import Acknowledge, Resolve
from routing.orm import Category, order_audit, order_callbacks, work_orders
from routing.suggest.orm import SuggestionFeedback
from tests.desk_support import DEMO_SEGMENTS, ingest_recording, make_full_web


def _count(hot: App, table: Any) -> int:
    with hot.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def snapshot(hot: App) -> tuple[int, ...]:
    tables = (work_orders, order_audit, order_callbacks, QaReview, QaSample, QaScorecard, SuggestionFeedback)
    with hot.session_factory() as session:
        counts = tuple(int(session.scalar(select(func.count()).select_from(t)) or 0) for t in tables)
        version = int(session.scalar(select(func.coalesce(func.sum(work_orders.c.version), 0))) or 0)
    return (*counts, version)


def _housing_category(hot: App) -> tuple[int, str]:
    with hot.session_factory() as session:
        row = session.execute(
            select(Category.id, Category.path)
            .where(Category.lead_unit == "city.housing", Category.district_lead.is_(None))
            .order_by(Category.id)
            .limit(2)
        ).all()
    return row[0].id, row[0].path


@pytest.fixture
def env(hot: App, tmp_path: Path, clock: FakeClock) -> dict[str, Any]:
    demo_accounts(hot)
    web = make_full_web(hot, with_kb=False)
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            category_path=_housing_category(hot)[1],
            description="小区楼道照明损坏一个月",
            citizen_phone="13812345678",
            call_id="call-a",
        ),
        Actor("agent1", "agent"),
    )
    first = ingest_recording(
        hot,
        tmp_path / "spool",
        "call-a",
        agent="agent1",
        queue="consultation",
        caller="13812345678",
        order_numbers=(order.number,),
        segments=DEMO_SEGMENTS,
    )
    clock.advance(minutes=5)
    second = ingest_recording(
        hot, tmp_path / "spool", "call-b", agent="agent2", queue="urgent", caller="13998765432", seconds=3
    )
    clients = {n: TestClient(web) for n in ("qa1", "agent1", "leader1")}
    tokens = {n: login(c, n) for n, c in clients.items()}
    return {"web": web, "clients": clients, "tokens": tokens, "order": order.number, "ids": (first, second)}


def _post_422(hot: App, client: TestClient, url: str, data: dict[str, str], field: str) -> str:
    before = snapshot(hot)
    response = client.post(url, data=data)
    assert response.status_code == 422, (url, data, response.status_code)
    assert f'id="err-{field}"' in response.text, (url, field)
    assert snapshot(hot) == before, f"{url} changed the database on bad input"
    return response.text


def test_list_filters_player_and_audits(hot: App, env: dict[str, Any]) -> None:
    qa = env["clients"]["qa1"]
    first, second = env["ids"]
    page = qa.get("/recordings")
    assert page.status_code == 200
    assert f'data-recording="{first}"' in page.text and f'data-recording="{second}"' in page.text
    assert "13812345678" in page.text  # QA staff see numbers in full, and that view is audited

    def listed(**params: str) -> set[int]:
        html = qa.get("/recordings", params=params).text
        return {i for i in (first, second) if f'data-recording="{i}"' in html}

    assert listed(agent="agent2") == {second}
    assert listed(queue="consultation") == {first}
    assert listed(has_order="yes") == {first}
    assert listed(has_order="no") == {second}
    assert listed(caller="9876") == {second}
    today = hot.clock.now().astimezone().date()
    assert listed(date_from=(today + timedelta(days=2)).isoformat()) == set()
    assert listed(
        date_from=(today - timedelta(days=1)).isoformat(), date_to=(today + timedelta(days=1)).isoformat()
    ) == {
        first,
        second,
    }
    for params, field in (
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-11-22", "date_to": "2026-11-01"}, "date_to"),
        ({"caller": "138abc"}, "caller"),
        ({"has_order": "maybe"}, "has_order"),
    ):
        bad = qa.get("/recordings", params=params)
        assert bad.status_code == 422 and f'id="err-{field}"' in bad.text, params

    listens_before = _count(hot, RecordingListen)
    player = qa.get(f"/recordings/{first}")
    assert player.status_code == 200
    assert f'src="/api/recordings/{first}/audio"' in player.text
    for s in DEMO_SEGMENTS:
        assert f'data-start="{s.start_ms}"' in player.text and s.text in player.text
    assert _count(hot, RecordingListen) == listens_before + 1  # the transcript view, in recordings' own audit
    # The audio comes from the recordings API with byte ranges; each range is audited for this QA user.
    audio = qa.get(f"/api/recordings/{first}/audio", headers={"Range": "bytes=44-1043"})
    assert audio.status_code == 206 and len(audio.content) == 1000
    assert audio.headers["content-range"].startswith("bytes 44-1043/")
    with hot.session_factory() as session:
        actions = set(
            session.scalars(select(AccessAudit.detail).where(AccessAudit.subject == f"recording:{first}"))
        )
        views = list(session.scalars(select(AccessAudit.action).where(AccessAudit.username == "qa1")))
    assert "transcript" in actions and any(a.startswith("audio mixed 44-1043") for a in actions)
    assert "view_phone" in views
    assert qa.get("/recordings/999999").status_code == 404
    # Agents may not open recordings at all.
    assert env["clients"]["agent1"].get(f"/recordings/{first}").status_code == 403
    assert env["clients"]["agent1"].get(f"/api/recordings/{first}/audio").status_code == 403


def test_review_queue_review_and_scores(hot: App, env: dict[str, Any]) -> None:
    qa, token = env["clients"]["qa1"], env["tokens"]["qa1"]
    first, _second = env["ids"]
    day = hot.clock.now().astimezone().date().isoformat()
    _post_422(hot, qa, "/qa/samples/run", {"csrf_token": token, "day": "someday"}, "day")
    _post_422(
        hot,
        qa,
        "/qa/samples/run",
        {"csrf_token": token, "day": day, "random_percent": "150"},
        "random_percent",
    )
    r = qa.post(
        "/qa/samples/run",
        data={"csrf_token": token, "day": day, "random_percent": "100"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    queue = qa.get("/qa/reviews").text
    assert f'href="/qa/reviews/{first}"' in queue

    page = qa.get(f"/qa/reviews/{first}").text
    assert "我们小区楼道的灯坏了一个月了" in page and "请问小区的具体地址是哪里" in page  # both legs
    assert env["order"] in page  # the work order of the call
    card_id = page.split('name="scorecard_id" value="')[1].split('"')[0]
    items = [s.split('"')[0] for s in page.split('name="score_')[1:]]
    assert "greeting" in items and "privacy" in items
    good = {"csrf_token": token, "scorecard_id": card_id, "comments": "开场规范"}
    good.update({f"score_{code}": "1" if code in ("privacy", "no_abuse") else "4" for code in items})
    url = f"/qa/reviews/{first}"
    _post_422(hot, qa, url, {**good, "score_greeting": ""}, "score_greeting")
    _post_422(hot, qa, url, {**good, "score_policy": "9"}, "score_policy")
    _post_422(hot, qa, url, {**good, "score_privacy": "x"}, "score_privacy")
    _post_422(hot, qa, url, {**good, "scorecard_id": "99999"}, "scorecard_id")
    _post_422(hot, qa, url, {**good, "comments": "长" * 4001}, "comments")
    r = qa.post(url, data=good, follow_redirects=False)
    assert r.status_code == 303
    with hot.session_factory() as session:
        review = session.scalars(select(QaReview)).one()
        assert review.total == 80.0 and not review.failed and review.agent == "agent1"
        assert (
            session.scalar(select(func.count()).select_from(QaSample).where(QaSample.review_id.is_(None)))
            == 1
        )
    # An instant-fail violation makes the review 0.
    r = qa.post(url, data={**good, "score_privacy": "0"}, follow_redirects=False)
    assert r.status_code == 303
    scores = qa.get("/qa/agents/agent1").text
    assert 'data-testid="weeks"' in scores and "40.0" in scores  # (80 + 0) / 2 this week


def test_scorecard_editor(hot: App, env: dict[str, Any]) -> None:
    qa, token = env["clients"]["qa1"], env["tokens"]["qa1"]
    page = qa.get("/qa/scorecards").text
    assert 'name="item0_code" id="item0_code"' in page
    row = {
        "item0_code": "greeting",
        "item0_label_zh": "问候",
        "item0_label_en": "Greeting",
        "item0_weight": "10",
    }
    base = {"csrf_token": token, "name": "简版", **row}
    _post_422(hot, qa, "/qa/scorecards", {**base, "name": ""}, "name")
    _post_422(hot, qa, "/qa/scorecards", {**base, "item0_code": "Greeting!"}, "item0_code")
    _post_422(hot, qa, "/qa/scorecards", {**base, "item0_weight": "heavy"}, "item0_weight")
    _post_422(hot, qa, "/qa/scorecards", {**base, "item0_weight": "500"}, "item0_weight")
    fail_item = {
        "item1_code": "privacy",
        "item1_label_zh": "隐私",
        "item1_label_en": "Privacy",
        "item1_weight": "0",
    }
    _post_422(
        hot,
        qa,
        "/qa/scorecards",
        {**base, **fail_item, "item1_instant_fail": "on", "item1_max_score": "5"},
        "item1_max_score",
    )
    _post_422(hot, qa, "/qa/scorecards", {"csrf_token": token, "name": "空"}, "items")
    r = qa.post(
        "/qa/scorecards", data={**base, **fail_item, "item1_instant_fail": "on"}, follow_redirects=False
    )
    assert r.status_code == 303
    with hot.session_factory() as session:
        card = session.scalars(select(QaScorecard).where(QaScorecard.name == "简版")).one()
    assert [i["code"] for i in card.items] == ["greeting", "privacy"] and card.items[1]["instant_fail"]
    # Supervisors read scorecards but do not edit them.
    leader = env["clients"]["leader1"]
    assert leader.get("/qa/scorecards").status_code == 200
    assert (
        leader.post("/qa/scorecards", data={**base, "csrf_token": env["tokens"]["leader1"]}).status_code
        == 403
    )


def test_agent_records_callbacks_that_close_or_reopen(hot: App, env: dict[str, Any]) -> None:
    number = env["order"]
    dept = Actor("dept1", "dept_handler", "city.housing")
    hot.work_orders.handle(Acknowledge(number, "city.housing"), dept)
    hot.work_orders.handle(Resolve(number, "city.housing", "已修复"), dept)
    agent, token = env["clients"]["agent1"], env["tokens"]["agent1"]
    page = agent.get("/qa/callbacks").text
    assert f'data-order="{number}"' in page
    _post_422(
        hot,
        agent,
        f"/qa/callbacks/{number}",
        {"csrf_token": token, "outcome": "unsatisfied", "rating": "0"},
        f"{number}:rating",
    )
    _post_422(
        hot, agent, f"/qa/callbacks/{number}", {"csrf_token": token, "outcome": "x" * 3}, f"{number}:outcome"
    )
    _post_422(
        hot,
        agent,
        f"/qa/callbacks/{number}",
        {"csrf_token": token, "outcome": "satisfied", "note": "长" * 2001},
        f"{number}:note",
    )
    r = agent.post(
        f"/qa/callbacks/{number}",
        data={
            "csrf_token": token,
            "outcome": "unsatisfied",
            "solved": "no",
            "rating": "2",
            "note": "灯还是不亮",
        },
    )
    assert r.status_code == 200 and "重办" in r.text
    order = hot.work_orders.get(number)
    assert order.state.value not in ("resolved", "closed")  # reopened to the unit
    assert order.history[-1].actor == "agent1"


async def test_automated_callback_attempts_of_the_campaign_are_listed(
    hot: App, env: dict[str, Any], clock: FakeClock
) -> None:
    """routing's callback campaign calls the citizen (the fake dialer, held to the real ARI dialer by
    tests/e2e/test_outbound_dialer_contract.py); nobody answers; the QA page lists that attempt."""
    from datetime import UTC, datetime

    from routing.callback_campaign import CallbackCampaign
    from routing.callback_policy import CampaignPolicy
    from telephony.outbound import Citizen, FakeDialer

    qa = env["clients"]["qa1"]
    assert "no_answer" not in qa.get("/qa/callbacks").text
    number = env["order"]
    lead = hot.work_orders.get(number).lead_unit or ""
    unit = Actor("handler", "department", lead)
    hot.work_orders.handle(Acknowledge(number, lead), unit)
    hot.work_orders.handle(Resolve(number, lead, "已更换楼道灯具"), unit)
    clock.set(datetime(2026, 11, 23, 1, 30, tzinfo=UTC))  # a Monday, 09:30 in Haikou: a calling hour
    dialer = FakeDialer({"13812345678": [Citizen("no_answer")]})
    policy = CampaignPolicy(first_call_after=timedelta(0))
    report = await CallbackCampaign(hot.work_orders, dialer, policy).run_once()
    assert report.called == 1
    page = qa.get("/qa/callbacks").text
    assert 'data-testid="campaign-attempts"' in page and "no_answer" in page and number in page


def test_knowledge_base_search_marks_the_matched_words(hot: App, env: dict[str, Any]) -> None:
    from agent_ui.ports import FakeKbSearch

    agent = env["clients"]["agent1"]
    hot.desk.kb_search = None
    assert "暂无数据" in agent.get("/desk/kb", params={"q": "社保卡"}).text  # nothing connected
    hot.desk.kb_search = FakeKbSearch([KbAnswer("社保卡补办", "携带身份证到社保服务窗口<办理>", 3.2)])
    html = agent.get("/desk/kb", params={"q": "社保卡"}).text
    assert "<mark>社保卡</mark>补办" in html and "&lt;办理&gt;" in html  # marked, and the text escaped
    assert "未找到相关答案" in agent.get("/desk/kb", params={"q": "护照"}).text
    too_long = agent.get("/desk/kb", params={"q": "长" * 201}).text
    assert 'id="err-q"' in too_long


def test_real_knowledge_base_through_the_port(hot: App) -> None:
    hot.routing.kb.load_seed()
    port = hot.desk.kb_search  # the composition root's adapter over routing's knowledge base
    assert port is not None
    answers = port.search("社保卡丢了怎么补办", 3)
    assert answers and answers[0].matched and answers[0].score > 0
    assert any(w in answers[0].title + answers[0].text for w in answers[0].matched)


def test_the_agents_choice_of_suggestion_is_recorded(hot: App, env: dict[str, Any]) -> None:
    feed = env["web"].state.ui_feed
    agent, token = env["clients"]["agent1"], env["tokens"]["agent1"]
    cat_id, path = _housing_category(hot)
    feed.call_answered("agent1", "call-s", "13812345678", "consultation")
    feed.suggestions(
        SuggestionsReady(
            "call-s",
            (KbAnswer("楼道照明报修", "由物业负责维修", 2.5, ("楼道",)),),
            cat_id,
            path,
            "city.housing",
            categories=(ScoredChoice(path, path, 0.81), ScoredChoice("城乡建设/其他", "城乡建设/其他", 0.1)),
            units=(ScoredChoice("city.housing", "市住建局", 0.9),),
            text="楼道的灯坏了一个月",
        )
    )
    live = agent.get("/desk/live").text
    assert f'data-use-category="{cat_id}"' in live and "0.81" in live and "<mark>楼道</mark>" in live
    form = {
        "csrf_token": token,
        "citizen_phone": "13812345678",
        "description": "楼道灯坏",
        "call_id": "call-s",
    }
    r = agent.post("/desk/orders", data={**form, "category_id": str(cat_id)}, follow_redirects=False)
    assert r.status_code == 303 and "choice=accepted" in r.headers["location"]
    with hot.session_factory() as session:
        other = session.scalar(
            select(Category.id).where(Category.path != path, Category.lead_unit.is_not(None)).limit(1)
        )
    r = agent.post("/desk/orders", data={**form, "category_id": str(other)}, follow_redirects=False)
    assert r.status_code == 303 and "choice=changed" in r.headers["location"]
    with hot.session_factory() as session:
        outcomes = list(session.scalars(select(SuggestionFeedback.outcome).order_by(SuggestionFeedback.id)))
        chosen = list(session.scalars(select(SuggestionFeedback.chosen_path).order_by(SuggestionFeedback.id)))
    assert outcomes == ["accepted", "changed"] and chosen[0] == path


def test_monitoring_buttons_call_the_port(hot: App, env: dict[str, Any]) -> None:

    feed = env["web"].state.ui_feed
    leader, token = env["clients"]["leader1"], env["tokens"]["leader1"]
    feed.call_answered("agent1", "call-m", "13812345678", "consultation")
    url = "/supervisor/calls/call-m/monitor"
    not_connected = leader.post(url, data={"csrf_token": token, "mode": "spy", "extension": "8001"})
    assert not_connected.status_code == 422 and "交换机未连接" in not_connected.text
    port = FakeCallMonitor(live_calls={"call-m"})
    hot.desk.call_monitor = port
    for data in ({"mode": "spy", "extension": ""}, {"mode": "record", "extension": "8001"}):
        bad = leader.post(url, data={"csrf_token": token, **data})
        assert bad.status_code == 422 and 'id="err-monitor"' in bad.text
    gone = leader.post(
        "/supervisor/calls/call-x/monitor", data={"csrf_token": token, "mode": "spy", "extension": "8001"}
    )
    assert gone.status_code == 422
    assert port.requests == []
    for mode in ("spy", "whisper", "barge"):
        r = leader.post(
            url, data={"csrf_token": token, "mode": mode, "extension": "8001"}, follow_redirects=False
        )
        assert r.status_code == 303
    assert port.requests == [
        ("call-m", "8001", "spy"),
        ("call-m", "8001", "whisper"),
        ("call-m", "8001", "barge"),
    ]
    page = leader.get("/supervisor/monitor").text
    sessions = [s.split("/stop")[0] for s in page.split('action="/supervisor/monitor/')[1:]]
    assert len(sessions) == 3
    leader.post(f"/supervisor/monitor/{sessions[0]}/stop", data={"csrf_token": token})
    assert port.stopped == [sessions[0]]
    with hot.session_factory() as session:
        audited = list(session.scalars(select(AccessAudit.action).where(AccessAudit.subject == "call-m")))
    assert audited == ["monitor_spy", "monitor_whisper", "monitor_barge"]
