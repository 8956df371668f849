"""Supervisor and QA work in real Chromium (Debian's package, driven by Playwright): find a recorded call,
play it in the page (the <audio> element is fed by the recordings API with HTTP range requests, so a seek
fetches from the middle of the file), follow the transcript, and complete a QA review with the scorecard.
One server for the module; screenshots go to docs/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agent_ui.live import DeskFeed, SuggestionsReady, TranscriptLine
from agent_ui.ports import FakeCallMonitor
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
from recordings.orm import QaReview
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from tests.conftest import make_app
from tests.desk_support import DEMO_SEGMENTS, DemoSegment, ingest_recording, make_full_web

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SECONDS = 600  # ten minutes at 8 kHz, 16 bit: 9.6 MB, more than the browser fetches before a far seek
LAST = DemoSegment("caller", 590_000, 598_000, "好的，谢谢你们，再见。")
WAV_HEADER = 44


@dataclass
class Site:
    base: str
    hot: App
    recording: int
    order: str
    clock: FakeClock


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    reason = why_no_browser()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("quality")
    shutil.copyfile(sqlite_template, tmp / "hotline.sqlite3")
    clock = FakeClock()
    hot = make_app(f"sqlite:///{tmp / 'hotline.sqlite3'}", tmp, clock, seed=False, migrate=False)
    demo_accounts(hot)
    path = "城乡建设/城市建设和市政管理/小区管理"
    order = hot.work_orders.intake(
        IntakeCommand(
            channel=Channel.PHONE,
            category_path=path,
            description="美兰区海甸岛和平大道32号小区楼道照明损坏一个月，无人维修",
            citizen_phone="13812345678",
            location_text="美兰区海甸岛和平大道32号",
            call_id="call-q1",
        ),
        Actor("agent1", "agent"),
    )
    recording = ingest_recording(
        hot,
        tmp / "spool",
        "call-q1",
        seconds=SECONDS,
        order_numbers=(order.number,),
        segments=(*DEMO_SEGMENTS, LAST),
    )
    ingest_recording(
        hot, tmp / "spool", "call-q2", agent="agent2", queue="urgent", caller="13998765432", seconds=4
    )
    web = make_full_web(hot, with_kb=False)
    try:
        with serving(web) as base:
            yield Site(base, hot, recording, order.number, clock)
    finally:
        hot.close()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
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


def _range_start(response: Any) -> int | None:
    value = response.headers.get("content-range", "")
    if response.status != 206 or not value.startswith("bytes "):
        return None
    return int(value.split(" ", 1)[1].split("-", 1)[0])


def test_supervisor_plays_a_recording_and_seeks_by_the_transcript(site: Site, browser: Any) -> None:
    page = _login(browser, site.base, "leader1")
    audio: list[Any] = []
    page.on(
        "response", lambda r: audio.append(r) if "/api/recordings/" in r.url and "/audio" in r.url else None
    )

    page.goto(f"{site.base}/recordings")
    page.select_option("#agent", "agent1")
    page.click("[data-testid=recording-filters] button[type=submit]")
    page.wait_for_url("**agent=agent1**")
    rows = page.locator("[data-testid=recordings] tr[data-recording]")
    assert rows.count() == 1
    _shot(page, "recordings")
    rows.first.locator("a.btn").click()
    page.wait_for_url(f"**/recordings/{site.recording}")

    wait_js(page, "document.getElementById('player').readyState >= 1")
    duration = page.evaluate("document.getElementById('player').duration")
    assert abs(duration - SECONDS) < 0.5, duration

    # A click on a line of the transcript seeks there and plays: time advances from that point.
    page.click("li.seg[data-start='1500']")
    wait_js(page, "document.getElementById('player').currentTime > 2.0")
    assert page.evaluate("document.getElementById('player').paused") is False
    page.wait_for_selector("li.seg.current[data-start='1500']")
    _shot(page, "recording-player")

    # A seek near the end: the browser asks for the bytes from there (HTTP 206 with a late Content-Range).
    before = len(audio)
    page.click(f"li.seg[data-start='{LAST.start_ms}']")
    wait_js(page, f"document.getElementById('player').currentTime > {LAST.start_ms / 1000 + 0.5}")
    late = [s for s in (_range_start(r) for r in audio[before:]) if s is not None]
    expected = WAV_HEADER + int(LAST.start_ms / 1000 * 16000 * 0.9)
    assert late and max(late) >= expected, (late, expected)
    page.wait_for_selector(f"li.seg.current[data-start='{LAST.start_ms}']")
    page.context.close()


def test_qa_reviews_a_sampled_call(site: Site, browser: Any) -> None:
    qa = _login(browser, site.base, "qa1")
    qa.goto(f"{site.base}/qa/reviews")
    qa.fill("#random_percent", "100")
    qa.click("form[action='/qa/samples/run'] button[type=submit]")
    qa.wait_for_selector(f"[data-testid=review-queue] tr[data-recording='{site.recording}']")
    _shot(qa, "qa-review-queue")
    qa.locator(f"[data-testid=review-queue] tr[data-recording='{site.recording}'] a.btn").click()
    qa.wait_for_url(f"**/qa/reviews/{site.recording}")
    assert qa.locator("li.seg.caller").count() == 3 and qa.locator("li.seg.agent").count() == 2
    assert site.order in qa.inner_text("[data-testid=review-order]")

    selects = qa.locator("[data-testid=scorecard-form] select")
    names = [selects.nth(i).get_attribute("name") for i in range(selects.count())]
    assert "score_greeting" in names and "score_privacy" in names
    for name in names:
        qa.select_option(
            f"select[name='{name}']", "1" if name in ("score_privacy", "score_no_abuse") else "4"
        )
    qa.select_option("select[name='score_greeting']", "5")
    qa.fill("#comments", "开场问候规范，地址核实完整。")
    qa.click("li.seg[data-start='1500']")
    wait_js(qa, "document.getElementById('player').currentTime > 2.0")
    _shot(qa, "qa-review")
    qa.select_option("select[name='score_greeting']", "")
    # Forgotten item: the message appears next to it, and nothing is saved.
    qa.click("#btn-review")
    qa.wait_for_selector("#err-score_greeting")
    assert qa.input_value("#comments") == "开场问候规范，地址核实完整。"
    with site.hot.session_factory() as session:
        assert session.scalars(select(QaReview)).first() is None
    qa.select_option("select[name='score_greeting']", "5")
    qa.click("#btn-review")
    qa.wait_for_selector(".flash.ok")
    with site.hot.session_factory() as session:
        review = session.scalars(select(QaReview)).one()
    assert review.agent == "agent1" and review.reviewer == "qa1" and not review.failed
    assert review.total == 82.0  # (10·5/5 + 90·4/5) / 100
    qa.goto(f"{site.base}/qa/agents/agent1")
    assert "82.0" in qa.inner_text("[data-testid=weeks]")
    _shot(qa, "qa-agent-scores")
    qa.goto(f"{site.base}/qa/scorecards")
    _shot(qa, "qa-scorecards")
    qa.context.close()


def test_supervisor_monitoring_page(site: Site, browser: Any) -> None:
    feed = site.hot.desk.feed
    assert isinstance(feed, DeskFeed)
    port = FakeCallMonitor()
    site.hot.desk.call_monitor = port
    feed.call_answered("agent1", "call-live", "13812345678", "consultation", ("1 普通话", "2 咨询"))
    feed.transcript(TranscriptLine("call-live", "caller", "我想问一下社保卡补办要带什么", True))
    feed.suggestions(SuggestionsReady("call-live", (), None, "", None))
    page = _login(browser, site.base, "leader1")
    page.goto(f"{site.base}/supervisor/monitor")
    row = page.locator("[data-testid=live-calls] tr[data-call='call-live']")
    row.locator("input[name=extension]").fill("")
    row.locator("button[value=whisper]").click()
    page.wait_for_selector("#err-monitor")
    assert port.requests == []
    row = page.locator("[data-testid=live-calls] tr[data-call='call-live']")
    row.locator("input[name=extension]").fill("8001")
    row.locator("button[value=whisper]").click()
    page.wait_for_selector("[data-testid=monitor-sessions]")
    assert port.requests == [("call-live", "8001", "whisper")]
    _shot(page, "supervisor-monitor")
    page.context.close()
