"""The big screen (大屏) and the analytics pages in real Chromium at 1920×1080: the wall draws the streamed
snapshot (tiles, Haikou's four districts on the map), changes without a reload when an order arrives, a
hot event is merged from its page. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent_ui.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TEST_PASSWORD,
    demo_accounts,
    serving,
    wait_js,
    why_no_browser,
)
from analytics.demo.generator import DemoGenerator
from analytics.hot_events import HotEventWatcher, scan
from analytics.rollup import refresh
from analytics.wiring import build
from hotline.bootstrap import App
from hotline.web import create_web_app
from kernel.clock import FakeClock
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from tests.conftest import make_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, App]]:
    reason = why_no_browser()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("bigscreen")
    shutil.copyfile(sqlite_template, tmp / "hotline.sqlite3")
    clock = FakeClock()
    hot = make_app(f"sqlite:///{tmp / 'hotline.sqlite3'}", tmp, clock, seed=False, migrate=False)
    demo_accounts(hot)
    DemoGenerator(hot.write_session_factory, hot.policy, hot.calendar, clock).generate(
        28, 3, scale=0.08, workers=0
    )
    parts = build(hot)
    refresh(parts, None)
    scan(parts, clock.now() - timedelta(days=3), clock.now())
    web = create_web_app(hot, components=("routing.api", "agent_ui.app", "analytics.api"))
    web.state.ui_sse_lifetime = 60.0
    # What the scheduler role runs: new orders watched for hot events, off the intakes' path.
    halt = threading.Event()
    watcher = HotEventWatcher(web.state.analytics, debounce_s=0.2).install()
    watching = threading.Thread(target=watcher.run, args=(halt,), daemon=True)
    watching.start()
    try:
        with serving(web) as base:
            yield base, hot
    finally:
        halt.set()
        watching.join(10)
        hot.close()


@pytest.fixture(scope="module")
def page(site: tuple[str, App]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    base, _hot = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # Playwright's polling predicates are evaluated strings, which the site's CSP (script-src 'self')
        # rightly refuses; the test context bypasses the CSP, the pages themselves need no exception.
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        pg = context.new_page()
        pg.on("pageerror", lambda e: print("page error:", e))
        pg.goto(f"{base}/login")
        pg.fill("#username", "leader1")
        pg.fill("#password", TEST_PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_url(lambda url: "/login" not in url)
        try:
            yield pg
        finally:
            browser.close()


def test_the_wall_draws_the_snapshot_and_the_map_of_four_districts(site: tuple[str, App], page: Any) -> None:
    base, _hot = site
    snapshot = page.request.get(f"{base}/bigscreen/data").json()
    page.goto(f"{base}/bigscreen")
    wait_js(page, "document.body.dataset.snapshotAt !== undefined", timeout_s=30)
    orders = page.get_by_test_id("bs-orders").inner_text()
    assert orders.replace(",", "") == str(snapshot["today"]["orders_accepted"])
    names = page.evaluate(
        "window.bigscreenCharts['c-map'].getOption().series[0].data.map(function (d) { return d.name; })"
    )
    assert sorted(names) == sorted(["秀英区", "龙华区", "琼山区", "美兰区"])
    assert page.locator("#c-map canvas").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "bigscreen.png"))


def test_a_new_order_reaches_the_wall_without_a_reload(site: tuple[str, App], page: Any) -> None:
    base, hot = site
    page.goto(f"{base}/bigscreen")
    wait_js(page, "document.body.dataset.snapshotAt !== undefined", timeout_s=30)
    before = int(page.get_by_test_id("bs-orders").inner_text().replace(",", ""))
    hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.WEB,
            description="海甸二东路路灯不亮",
            citizen_phone="13812345678",
            district="美兰区",
        ),
        Actor("agent1", "agent"),
    )
    wait_js(
        page,
        f"parseInt(document.querySelector('[data-testid=bs-orders]').textContent.replace(/,/g, '')) === {before + 1}",
        timeout_s=30,
    )


def test_a_hot_event_is_detected_live_and_merged_from_its_page(site: tuple[str, App], page: Any) -> None:
    base, hot = site
    page.goto(f"{base}/analytics/hot-events")
    wait_js(page, "document.body.dataset.live === '1'", timeout_s=30)  # the stream is open
    numbers = [
        hot.work_orders.intake(
            IntakeCommand(
                channel=Channel.PHONE,
                description=f"{opener}白龙南路金盘花园门口下水道堵塞，污水冒到路面，臭气熏天",
                citizen_phone=f"1381234560{i}",
                district="美兰区",
                location_text="海口市美兰区白龙南路金盘花园",
            ),
            Actor("agent1", "agent"),
        ).number
        for i, opener in enumerate(("", "您好，", "我要反映，", "", "又来了，"))
    ]
    # The supervisor's open page hears about it at once (server-sent event), before any reload.
    page.get_by_test_id("hot-alerts").get_by_text("金盘花园").wait_for(timeout=30_000)
    page.goto(f"{base}/analytics/hot-events")
    event = page.get_by_test_id("hot-event").filter(has_text="金盘花园").first
    page.screenshot(path=str(SCREENSHOTS / "hot-events.png"))
    event.locator(f"input[value={numbers[0]}]").check()
    event.get_by_test_id("merge").click()
    page.wait_for_url(lambda url: "done=" in url)
    assert numbers[0] in page.get_by_test_id("hot-flash").inner_text()
    assert "merge_master" in [e.action for e in hot.work_orders.get(numbers[0]).history]
    assert all(hot.work_orders.get(n).merged_into == numbers[0] for n in numbers[1:])


def test_staffing_and_kpi_pages(site: tuple[str, App], page: Any) -> None:
    base, _hot = site
    page.goto(f"{base}/analytics/staffing")
    page.wait_for_selector("#staffing-chart canvas", timeout=30_000)
    assert "%" in page.get_by_test_id("mape").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "staffing.png"))
    page.goto(f"{base}/analytics?from=2026-11-30&to=2026-11-01")
    assert page.get_by_test_id("kpi-error").is_visible()
