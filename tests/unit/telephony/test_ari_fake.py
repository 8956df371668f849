from __future__ import annotations

import pytest

from telephony.ari import AriEndpoint, AriError
from telephony.ari_fake import FakeCallControl


def test_events_url_carries_app_and_subscribe_all_but_no_password() -> None:
    endpoint = AriEndpoint("http://127.0.0.1:18088", "hotline", "p4ss", "hotline")
    assert endpoint.events_url == "ws://127.0.0.1:18088/ari/events?app=hotline&subscribeAll=true"
    assert "p4ss" not in endpoint.events_url
    # basic auth on the upgrade request: base64("hotline:p4ss")
    assert endpoint.auth_headers == {"Authorization": "Basic aG90bGluZTpwNHNz"}


async def test_fake_bridges_and_channels() -> None:
    ari = FakeCallControl()
    channel = await ari.originate("PJSIP/agent1001", caller_id="12345", variables={"HOTLINE_CALL_ID": "c1"})
    assert await ari.get_variable(channel["id"], "HOTLINE_CALL_ID") == "c1"
    bridge = await ari.create_bridge()
    await ari.add_to_bridge(bridge, channel["id"])
    assert (await ari.bridges())[0]["channels"] == [channel["id"]]
    await ari.hangup(channel["id"])
    assert await ari.channel(channel["id"]) is None
    with pytest.raises(AriError):
        await ari.answer(channel["id"])
