from __future__ import annotations

import base64
import itertools
import json

import httpx
import pytest

from asr.ari_tap import AriError, AriTap


def _recorder(
    fail_on: str | None = None,
) -> tuple[list[tuple[str, str, dict[str, str]]], httpx.MockTransport]:
    calls: list[tuple[str, str, dict[str, str]]] = []
    ids = itertools.count(1)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Basic " + base64.b64encode(b"hotline:pw").decode()
        calls.append((request.method, request.url.path, dict(request.url.params)))
        if fail_on and request.url.path.endswith(fail_on):
            return httpx.Response(500, text="boom")
        if request.method == "DELETE":
            return httpx.Response(404 if "ext" in request.url.path else 204)
        if request.url.path.endswith("/addChannel"):
            return httpx.Response(204)
        kind = (
            "bridge"
            if request.url.path == "/ari/bridges"
            else "snoop"
            if "snoop" in request.url.path
            else "ext"
        )
        return httpx.Response(200, content=json.dumps({"id": f"{kind}-{next(ids)}"}))

    return calls, httpx.MockTransport(handler)


async def test_tap_creates_snoop_external_media_and_bridge_per_leg_then_cleans_up() -> None:
    calls, transport = _recorder()
    tap = AriTap("http://127.0.0.1:8088", "hotline", "pw", "hotline", transport=transport)
    handles = await tap.tap("chan-1", {"caller": 40000, "agent": 40002})
    media = {
        "app": "hotline",
        "format": "slin16",
        "encapsulation": "rtp",
        "transport": "udp",
        "direction": "both",
    }
    assert calls == [
        ("POST", "/ari/channels/chan-1/snoop", {"spy": "in", "app": "hotline"}),
        ("POST", "/ari/channels/externalMedia", {**media, "external_host": "127.0.0.1:40000"}),
        ("POST", "/ari/bridges", {"type": "mixing", "name": "asr-chan-1-caller"}),
        ("POST", "/ari/bridges/bridge-3/addChannel", {"channel": "snoop-1,ext-2"}),
        ("POST", "/ari/channels/chan-1/snoop", {"spy": "out", "app": "hotline"}),
        ("POST", "/ari/channels/externalMedia", {**media, "external_host": "127.0.0.1:40002"}),
        ("POST", "/ari/bridges", {"type": "mixing", "name": "asr-chan-1-agent"}),
        ("POST", "/ari/bridges/bridge-6/addChannel", {"channel": "snoop-4,ext-5"}),
    ]
    calls.clear()
    await tap.untap(handles)  # the externalMedia channels already went with the call: 404 is fine
    assert calls == [
        ("DELETE", "/ari/bridges/bridge-3", {}),
        ("DELETE", "/ari/channels/ext-2", {}),
        ("DELETE", "/ari/channels/snoop-1", {}),
        ("DELETE", "/ari/bridges/bridge-6", {}),
        ("DELETE", "/ari/channels/ext-5", {}),
        ("DELETE", "/ari/channels/snoop-4", {}),
    ]
    await tap.aclose()


async def test_a_failed_step_undoes_what_was_made() -> None:
    calls, transport = _recorder(fail_on="/bridges")
    tap = AriTap("http://127.0.0.1:8088/", "hotline", "pw", "hotline", transport=transport)
    with pytest.raises(AriError, match="500"):
        await tap.tap("chan-1", {"caller": 40000})
    assert [c[0] for c in calls] == ["POST", "POST", "POST"]  # the leg was not complete: nothing recorded
    await tap.aclose()


def _not_in_stasis_for(attempts: int) -> tuple[list[str], httpx.MockTransport]:
    """Asterisk answers addChannel with 422 until the new channels have entered Stasis."""
    seen: list[str] = []
    ids = itertools.count(1)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/addChannel"):
            tries = sum(s.endswith("/addChannel") for s in seen)
            if tries <= attempts:
                return httpx.Response(422, json={"message": "Channel not in Stasis application"})
            return httpx.Response(204)
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json={"id": f"id-{next(ids)}"})

    return seen, httpx.MockTransport(handler)


