"""Live monitoring (listen, whisper, barge): the contract of agent_ui's CallMonitor port, run against the fake
and against the real ARI adapter (telephony.monitor) on a real Asterisk 22, where the snoop channel and the
bridge must exist in ARI while a supervisor listens, and be gone after ``stop``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from agent_ui.ports import CallMonitor, FakeCallMonitor


@dataclass
class Rig:
    monitor: CallMonitor
    live_call: str
    ari: httpx.Client | None = None  # the real switch's ARI, to look at what the adapter built


def _wait(predicate: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


@pytest.fixture(scope="module")
def real_rig() -> Iterator[Rig]:
    from telephony.ari import AriClient, AriEndpoint
    from telephony.monitor import AriCallMonitor
    from telephony.testing import running_switch, why_no_asterisk

    reason = why_no_asterisk(need=())
    if reason:
        pytest.skip(reason)
    with running_switch() as switch:
        cfg = switch.config
        base = f"http://127.0.0.1:{cfg.http_port}"
        loop = asyncio.new_event_loop()
        client = AriClient(AriEndpoint(base, cfg.ari_user, cfg.ari_password, cfg.ari_app))

        async def ignore(_event: dict[str, Any]) -> None:
            return None

        # Snoop and created channels enter our Stasis application, which exists while its websocket is open.
        events = loop.create_task(client.run_events(ignore))
        loop.run_until_complete(asyncio.wait_for(client.connected.wait(), 10))
        # The "call": a caller leg that answers and waits ([hotline-util] park).
        caller = loop.run_until_complete(client.originate("Local/park@hotline-util"))
        ari = httpx.Client(base_url=f"{base}/ari", auth=(cfg.ari_user, cfg.ari_password), timeout=5)
        # The supervisor's phone: a Local channel into the same park extension answers at once.
        monitor = AriCallMonitor(
            base,
            cfg.ari_user,
            cfg.ari_password,
            cfg.ari_app,
            endpoint_template="Local/{extension}@hotline-util",
        )
        try:
            yield Rig(monitor, caller["id"], ari)
        finally:
            monitor.close()
            ari.close()
            events.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(events)
            loop.run_until_complete(client.aclose())
            loop.close()


@pytest.fixture(params=["fake", pytest.param("real", marks=[pytest.mark.asterisk, pytest.mark.slow])])
def rig(request: pytest.FixtureRequest) -> Rig:
    if request.param == "fake":
        return Rig(FakeCallMonitor(live_calls={"live-call"}), "live-call")
    real: Rig = request.getfixturevalue("real_rig")
    return real


def _supervisor_extension(rig: Rig) -> str:
    return "park" if rig.ari is not None else "8001"


def test_unknown_call_is_refused(rig: Rig) -> None:
    with pytest.raises(RuntimeError, match="no-such-call"):
        rig.monitor.monitor("no-such-call", _supervisor_extension(rig), "spy")


def test_unknown_mode_is_refused(rig: Rig) -> None:
    with pytest.raises(ValueError, match="mode"):
        rig.monitor.monitor(rig.live_call, _supervisor_extension(rig), "record")


@pytest.mark.parametrize("mode", ["spy", "whisper", "barge"])
def test_each_mode_sets_up_and_stops(rig: Rig, mode: str) -> None:
    session = rig.monitor.monitor(rig.live_call, _supervisor_extension(rig), mode)
    assert session
    if rig.ari is not None:
        ari = rig.ari
        # The snoop channel on the caller's channel and a mixing bridge holding it and the supervisor.
        snoops = [c for c in ari.get("/channels").json() if c["name"].startswith("Snoop/")]
        assert len(snoops) == 1, snoops
        bridges = [b for b in ari.get("/bridges").json() if snoops[0]["id"] in b["channels"]]
        assert len(bridges) == 1 and bridges[0]["bridge_type"] == "mixing"
        assert len(bridges[0]["channels"]) == 2  # the snoop and the supervisor's leg
        supervisor = next(c for c in bridges[0]["channels"] if c != snoops[0]["id"])
        assert _wait(lambda: ari.get(f"/channels/{supervisor}").json().get("state") == "Up")
    rig.monitor.stop(session)
    rig.monitor.stop(session)  # stopping twice is harmless
    if rig.ari is not None:
        ari = rig.ari
        assert _wait(lambda: not [c for c in ari.get("/channels").json() if c["name"].startswith("Snoop/")])
        assert _wait(lambda: ari.get("/bridges").json() == [])
        assert ari.get(f"/channels/{rig.live_call}").status_code == 200  # the call itself goes on


@pytest.mark.asterisk
@pytest.mark.slow
def test_barge_joins_a_bridge_that_ari_controls(real_rig: Rig) -> None:
    """A call in a Stasis mixing bridge (a callback, a three-way call): the supervisor joins that bridge."""
    ari = real_rig.ari
    assert ari is not None
    bridge = ari.post("/bridges", params={"type": "mixing", "name": "the-call"}).json()
    try:
        assert (
            ari.post(
                f"/bridges/{bridge['id']}/addChannel", params={"channel": real_rig.live_call}
            ).status_code
            == 204
        )
        session = real_rig.monitor.monitor(real_rig.live_call, "park", "barge")
        members = ari.get(f"/bridges/{bridge['id']}").json()["channels"]
        assert real_rig.live_call in members and len(members) == 2
        assert not [c for c in ari.get("/channels").json() if c["name"].startswith("Snoop/")]
        real_rig.monitor.stop(session)
        assert _wait(lambda: ari.get(f"/bridges/{bridge['id']}").json()["channels"] == [real_rig.live_call])
    finally:
        ari.delete(f"/bridges/{bridge['id']}")
