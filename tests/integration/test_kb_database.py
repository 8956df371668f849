from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hotline.bootstrap import App
from hotline.web import create_web_app
from kernel.clock import FakeClock
from routing.apikeys import create_api_key
from routing.kb.service import KnowledgeBase


@pytest.fixture
def kb(hot: App) -> KnowledgeBase:
    service = KnowledgeBase(hot.session_factory, hot.clock)
    created, revised, same = service.load_seed()
    assert created >= 200 and revised == 0 and same == 0
    return service


def test_loading_the_seed_twice_changes_nothing(kb: KnowledgeBase) -> None:
    created, revised, same = kb.load_seed()
    assert (created, revised) == (0, 0)
    assert same >= 200


def test_a_revision_adds_a_version_and_keeps_the_old_one(kb: KnowledgeBase, clock: FakeClock) -> None:
    hit = kb.search("租房提取公积金", 1)[0]
    article_id = hit.article.id
    assert article_id is not None
    clock.advance(days=1)
    revised = kb.revise(article_id, {"body": "新规定：每季度可提取一次。"}, by="editor")
    assert revised.version == 2
    history = kb.history(article_id)
    assert [a.version for a in history] == [1, 2]
    assert history[0].body != history[1].body
    assert kb.get(article_id).body.startswith("新规定")


def test_api_search_create_and_revise(hot: App) -> None:
    with hot.session_factory() as session, session.begin():
        editor = create_api_key(session, "kb-editor", "supervisor")
    client = TestClient(create_web_app(hot), headers={"X-API-Key": editor})
    created = client.post(
        "/api/kb/articles",
        json={
            "key": "test-dengue",
            "title": "登革热防蚊指引",
            "body": "清除积水容器，防止蚊虫滋生。",
            "category": "卫生计生/公共卫生/疾病预防控制",
            "keywords": ["登革热"],
        },
    )
    assert created.status_code == 201, created.text
    article_id = created.json()["id"]
    found = client.get("/api/kb/search", params={"q": "登革热怎么预防"}).json()["hits"]
    assert found[0]["key"] == "test-dengue"
    assert "<mark>登革热</mark>" in found[0]["title_html"]
    revised = client.put(f"/api/kb/articles/{article_id}", json={"title": "登革热防蚊指引（2025）"})
    assert revised.json()["version"] == 2
    assert len(client.get(f"/api/kb/articles/{article_id}/history").json()) == 2
    assert client.get("/api/kb/articles/999999").status_code == 404