async def test_adding_to_the_bridge_waits_until_the_channels_are_in_stasis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("asr.ari_tap.STASIS_RETRY_DELAYS", (0.0, 0.0, 0.0, None))
    seen, transport = _not_in_stasis_for(2)
    tap = AriTap("http://127.0.0.1:8088", "hotline", "pw", "hotline", transport=transport)
    handles = await tap.tap("chan-1", {"caller": 40000})
    assert [leg.bridge_id for leg in handles.legs] == ["id-3"]
    assert sum(s.endswith("/addChannel") for s in seen) == 3 and not any(s.startswith("DELETE") for s in seen)
    await tap.aclose()


async def test_channels_that_never_reach_stasis_fail_the_tap_and_are_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("asr.ari_tap.STASIS_RETRY_DELAYS", (0.0, 0.0, None))
    seen, transport = _not_in_stasis_for(99)
    tap = AriTap("http://127.0.0.1:8088", "hotline", "pw", "hotline", transport=transport)
    with pytest.raises(AriError, match="422"):
        await tap.tap("chan-1", {"caller": 40000})
    assert sum(s.endswith("/addChannel") for s in seen) == 3
    assert [s for s in seen if s.startswith("DELETE")] == [
        "DELETE /ari/bridges/id-3",
        "DELETE /ari/channels/id-2",
        "DELETE /ari/channels/id-1",
    ]
    await tap.aclose()


async def test_repoint_adds_a_new_external_media_to_each_bridge_then_deletes_the_old_one() -> None:
    calls, transport = _recorder()
    tap = AriTap("http://127.0.0.1:8088", "hotline", "pw", "hotline", transport=transport)
    handles = await tap.tap("chan-1", {"caller": 40000}, host="10.0.0.21")
    assert calls[1][2]["external_host"] == "10.0.0.21:40000"  # the worker's address, per call
    calls.clear()
    await tap.repoint(handles, {"caller": 41000}, "10.0.0.22")
    assert [(m, p) for m, p, _ in calls] == [
        ("POST", "/ari/channels/externalMedia"),
        ("POST", "/ari/bridges/bridge-3/addChannel"),
        ("DELETE", "/ari/channels/ext-2"),
    ]
    assert calls[0][2]["external_host"] == "10.0.0.22:41000" and calls[1][2] == {"channel": "ext-4"}
    assert handles.legs[0].external_id == "ext-4" and handles.legs[0].snoop_id == "snoop-1"
    await tap.aclose()


async def test_the_taps_another_process_made_are_found_by_bridge_name_and_removed() -> None:
    calls: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.url.path == "/ari/bridges":
            bridges = [
                {"id": "b1", "name": "asr-chan-1-caller", "channels": ["s1", "e1"]},
                {"id": "b2", "name": "asr-chan-1-agent", "channels": ["e2"]},  # its snoop went with the call
                {"id": "b3", "name": "asr-chan-9-caller", "channels": ["s9", "e9"]},
            ]
            return httpx.Response(200, content=json.dumps(bridges))
        if request.method == "GET":
            kind = "Snoop/PJSIP-x" if "/s" in request.url.path else "UnicastRTP/10.0.0.21:4000-y"
            return httpx.Response(200, content=json.dumps({"name": kind}))
        return httpx.Response(204)

    tap = AriTap("http://127.0.0.1:8088", "hotline", "pw", "hotline", transport=httpx.MockTransport(handler))
    handles = await tap.find("chan-1")
    assert [(h.leg, h.snoop_id, h.external_id, h.bridge_id) for h in handles.legs] == [
        ("caller", "s1", "e1", "b1"),
        ("agent", "", "e2", "b2"),
    ]
    calls.clear()
    await tap.untap(handles)
    assert [p for m, p in calls if m == "DELETE"] == [
        "/ari/bridges/b1",
        "/ari/channels/e1",
        "/ari/channels/s1",
        "/ari/bridges/b2",
        "/ari/channels/e2",
    ]
    await tap.aclose()
