"""The web desk in real Chromium (Debian's package, driven by Playwright): log in as each role, take a
screen pop, file and dispatch an order, acknowledge and resolve it as the department, watch the wallboard
change and an SLA alarm arrive without a reload, record the callback. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from agent_ui.live import KbAnswer, SuggestionsReady, TranscriptLine
from agent_ui.testing import TEST_PASSWORD, demo_accounts, make_web
from hotline.bootstrap import App
from hotline.clock import FakeClock
from tests.conftest import make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[str, App]]:
    hot = make_app(f"sqlite:///{tmp_path / 'hotline.sqlite3'}", tmp_path, clock)
    demo_accounts(hot)
    web = make_web(hot)
    web.state.ui_sse_lifetime = 60.0
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", hot
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hot.close()


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _login(browser: object, base: str, username: str) -> object:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)  # type: ignore[attr-defined]


def test_every_role_logs_in_to_its_home(served: tuple[str, App], browser: object) -> None:
    base, _hot = served
    homes = {
        "agent1": "/desk",
        "leader1": "/supervisor/wallboard",
        "qa1": "/qa/callbacks",
        "dept1": "/dept/inbox",
        "head1": "/dept/inbox",
        "admin": "/admin/users",
    }
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    login_page = context.new_page()
    login_page.goto(f"{base}/login")
    _shot(login_page, "login")
    context.close()
    for username, home in homes.items():
        page = _login(browser, base, username)
        assert page.url.endswith(home), (username, page.url)  # type: ignore[attr-defined]
        assert page.locator("[data-testid=whoami]").is_visible()  # type: ignore[attr-defined]
        page.context.close()  # type: ignore[attr-defined]


def test_call_to_callback_in_the_browser(served: tuple[str, App], browser: object, clock: FakeClock) -> None:
    base, hot = served
    feed = hot.extras["desk_feed"]
    wall = _login(browser, base, "leader1")
    wall.wait_for_function("document.body.dataset.live === '1'")  # type: ignore[attr-defined]
    open_before = wall.inner_text("[data-testid=kpi-open]")  # type: ignore[attr-defined]

    agent = _login(browser, base, "agent1")
    agent.wait_for_function("document.body.dataset.live === '1'")  # type: ignore[attr-defined]
    # Telephony announces the answered call: the screen pop appears without a reload.
    feed.call_answered("agent1", "call-0001", "13812345678", "12345-普通话", ("1 普通话", "3 投诉举报"))  # type: ignore[attr-defined]
    agent.wait_for_selector("[data-testid=caller]:has-text('13812345678')")  # type: ignore[attr-defined]
    feed.transcript(TranscriptLine("call-0001", "caller", "我们小区楼道的灯坏了一个月了", True))  # type: ignore[attr-defined]
    feed.suggestions(
        SuggestionsReady(
            "call-0001",
            (KbAnswer("楼道照明报修", "由物业或住建部门负责维修"),),  # type: ignore[attr-defined]
            None,
            "",
            None,
        )
    )
    agent.reload()  # type: ignore[attr-defined]
    assert agent.input_value("#citizen_phone") == "13812345678"  # type: ignore[attr-defined]

    # Bad input first: a message next to the field, nothing filed.
    agent.click("#btn-dispatch")  # type: ignore[attr-defined]
    agent.wait_for_selector("#err-description")  # type: ignore[attr-defined]
    assert agent.is_visible("#err-category_id")  # type: ignore[attr-defined]
    _shot(agent, "desk-validation")
    agent.goto(f"{base}/desk")  # type: ignore[attr-defined]

    agent.select_option("#cat-l1", "城乡建设")  # type: ignore[attr-defined]
    level2 = agent.eval_on_selector("#cat-l2", "s => s.options[1].value")  # type: ignore[attr-defined]
    agent.select_option("#cat-l2", level2)  # type: ignore[attr-defined]
    level3 = agent.eval_on_selector("#category_id", "s => s.options[1].value")  # type: ignore[attr-defined]
    agent.select_option("#category_id", level3)  # type: ignore[attr-defined]
    agent.fill("#description", "小区楼道照明损坏一个月，多次反映无人处理")  # type: ignore[attr-defined]
    agent.wait_for_selector("[data-testid=routing-suggestion]")  # type: ignore[attr-defined]
    _shot(agent, "agent-desk")
    agent.click("#btn-dispatch")  # type: ignore[attr-defined]
    agent.wait_for_selector(".flash.ok")  # type: ignore[attr-defined]
    number = agent.inner_text(".flash.ok").split()[1]  # type: ignore[attr-defined]
    order = hot.work_orders.get(number)
    assert order.state.value == "dispatched"
    lead = order.lead_unit

    # The wallboard counts the new open order without a reload.
    wall.wait_for_function(  # type: ignore[attr-defined]
        f"document.querySelector('[data-testid=kpi-open]').innerText !== '{open_before}'"
    )
    # The response clock runs out: the scheduler raises the alarm, the wallboard shows it live.
    clock.advance(minutes=45)
    hot.scheduler.run_once()
    wall.wait_for_selector(f"#alarm-feed li.fresh:has-text('{number}')")  # type: ignore[attr-defined]
    _shot(wall, "wallboard")

    # The department of the lead unit acknowledges and resolves.
    from agent_ui.users import UserService

    UserService(hot.session_factory, hot.clock).create(
        "lead1", "主办单位经办", "dept_handler", lead, TEST_PASSWORD
    )
    dept = _login(browser, base, "lead1")
    card = dept.locator(f"article[data-order='{number}']")  # type: ignore[attr-defined]
    assert card.locator(".countdown").count() == 1
    _shot(dept, "department-inbox")
    card.locator("button:has-text('签收')").first.click()
    dept.wait_for_selector(".flash.ok")  # type: ignore[attr-defined]
    card = dept.locator(f"article[data-order='{number}']")  # type: ignore[attr-defined]
    card.locator("summary").click()
    card.locator("textarea[name=reply]").fill("已安排物业更换楼道灯具，已恢复照明")
    card.locator("button:has-text('办结')").click()
    dept.wait_for_selector(".flash.ok")  # type: ignore[attr-defined]
    assert hot.work_orders.get(number).state.value == "resolved"

    # QA records the satisfaction callback.
    qa = _login(browser, base, "qa1")
    qa.select_option(f"#outcome-{number}", "satisfied")  # type: ignore[attr-defined]
    qa.select_option(f"#solved-{number}", "yes")  # type: ignore[attr-defined]
    qa.fill(f"#rating-{number}", "5")  # type: ignore[attr-defined]
    _shot(qa, "qa-callbacks")
    qa.locator(f"article[data-order='{number}'] button, div[data-order='{number}'] button").first.click()  # type: ignore[attr-defined]
    qa.wait_for_selector(".flash.ok")  # type: ignore[attr-defined]
    assert hot.work_orders.get(number).state.value == "closed"

    detail = _login(browser, base, "leader1")
    detail.goto(f"{base}/orders/{number}")  # type: ignore[attr-defined]
    assert detail.locator("[data-testid=history] tr").count() >= 6  # type: ignore[attr-defined]
    _shot(detail, "order-detail")
    detail.goto(f"{base}/supervisor/rulings")  # type: ignore[attr-defined]
    _shot(detail, "supervisor-rulings")
