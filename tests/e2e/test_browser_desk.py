"""The web desk in real Chromium (Debian's package, driven by Playwright): log in as each role, take a
screen pop, file and dispatch an order, acknowledge and resolve it as the department, watch the wallboard
change and an SLA alarm arrive without a reload, record the callback. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agent_ui.live import DeskFeed, KbAnswer, ScoredChoice, SuggestionsReady, TranscriptLine
from agent_ui.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TEST_PASSWORD,
    demo_accounts,
    serving,
    wait_js,
    why_no_browser,
)
from hotline.bootstrap import App
from kernel.clock import FakeClock
from routing.kb.service import KnowledgeBase
from routing.orm import Category, Unit
from tests.conftest import make_app
from tests.desk_support import make_full_web

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
STREETLIGHT = "城乡建设/城市建设和市政管理/城市公共设施"


@dataclass
class Site:
    base: str
    hot: App
    clock: FakeClock


@pytest.fixture(scope="module")
def served(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module: a copy of the seeded database, the desk, the recordings API and the
    knowledge base (its packaged articles loaded)."""
    reason = why_no_browser()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("desk")
    shutil.copyfile(sqlite_template, tmp / "hotline.sqlite3")
    clock = FakeClock()
    hot = make_app(f"sqlite:///{tmp / 'hotline.sqlite3'}", tmp, clock, seed=False, migrate=False)
    demo_accounts(hot)
    web = make_full_web(hot, with_kb=True)
    kb = hot.routing.kb
    assert isinstance(kb, KnowledgeBase)
    kb.load_seed()
    web.state.ui_sse_lifetime = 60.0
    try:
        with serving(web) as base:
            yield Site(base, hot, clock)
    finally:
        hot.close()


