"""The emergency-line keys (国办发〔2022〕12号) in real Chromium on a real switch: a baresip citizen calls the
urgent line, the agent's phone (sipp) answers, the screen pop appears on the desk; Alt+1 puts the caller through
to 110, Alt+Shift+3 opens a three-way call with 120. The units' trunk leads to a sipp phone standing for the
emergency centres. Assertions on the bridges ARI reports, the call's record and the order's audit trail."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agent_ui.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TEST_PASSWORD,
    demo_accounts,
    make_web,
    serving,
    why_no_browser,
)
from hotline.bootstrap import App
from hotline.live_calls import DeskProjection
from telephony import sipp
from telephony.agents import AgentDesk, RecordingCli
from telephony.ari import AriClient
from telephony.baresip import Baresip, UaAccount, running_baresip, to_wav8k
from telephony.desk import DeskTelephony
from telephony.orm import EmergencyTransferRow
from telephony.setup import load_agents
from telephony.switch import Switch
from telephony.testing import running_switch
from telephony.transfer import CallTransfers
from tests.e2e.telephony_support import (
    NO_WRAPUP,
    call_of,
    free_port_udp,
    recorder_running,
    sipp_agent,
    speech_clips,
)

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(150),
    pytest.mark.parametrize("seeded_db_url", ["sqlite"], indirect=True),
]

CITIZEN = "13700000042"


@dataclass
class Desk:
    switch: Switch
    client: AriClient
    page: Any
    phone: Baresip


async def bridged(client: AriClient) -> list[set[str]]:
    """The endpoints in each bridge: ``citizens``, ``agent1``, ``units`` (the emergency centre's line)."""
    names = {c["id"]: c["name"] for c in await client.channels()}
    return [
        {names.get(ch, ch).split("/", 1)[1].rsplit("-", 1)[0] for ch in b["channels"]}
        for b in await client.bridges()
        if b["channels"]
    ]


@contextlib.asynccontextmanager
async def desk_on_a_call(hot: App, tmp_path: Path) -> AsyncIterator[Desk]:
    from playwright.async_api import async_playwright

    reason = why_no_browser()
    if reason:
        pytest.skip(reason)
    caller_clip, agent_clip = speech_clips()
    agent_audio = sipp.to_ulaw(agent_clip, tmp_path / "agent.ulaw")
    agent_port, centre_port = free_port_udp(), free_port_udp()
    AgentDesk(hot.session_factory, RecordingCli([])).create(
        "agent1", "Li Lei", ["urgent"], contact=f"sip:agent1@127.0.0.1:{agent_port}"
    )
    AgentDesk(hot.session_factory, RecordingCli([])).login("agent1", datetime.now(UTC))
    demo_accounts(hot)  # desk user agent1 = SIP user agent1: the screen pop goes to their desk
    with (
        running_switch(
            load_agents(hot.session_factory), queues=NO_WRAPUP, unit_trunk=f"sip:127.0.0.1:{centre_port}"
        ) as switch,
        sipp_agent(tmp_path, agent_audio, agent_port, name="agent"),
        sipp_agent(tmp_path, agent_audio, centre_port, name="centre"),
    ):
        async with recorder_running(switch, hot) as ari:
            loop = asyncio.get_running_loop()
            transfers = CallTransfers(
                ari.client, switch, hot.session_factory, ari.recorder, answer_timeout=10
            )
            ari.listeners.append(transfers.handle)
            DeskProjection(hot.desk.feed).install(hot.bus)  # screen pops reach the desk
            hot.desk.call_control = DeskTelephony(transfers, loop)  # as the telephony role does
            hot.desk.sse_lifetime = 60.0
            web = make_web(hot.desk)
            with serving(web) as base:
                async with async_playwright() as p:
                    browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                    try:
                        page = await browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
                        await page.goto(f"{base}/login")
                        await page.fill("#username", "agent1")
                        await page.fill("#password", TEST_PASSWORD)
                        await page.click("button[type=submit]")
                        await page.wait_for_url(f"{base}/desk")
                        await page.wait_for_function("document.body.dataset.live === '1'")
                        audio = to_wav8k(caller_clip, tmp_path / "caller.wav")
                        async with running_baresip(
                            tmp_path / "citizen", UaAccount(CITIZEN), audio=audio
                        ) as phone:
                            await phone.dial(f"sip:12346@127.0.0.1:{switch.config.sip_port}")
                            await page.wait_for_selector(f"[data-testid=caller]:has-text('{CITIZEN}')")
                            await page.wait_for_selector("[data-emergency-key='1']:not([disabled])")
                            yield Desk(switch, ari.client, page, phone)
                            await phone.hangup()
                    finally:
                        await browser.close()


async def bridges_become(client: AriClient, expected: list[set[str]], within: float = 20.0) -> list[set[str]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        now = await bridged(client)
        if now == expected or loop.time() > deadline:
            return now
        await asyncio.sleep(0.1)


def kept(hot: App) -> list[EmergencyTransferRow]:
    with hot.session_factory() as session:
        return list(session.scalars(select(EmergencyTransferRow).order_by(EmergencyTransferRow.id)))


async def test_alt_1_puts_the_caller_through_to_110(hot: App, tmp_path: Path) -> None:
    async with desk_on_a_call(hot, tmp_path) as desk:
        assert await bridged(desk.client) == [{"citizens", "agent1"}]
        await desk.page.keyboard.press("Alt+Digit1")
        await desk.page.wait_for_selector(".flash:has-text('已一键转接110（公安）')")
        now_bridged = await bridges_become(desk.client, [{"citizens", "units"}])  # 110 rings 0.5 s
        number = desk.page.url.split("orders=")[1]

    assert now_bridged == [{"citizens", "units"}]  # the agent is released
    [done] = kept(hot)
    call = call_of(hot, CITIZEN)
    assert call is not None
    assert (done.call_id, done.line, done.dialled, done.mode, done.agent, done.ok) == (
        call.call_id,
        "110",
        "110",
        "transfer",
        "agent1",
        True,
    )
    order = hot.work_orders.get(number)
    assert order.call_ids == [call.call_id] and order.citizen_phone == CITIZEN
    [event] = [h for h in order.history if h.action == "emergency_transfer"]
    assert (event.actor, event.after["line"], event.after["mode"]) == ("agent1", "110", "transfer")


async def test_alt_shift_3_opens_a_three_way_call_with_120_recorded_on_the_order_filed(
    hot: App, tmp_path: Path
) -> None:
    async with desk_on_a_call(hot, tmp_path) as desk:
        await desk.page.keyboard.press("Alt+Shift+Digit3")
        await desk.page.wait_for_selector(".flash:has-text('已与120（急救）三方通话')")
        conference = await bridges_become(desk.client, [{"citizens", "agent1", "units"}])
        await desk.page.fill("#description", "家中老人晕倒，已与120三方通话")
        await desk.page.click("#intake-form summary")
        await desk.page.fill("#answer", "已联系120急救，救护车出发")
        await desk.page.click("#btn-answer")
        await desk.page.wait_for_selector(".flash:has-text('已受理')")
        number = desk.page.url.split("filed=")[1].split("&")[0]

    assert conference == [{"citizens", "agent1", "units"}]
    [done] = kept(hot)
    assert (done.line, done.mode, done.ok) == ("120", "conference", True)
    [event] = [h for h in hot.work_orders.get(number).history if h.action == "emergency_transfer"]
    assert (event.actor, event.after["line"], event.after["mode"]) == ("agent1", "120", "conference")
