"""The order form that fills itself, in real Chromium: suggested values arrive with the call, are marked
until the agent accepts or edits them, never overwrite the agent's own typing, offer both districts when
two are named, and filing records per field what the agent kept. Also prints how long an autofill takes
from the desk feed to the form (docs/benchmarks.md); no timing decides the outcome."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from agent_ui.live import AutofillReady, DeskFeed, FilledField
from routing.orm import Category
from routing.suggest.orm import AssistFieldChoice
from tests.e2e.test_browser_desk import Site, _login, browser, served  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PATH = "城乡建设/城市建设和市政管理/城市公共设施"
CALL = "call-assist-1"


def _fields(*items: tuple[str, str, str, str, tuple[str, ...]]) -> tuple[FilledField, ...]:
    return tuple(
        FilledField(name, value, value, source, why, offers) for name, value, source, why, offers in items
    )


def test_the_order_form_fills_itself_and_the_agent_keeps_the_last_word(
    served: Site,  # noqa: F811  (the desk tests' module fixtures: one server and browser per module)
    browser: Any,  # noqa: F811
) -> None:
    hot = served.hot
    feed = hot.desk.feed
    assert isinstance(feed, DeskFeed)
    with hot.session_factory() as session:
        category = session.scalar(select(Category.id).where(Category.path == PATH))
    page = _login(browser, served.base, "agent1")
    page.wait_for_selector("body[data-live='1']", state="attached")
    # The call is answered: the caller's number is in the form at once, marked as a suggestion.
    feed.call_answered("agent1", CALL, "13800138000", "consultation")
    feed.autofill(
        AutofillReady(CALL, _fields(("citizen_phone", "13800138000", "screen_pop", "来电号码", ())))
    )
    # Waits use expect() and selectors: the page's CSP refuses the eval behind a polled wait_for_function.
    expect(page.locator("#citizen_phone")).to_have_value("13800138000")
    assert "af-suggested" in (page.get_attribute("#citizen_phone", "class") or "")
    page.fill("#citizen_name", "王女士")  # the agent types what the assist does not fill

    # The citizen names two districts: the district stays empty, both are offered.
    feed.autofill(
        AutofillReady(
            CALL,
            _fields(
                ("citizen_phone", "13800138000", "screen_pop", "来电号码", ()),
                ("district", "", "speech", "提到了两个区：秀英、龙华", ("秀英区", "龙华区")),
            ),
        )
    )
    page.wait_for_selector('[data-af-for="district"] [data-af-offer="district"]')
    assert page.input_value("#district") == ""
    assert page.locator('[data-af-for="district"] [data-af-offer]').all_inner_texts() == [
        "秀英区",
        "龙华区",
    ]

    # Then they say where exactly: every field fills, each marked suggested with its reason.
    full = _fields(
        (
            "citizen_phone",
            "13800138000",
            "screen_pop",
            "来电号码；市民报了回电号码，可改用",
            ("13907551234",),
        ),
        ("district", "美兰区", "speech", "按地名：海甸岛、和平大道", ()),
        ("location_text", "海甸岛和平大道32号门口", "speech", "按地名：海甸岛、和平大道", ()),
        ("category", PATH, "model", "分类模型 0.82", ()),
        ("case_type", "complaint", "speech", "听到「坏了」", ()),
        ("unit", "city.municipal", "model", "职责/事项：路灯", ()),
        (
            "description",
            "海甸岛和平大道32号门口路灯坏了一个星期，希望尽快修。",
            "speech",
            "摘自市民原话",
            (),
        ),
    )
    feed.autofill(AutofillReady(CALL, full))
    expect(page.locator("#district")).to_have_value("美兰区")
    assert page.input_value("#location_text") == "海甸岛和平大道32号门口"
    assert page.input_value("#category_id") == str(category)
    assert (
        page.input_value("#case_type") == "complaint" and page.input_value("#unit_code") == "city.municipal"
    )
    assert page.input_value("#citizen_name") == "王女士", "what the agent typed is never overwritten"
    assert page.locator(".af-badge").count() >= 7 and page.is_visible("#af-accept-all")
    assert "按地名" in page.inner_text('[data-af-for="district"]')
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "agent-desk-autofill.png"))

    # The agent accepts the district, corrects the address, takes the callback number read out.
    page.click('[data-af-accept="district"]')
    assert page.inner_text('[data-af-for="district"] .af-badge') == "已采用"
    page.fill("#location_text", "海甸岛和平大道30号")
    assert page.inner_text('[data-af-for="location_text"] .af-badge') == "已修改"
    page.click('[data-af-offer="citizen_phone"]')
    assert page.input_value("#citizen_phone") == "13907551234"

    # A later final brings new values: the edited address stays, the untouched summary follows.
    later = tuple(
        FilledField(
            f.field,
            "海甸岛和平大道32号" if f.field == "location_text" else f.value,
            f.label,
            f.source,
            f.why,
            f.offers,
        )
        if f.field != "description"
        else FilledField(
            "description", "路灯坏了一个星期，晚上很黑，希望尽快修。", "", "speech", "摘自市民原话"
        )
        for f in full
    )
    feed.autofill(AutofillReady(CALL, later))
    expect(page.locator("#description")).to_have_value(re.compile("^路灯坏了一个星期，晚上"))
    assert page.input_value("#location_text") == "海甸岛和平大道30号"
    assert page.input_value("#citizen_phone") == "13907551234"

    # How long from the desk feed to the form updated (printed for docs/benchmarks.md, never asserted).
    waits = []
    applied = int(page.get_attribute("#intake-form", "data-af-seq") or "0")
    for i in range(20):
        text = f"#{i}# 路灯坏了，希望尽快修。"
        started = time.perf_counter()
        feed.autofill(AutofillReady(CALL, (FilledField("description", text, "", "speech", "摘自市民原话"),)))
        page.wait_for_selector(f"#intake-form[data-af-seq='{applied + i + 1}']", state="attached")
        waits.append((time.perf_counter() - started) * 1000)
        assert page.input_value("#description") == text
    waits.sort()
    print(f"\nautofill feed → form updated: p50 {statistics.median(waits):.0f} ms, p95 {waits[18]:.0f} ms")

    page.click("#btn-dispatch")
    page.wait_for_selector(".flash.ok")
    page.context.close()
    with hot.session_factory() as session:
        rows = {
            r.field: r.outcome
            for r in session.scalars(select(AssistFieldChoice).where(AssistFieldChoice.call_id == CALL))
        }
    assert rows["district"] == "accepted"
    assert rows["location_text"] == "changed" and rows["citizen_phone"] == "changed"
    assert rows["category"] == "kept" and rows["unit"] == "kept" and rows["case_type"] == "kept"
    assert rows["description"] == "kept"
