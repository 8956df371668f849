"""The desk's live transcript in real Chromium: ASR segments published on the bus reach a logged-in agent's
page as one line per utterance, updated in place from partial to final, with speaker and call time; a final
goes into the order's description with one click; the list follows the newest line unless the agent scrolled
up; a 20-minute call's 600 utterances leave 600 lines, never one per partial. The render cost is printed
(never asserted: timings decide no test)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent_ui.live import AutofillReady, DeskFeed, FilledField
from agent_ui.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TEST_PASSWORD,
    demo_accounts,
    serving,
    wait_js,
    why_no_browser,
)
from asr.events import TranscriptSegment
from hotline.bootstrap import App
from hotline.live_calls import DeskProjection
from kernel.clock import FakeClock
from tests.conftest import make_app
from tests.desk_support import make_full_web

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LINES = "#transcript ol.lines > li"


@dataclass
class Site:
    base: str
    hot: App
    feed: DeskFeed


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    reason = why_no_browser()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("transcript")
    shutil.copyfile(sqlite_template, tmp / "hotline.sqlite3")
    hot = make_app(f"sqlite:///{tmp / 'hotline.sqlite3'}", tmp, FakeClock(), seed=False, migrate=False)
    demo_accounts(hot)
    web = make_full_web(hot, with_kb=False)
    web.state.ui_sse_lifetime = 300.0
    DeskProjection(hot.desk.feed).install(hot.bus)  # as every web process does: segments -> desk lines
    feed = hot.desk.feed
    assert isinstance(feed, DeskFeed)
    try:
        with serving(web) as base:
            yield Site(base, hot, feed)
    finally:
        hot.close()


@pytest.fixture(scope="module")
def page(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{site.base}/login")
            page.fill("#username", "agent1")
            page.fill("#password", TEST_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: url.endswith("/desk"))
            wait_js(page, "document.body.dataset.live === '1'")
            yield page
        finally:
            browser.close()


def _say(site: Site, call: str, leg: str, text: str, final: bool, start: int, end: int) -> None:
    site.hot.bus.publish(
        TranscriptSegment(call, leg, start, end, text, text, final, "vosk", datetime.now(UTC))  # type: ignore[arg-type]
    )


def _applied(page: Any) -> int:
    return int(page.evaluate("parseInt(document.getElementById('transcript').dataset.applied || '0', 10)"))


def _wait_applied(page: Any, count: int) -> None:
    wait_js(page, f"parseInt(document.getElementById('transcript').dataset.applied || '0', 10) >= {count}")


def _answer(site: Site, page: Any, call: str) -> None:
    site.feed.call_answered("agent1", call, "13812345678", "consultation", ("1 普通话",))
    page.wait_for_selector(f"#transcript ol.lines[data-call='{call}']", state="attached")


def _line(page: Any, key: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        """key => { const li = document.querySelector(`#transcript li[data-key="${key}"]`);
           return li && {cls: li.className, when: li.querySelector('.when').textContent,
                         who: li.querySelector('.who').textContent, text: li.querySelector('.text').textContent}; }""",
        key,
    )
    return result


def test_one_line_per_utterance_updates_in_place_with_speaker_and_time(site: Site, page: Any) -> None:
    _answer(site, page, "call-tr")
    base = _applied(page)
    for words in ("我", "我要", "我要投诉"):  # Vosk's partials: from where the leg's last utterance ended
        _say(site, "call-tr", "caller", words, False, 0, 600)
    _wait_applied(page, base + 3)
    assert page.locator(LINES).count() == 1
    line = _line(page, "caller-1")
    assert "partial" in line["cls"] and line["text"] == "我要投诉" and line["who"] == "市民"

    _say(site, "call-tr", "caller", "我要投诉楼下噪音。", True, 340, 2100)  # the final: at its first word
    _wait_applied(page, base + 4)
    assert page.locator(LINES).count() == 1
    line = _line(page, "caller-1")
    assert "final" in line["cls"] and line["text"] == "我要投诉楼下噪音。" and line["when"] == "00:00"

    # The agent's leg while the recognizer cannot decode partials: a speaking indicator, then the final.
    _say(site, "call-tr", "agent", "正在说话…", False, 65_000, 65_400)
    _wait_applied(page, base + 5)
    line = _line(page, "agent-1")
    assert "speaking" in line["cls"] and line["who"] == "座席" and line["when"] == "01:05"
    assert page.locator("#transcript li.speaking .dots").count() == 1
    _say(site, "call-tr", "agent", "好的，请问具体地址？", True, 65_120, 66_900)
    _wait_applied(page, base + 6)
    line = _line(page, "agent-1")
    assert "final" in line["cls"] and line["text"] == "好的，请问具体地址？" and line["when"] == "01:05"
    assert page.locator(LINES).count() == 2 and page.locator("#transcript li.speaking").count() == 0

    # A reload shows the same lines, rendered by the server.
    page.reload()
    wait_js(page, "document.body.dataset.live === '1'")
    assert page.locator(LINES).count() == 2
    assert (
        _line(page, "caller-1")["text"] == "我要投诉楼下噪音。" and _line(page, "agent-1")["when"] == "01:05"
    )


def test_a_final_goes_into_the_description_with_one_click(site: Site, page: Any) -> None:
    _answer(site, page, "call-copy")
    base = _applied(page)
    # The order form filled itself with a suggested description; the agent adds the citizen's own words.
    site.feed.autofill(
        AutofillReady(
            "call-copy", (FilledField("description", "路灯损坏", "路灯损坏", "speech", "听到「路灯」"),)
        )
    )
    wait_js(page, "document.getElementById('description').value === '路灯损坏'")
    _say(site, "call-copy", "caller", "小区门口的路灯坏了一个星期。", True, 12_000, 15_000)
    _say(site, "call-copy", "caller", "在和平大道32号。", True, 16_000, 18_000)
    _wait_applied(page, base + 2)
    page.click("#transcript li[data-key='caller-1'] [data-testid=copy-line]")
    page.click("#transcript li[data-key='caller-2'] [data-testid=copy-line]")
    assert page.input_value("#description") == (
        "路灯损坏\n[通话转写 00:12 市民] 小区门口的路灯坏了一个星期。\n[通话转写 00:16 市民] 在和平大道32号。"
    )
    assert page.locator("#transcript li.copied").count() == 2
    state = json.loads(page.input_value("#assist_state"))
    assert state["description"]["state"] == "edited", "the agent's text now: a later suggestion keeps off it"


def test_the_list_follows_the_newest_line_unless_the_agent_scrolled_up(site: Site, page: Any) -> None:
    _answer(site, page, "call-scroll")
    base = _applied(page)
    for i in range(40):
        _say(
            site,
            "call-scroll",
            ("caller", "agent")[i % 2],
            f"第{i}句话，说得比较长一点。",
            True,
            i * 3000,
            i * 3000 + 2000,
        )
    _wait_applied(page, base + 40)
    at_bottom = (
        "(b => b.scrollHeight - b.scrollTop - b.clientHeight <= 24)(document.getElementById('transcript'))"
    )
    assert page.evaluate(
        "document.getElementById('transcript').scrollHeight > document.getElementById('transcript').clientHeight"
    )
    assert page.evaluate(at_bottom) and page.is_hidden("#transcript-new")

    page.hover("#transcript")
    page.mouse.wheel(0, -2000)  # the agent reads back
    wait_js(page, "document.getElementById('transcript').scrollTop === 0")
    _say(site, "call-scroll", "caller", "还有一件事。", True, 130_000, 131_000)
    _wait_applied(page, base + 41)
    assert page.evaluate("document.getElementById('transcript').scrollTop") == 0
    assert page.is_visible("#transcript-new")
    page.click("#transcript-new")
    assert page.evaluate(at_bottom) and page.is_hidden("#transcript-new")
    _say(site, "call-scroll", "agent", "好的。", True, 132_000, 132_500)
    _wait_applied(page, base + 42)
    assert page.evaluate(at_bottom), "back at the bottom: it follows again"


def test_a_late_final_is_placed_before_the_next_utterances_partial(site: Site, page: Any) -> None:
    """A second pass still decoding utterance 1 while utterance 2's partials arrive."""
    _answer(site, page, "call-late")
    base = _applied(page)
    _say(site, "call-late", "caller", "路灯", False, 0, 800)
    _say(site, "call-late", "caller", "已经", False, 2500, 2900)  # utterance 2, after 1's endpoint
    _say(site, "call-late", "caller", "路灯坏了。", True, 200, 2000)
    _wait_applied(page, base + 3)
    texts = page.locator("#transcript li .text").all_inner_texts()
    assert texts == ["路灯坏了。", "已经"]
    _say(site, "call-late", "caller", "已经一个星期了。", True, 2600, 4000)
    _wait_applied(page, base + 4)
    assert page.locator("#transcript li .text").all_inner_texts() == ["路灯坏了。", "已经一个星期了。"]
    assert page.locator("#transcript li.final").count() == 2