@pytest.fixture(scope="module")
def browser(served: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _login(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_every_role_logs_in_to_its_home(served: Site, browser: Any) -> None:
    base = served.base
    homes = {
        "agent1": "/desk",
        "leader1": "/supervisor/wallboard",
        "qa1": "/qa/callbacks",
        "dept1": "/dept/inbox",
        "head1": "/dept/inbox",
        "admin": "/admin/users",
    }
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    login_page = context.new_page()
    login_page.goto(f"{base}/login")
    _shot(login_page, "login")
    context.close()
    for username, home in homes.items():
        page = _login(browser, base, username)
        assert page.url.endswith(home), (username, page.url)
        assert page.locator("[data-testid=whoami]").is_visible()
        page.context.close()


def _category(hot: App, path: str) -> tuple[int, str, str]:
    """The category's id, its lead unit's code and name."""
    with hot.session_factory() as session:
        row = session.execute(
            select(Category.id, Category.lead_unit, Unit.name)
            .join(Unit, Unit.code == Category.lead_unit)
            .where(Category.path == path)
        ).one()
    return int(row.id), str(row.lead_unit), str(row.name)


def test_call_to_callback_in_the_browser(served: Site, browser: Any) -> None:
    base, hot, clock = served.base, served.hot, served.clock
    feed = hot.desk.feed
    assert isinstance(feed, DeskFeed)
    wall = _login(browser, base, "leader1")
    wait_js(wall, "document.body.dataset.live === '1'")
    open_before = wall.inner_text("[data-testid=kpi-open]")

    agent = _login(browser, base, "agent1")
    wait_js(agent, "document.body.dataset.live === '1'")
    # Telephony announces the answered call: the screen pop appears without a reload.
    feed.call_answered("agent1", "call-0001", "13812345678", "consultation", ("1 普通话", "3 投诉举报"))
    agent.wait_for_selector("[data-testid=caller]:has-text('13812345678')")
    assert agent.input_value("#citizen_phone") == ""  # the form keeps what the agent typed; reload pre-fills

    # ASR and the suggestion engine feed the live panels, again without a reload.
    feed.transcript(TranscriptLine("call-0001", "agent", "您好，12345 热线，请问有什么可以帮您？", True))
    feed.transcript(
        TranscriptLine("call-0001", "caller", "我们小区门口那条路的路灯坏了一个星期，晚上很黑", True)
    )
    agent.wait_for_selector("#transcript:has-text('路灯坏了一个星期')")
    cat_id, lead, lead_name = _category(hot, STREETLIGHT)
    kb = hot.routing.kb
    assert isinstance(kb, KnowledgeBase)
    article = kb.search("路灯坏了", 1)[0]
    feed.suggestions(
        SuggestionsReady(
            "call-0001",
            (
                KbAnswer(
                    article.article.title,
                    article.article.body,
                    article.score,
                    article.matched,
                    article.article.category,
                    article.article.unit_name,
                ),
            ),
            cat_id,
            STREETLIGHT,
            lead,
            categories=(
                ScoredChoice(STREETLIGHT, STREETLIGHT, 0.82),
                ScoredChoice(
                    "城乡建设/城市建设和市政管理/居民服务设施",
                    "城乡建设/城市建设和市政管理/居民服务设施",
                    0.09,
                ),
            ),
            units=(ScoredChoice(lead, lead_name, 0.88),),
            text="我们小区门口那条路的路灯坏了一个星期，晚上很黑",
        )
    )
    agent.wait_for_selector("[data-testid=suggestions] [data-testid=kb-answer] mark")
    agent.reload()
    assert agent.input_value("#citizen_phone") == "13812345678"  # pre-filled from the call

    # Bad input first: a message next to the field, nothing filed.
    agent.fill("#citizen_phone", "123")
    agent.click("#btn-dispatch")
    agent.wait_for_selector("#err-description")
    assert agent.is_visible("#err-citizen_phone")
    assert agent.input_value("#category_id") == str(cat_id)  # the suggested category, pre-selected
    _shot(agent, "desk-validation")
    agent.goto(f"{base}/desk")

    # The agent may pick another suggestion, or take the first back with one click; then the KB.
    agent.click("[data-testid=use-category] >> nth=1")
    assert agent.input_value("#category_id") != str(cat_id)
    agent.click("[data-testid=use-category] >> nth=0")
    assert agent.input_value("#category_id") == str(cat_id)
    agent.fill("#description", "小区门口道路路灯损坏一周，夜间无照明，存在安全隐患")
    agent.fill("#location_text", "美兰区海甸岛和平大道32号门口")
    agent.wait_for_selector("[data-testid=routing-suggestion]")
    agent.fill("#kb-q", "路灯不亮")
    agent.click("[data-testid=kb-form] button")
    agent.wait_for_selector("#kb-results [data-testid=kb-answer] mark")
    marked = agent.locator("#kb-results mark").all_inner_texts()
    assert "路灯" in "".join(marked) or any(m in "路灯不亮" for m in marked), marked
    _shot(agent, "agent-desk")
    agent.click("#btn-dispatch")
    agent.wait_for_selector(".flash.ok")
    assert "采用了智能建议" in agent.inner_text(".flash.ok")
    number = agent.inner_text(".flash.ok").split()[1]
    order = hot.work_orders.get(number)
    assert order.state.value == "dispatched" and order.category_path == STREETLIGHT
    lead = order.lead_unit or ""

    # The wallboard counts the new open order without a reload.
    wait_js(wall, f"document.querySelector('[data-testid=kpi-open]').innerText !== '{open_before}'")
    # The response clock runs out: the scheduler raises the alarm, the wallboard shows it live.
    clock.advance(minutes=45)
    hot.scheduler.run_once()
    wall.wait_for_selector(f"#alarm-feed li.fresh:has-text('{number}')")
    _shot(wall, "wallboard")

    # The department of the lead unit acknowledges and resolves.
    from agent_ui.users import UserService

    UserService(hot.session_factory, hot.clock).create(
        "lead1", "主办单位经办", "dept_handler", lead, TEST_PASSWORD
    )
    dept = _login(browser, base, "lead1")
    card = dept.locator(f"article[data-order='{number}']")
    assert card.locator(".countdown").count() == 1
    _shot(dept, "department-inbox")
    card.locator("button:has-text('签收')").first.click()
    dept.wait_for_selector(".flash.ok")
    card = dept.locator(f"article[data-order='{number}']")
    card.locator("summary").click()
    card.locator("textarea[name=reply]").fill("已安排路灯维护单位更换灯具，已恢复照明")
    card.locator("button:has-text('办结')").click()
    dept.wait_for_selector(".flash.ok")
    assert hot.work_orders.get(number).state.value == "resolved"

    # QA records the satisfaction callback.
    qa = _login(browser, base, "qa1")
    qa.select_option(f"#outcome-{number}", "satisfied")
    qa.select_option(f"#solved-{number}", "yes")
    qa.fill(f"#rating-{number}", "5")
    _shot(qa, "qa-callbacks")
    qa.locator(f"div[data-order='{number}'] button").first.click()
    qa.wait_for_selector(".flash.ok")
    assert hot.work_orders.get(number).state.value == "closed"

    detail = _login(browser, base, "leader1")
    detail.goto(f"{base}/orders/{number}")
    assert detail.locator("[data-testid=history] tr").count() >= 6
    _shot(detail, "order-detail")
    detail.goto(f"{base}/supervisor/rulings")
    _shot(detail, "supervisor-rulings")
