"""The ARI contract, run against the fake and a real Asterisk; reconnection after an Asterisk restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from telephony.ari import AriClient, AriEndpoint, AriError, CallControl
from telephony.ari_fake import FakeCallControl
from telephony.switch import Switch
from telephony.testing import running_switch, why_no_asterisk


@pytest.fixture(scope="module")
def switch() -> Iterator[Switch]:
    reason = why_no_asterisk(need=())
    if reason:
        pytest.skip(reason)
    with running_switch() as running:
        yield running


def client_for(switch: Switch) -> AriClient:
    cfg = switch.config
    return AriClient(
        AriEndpoint(f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, cfg.ari_app)
    )


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.asterisk)])
async def control(request: pytest.FixtureRequest) -> AsyncIterator[CallControl]:
    if request.param == "fake":
        yield FakeCallControl()
        return
    client = client_for(request.getfixturevalue("switch"))

    async def ignore(_event: dict[str, Any]) -> None:
        return None

    # Originated channels enter the Stasis application, which exists while its websocket is connected.
    events = asyncio.create_task(client.run_events(ignore))
    try:
        await asyncio.wait_for(client.connected.wait(), 10)
        yield client
    finally:
        events.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await events
        await client.aclose()


async def gone(control: CallControl, channel_id: str) -> bool:
    for _ in range(50):
        if await control.channel(channel_id) is None:
            return True
        await asyncio.sleep(0.1)
    return False


async def set_when_in_stasis(control: CallControl, channel_id: str, name: str, value: str) -> None:
    """An originated channel enters the Stasis application only once the Local channel answers; until
    then Asterisk refuses channel operations with 409 "Channel not in Stasis application"."""
    for _ in range(50):
        try:
            await control.set_variable(channel_id, name, value)
            return
        except AriError as exc:
            if exc.status != 409:
                raise
            await asyncio.sleep(0.1)
    await control.set_variable(channel_id, name, value)


async def test_originate_variables_bridge_hangup(control: CallControl) -> None:
    channel: dict[str, Any] = await control.originate(
        "Local/park@hotline-util", caller_id="12345", variables={"HOTLINE_CALL_ID": "contract-1"}
    )
    channel_id = channel["id"]
    assert channel_id in {c["id"] for c in await control.channels()}
    assert await control.get_variable(channel_id, "HOTLINE_CALL_ID") == "contract-1"
    await set_when_in_stasis(control, channel_id, "HOTLINE_QUEUE", "urgent")
    assert await control.get_variable(channel_id, "HOTLINE_QUEUE") == "urgent"
    bridge = await control.create_bridge("mixing", "contract")
    try:
        assert bridge in {b["id"] for b in await control.bridges()}
    finally:
        await control.destroy_bridge(bridge)
    await control.hangup(channel_id)
    assert await gone(control, channel_id)
    assert await control.get_variable(channel_id, "HOTLINE_CALL_ID") is None
    await control.hangup(channel_id)  # hanging up a gone channel is not an error


@pytest.mark.asterisk
@pytest.mark.slow
async def test_events_reconnect_after_an_asterisk_restart(switch: Switch) -> None:
    client = client_for(switch)
    events: list[dict[str, Any]] = []
    connections = 0

    async def on_event(event: dict[str, Any]) -> None:
        events.append(event)

    async def on_connected() -> None:
        nonlocal connections
        connections += 1

    task = asyncio.create_task(client.run_events(on_event, on_connected=on_connected, max_backoff=0.5))
    try:
        await asyncio.wait_for(client.connected.wait(), 10)
        await asyncio.to_thread(switch.stop)
        await asyncio.to_thread(switch.start)
        for _ in range(100):
            if connections >= 2:
                break
            await asyncio.sleep(0.1)
        assert connections == 2
        channel = await client.originate("Local/park@hotline-util", app_args="after-restart")
        for _ in range(50):
            if any(e.get("type") == "StasisStart" and e["channel"]["id"] == channel["id"] for e in events):
                break
            await asyncio.sleep(0.1)
        starts = [e for e in events if e.get("type") == "StasisStart"]
        assert starts
        assert starts[-1]["args"] == ["after-restart"]
        await client.hangup(channel["id"])
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()