RENDER_PROBE = """() => {
  const box = document.getElementById('transcript');
  const probe = {times: [], maxLines: 0, maxPartials: 0};
  document.addEventListener('hotline:transcript', () => { probe.t0 = performance.now(); }, true);
  document.addEventListener('hotline:transcript', () => {
    probe.times.push(performance.now() - probe.t0);
    const list = box.querySelector('ol.lines');
    probe.maxLines = Math.max(probe.maxLines, list.children.length);
    probe.maxPartials = Math.max(probe.maxPartials, list.querySelectorAll('li.partial').length);
  });
  window.__probe = probe;
}"""


def test_six_hundred_utterances_leave_six_hundred_lines(site: Site, page: Any) -> None:
    """A 20-minute call: 600 utterances over both legs, each 3 partials then its final (2,400 events)."""
    _answer(site, page, "call-long")
    page.evaluate(RENDER_PROBE)
    nodes_before = page.evaluate("document.getElementsByTagName('*').length")
    base = _applied(page)
    events = 0
    for i in range(600):
        leg = ("caller", "agent")[i % 2]
        start = i * 2000
        for n in (3, 7, 11):
            _say(site, "call-long", leg, "市民反映小区噪音扰民问题"[:n], False, start, start + 300 * n)
        _say(
            site, "call-long", leg, f"第{i}句：市民反映小区夜间施工噪音扰民。", True, start + 50, start + 1900
        )
        events += 4
        if i % 20 == 19:  # the stream's queue holds 1,000 events: keep the producer near the page
            _wait_applied(page, base + events)
    _wait_applied(page, base + events)
    assert page.locator(LINES).count() == 600
    assert page.locator("#transcript li.final").count() == 600
    nodes_after = page.evaluate("document.getElementsByTagName('*').length")
    probe = page.evaluate(
        "({n: __probe.times.length, maxLines: __probe.maxLines, maxPartials: __probe.maxPartials, "
        "times: __probe.times})"
    )
    assert probe["maxPartials"] <= 2, "at most one partial per leg"
    assert probe["maxLines"] == 600, "the DOM grows by one line per utterance, never per partial"
    per_line = (nodes_after - nodes_before) / 600
    assert per_line < 6, per_line  # li + when + who + text + copy button
    times = sorted(probe["times"])
    first, last = probe["times"][:400], probe["times"][-400:]
    print(
        f"\nrender: {probe['n']} events, median {times[len(times) // 2]:.3f} ms, "
        f"p95 {times[int(len(times) * 0.95)]:.3f} ms, max {times[-1]:.3f} ms; "
        f"mean of the first 400 {sum(first) / len(first):.3f} ms, of the last 400 {sum(last) / len(last):.3f} ms; "
        f"DOM +{nodes_after - nodes_before} elements ({per_line:.1f} per utterance)"
    )
