"""Tapping a call's two directions through ARI (Asterisk 22 REST API) into our RTP ports.

For each leg: a snoop channel on the caller's channel (``spy=in``: what the caller says; ``spy=out``: what
the caller hears, i.e. the agent), an externalMedia channel that sends that audio as RTP/slin16 to our
UDP port, and a mixing bridge joining the two. A snoop (rather than bridging the call itself) leaves the
call's own bridge alone, so the caller still hears prompts and the agent. On hangup everything is deleted;
a 404 there means Asterisk already destroyed it with the call, which is fine.

Each call's RTP goes to the ASR worker that transcribes it (``host``). When that worker dies, ``repoint``
gives each leg a new externalMedia channel towards the new worker, adds it to the leg's bridge, then deletes
the old one: the snoop and the bridge stay, so the call itself never notices.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx

from asr.events import Leg

SPY: dict[Leg, str] = {"caller": "in", "agent": "out"}
# Waits between addChannel attempts while the new channels reach Stasis (about 3 s in all under load).
STASIS_RETRY_DELAYS: tuple[float | None, ...] = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, None)


@dataclass
class LegTap:
    leg: Leg
    snoop_id: str
    external_id: str
    bridge_id: str


@dataclass
class CallTapHandles:
    channel_id: str
    legs: list[LegTap] = field(default_factory=list)


class AriError(RuntimeError):
    pass


class AriTap:
    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        app: str,
        *,
        rtp_host: str = "127.0.0.1",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._app = app
        self._rtp_host = rtp_host
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/ari", auth=(user, password), transport=transport, timeout=5.0
        )

    async def tap(self, channel_id: str, ports: dict[Leg, int], host: str | None = None) -> CallTapHandles:
        handles = CallTapHandles(channel_id)
        try:
            for leg, port in ports.items():
                handles.legs.append(await self._tap_leg(channel_id, leg, host or self._rtp_host, port))
        except Exception:
            await self.untap(handles)
            raise
        return handles

    async def _tap_leg(self, channel_id: str, leg: Leg, host: str, port: int) -> LegTap:
        snoop = await self._post(f"/channels/{channel_id}/snoop", {"spy": SPY[leg], "app": self._app})
        external = await self._external(host, port)
        bridge = await self._post("/bridges", {"type": "mixing", "name": f"asr-{channel_id}-{leg}"})
        handle = LegTap(leg, snoop["id"], external["id"], bridge["id"])
        try:
            await self._add_when_in_stasis(bridge["id"], f"{snoop['id']},{external['id']}")
        except Exception:
            await self.untap(CallTapHandles(channel_id, [handle]))
            raise
        return handle

    async def _external(self, host: str, port: int) -> dict[str, str]:
        return await self._post(
            "/channels/externalMedia",
            {
                "app": self._app,
                "external_host": f"{host}:{port}",
                "format": "slin16",
                "encapsulation": "rtp",
                "transport": "udp",
                "direction": "both",
            },
        )

    async def repoint(self, handles: CallTapHandles, ports: dict[Leg, int], host: str) -> None:
        """Send each leg's audio to ``host:ports[leg]`` from now on (its worker changed)."""
        for leg in handles.legs:
            if leg.leg not in ports:
                continue
            external = await self._external(host, ports[leg.leg])
            try:
                await self._add_when_in_stasis(leg.bridge_id, external["id"])
            except Exception:
                await self._delete(f"/channels/{external['id']}")
                raise
            old, leg.external_id = leg.external_id, external["id"]
            await self._delete(f"/channels/{old}")

    async def _add_when_in_stasis(self, bridge_id: str, channels: str) -> None:
        # A snoop or externalMedia channel is created at once but enters our Stasis application a moment
        # later; until then Asterisk answers addChannel with 422 "Channel not in Stasis application".
        for delay in STASIS_RETRY_DELAYS:
            response = await self._client.post(
                f"/bridges/{bridge_id}/addChannel", params={"channel": channels}
            )
            if response.status_code < 300:
                return
            if response.status_code != 422 or delay is None:
                raise AriError(f"POST addChannel → {response.status_code} {response.text[:200]}")
            await asyncio.sleep(delay)

    async def find(self, channel_id: str) -> CallTapHandles:
        """The taps of a call made by another process (the telephony role that held the lease before this
        one): each leg's bridge by its name, its snoop and externalMedia channels by their technology."""
        handles = CallTapHandles(channel_id)
        response = await self._client.get("/bridges")
        if response.status_code >= 300:
            raise AriError(f"GET /bridges → {response.status_code} {response.text[:200]}")
        bridges = {b.get("name"): b for b in response.json()}
        for leg in SPY:
            bridge = bridges.get(f"asr-{channel_id}-{leg}")
            if bridge is None:
                continue
            snoop = external = ""
            for member in bridge.get("channels", []):
                channel = await self._client.get(f"/channels/{member}")
                name = str(channel.json().get("name", "")) if channel.status_code < 300 else ""
                if name.startswith("Snoop/"):
                    snoop = member
                elif name.startswith("UnicastRTP/"):
                    external = member
            handles.legs.append(LegTap(leg, snoop, external, bridge["id"]))
        return handles

    async def untap(self, handles: CallTapHandles) -> None:
        for leg in handles.legs:
            await self._delete(f"/bridges/{leg.bridge_id}")
            for channel in (leg.external_id, leg.snoop_id):
                if channel:  # a found tap may lack one (it went with the call)
                    await self._delete(f"/channels/{channel}")
        handles.legs.clear()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, params: dict[str, str]) -> dict[str, str]:
        response = await self._client.post(path, params=params)
        if response.status_code >= 300:
            raise AriError(f"POST {path} → {response.status_code} {response.text[:200]}")
        return response.json() if response.content else {}

    async def _delete(self, path: str) -> None:
        response = await self._client.delete(path)
        if response.status_code >= 300 and response.status_code != 404:
            raise AriError(f"DELETE {path} → {response.status_code} {response.text[:200]}")
