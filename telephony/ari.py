"""ARI (the Asterisk REST Interface): REST calls with httpx, events over a websocket with reconnection.

``CallControl`` is the port the services use; ``AriClient`` is the real adapter and
``telephony.ari_fake.FakeCallControl`` the fake; tests/integration/test_telephony_ari_contract.py runs the
same contract against both. Events are Asterisk's JSON objects as dicts (``type``, ``timestamp``,
``channel``...). The websocket subscribes with ``subscribeAll=true`` so that the call recorder sees every
channel, also those that never enter Stasis (queue calls run in the dialplan).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

log = logging.getLogger(__name__)

Event = dict[str, Any]
EventHandler = Callable[[Event], Awaitable[None]]
ConnectedHandler = Callable[[], Awaitable[None]]


class AriError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ARI {status}: {message}")
        self.status = status


class CallControl(Protocol):
    """What the hotline asks of the switch (a subset of ARI, by intent)."""

    app: str

    async def channels(self) -> list[dict[str, Any]]: ...
    async def channel(self, channel_id: str) -> dict[str, Any] | None: ...
    async def originate(
        self,
        endpoint: str,
        *,
        app_args: str = "",
        caller_id: str = "",
        variables: Mapping[str, str] | None = None,
        ring_seconds: int = 30,
        channel_id: str | None = None,
    ) -> dict[str, Any]: ...
    async def hangup(self, channel_id: str, reason: str = "normal") -> None: ...
    async def answer(self, channel_id: str) -> None: ...
    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None: ...
    async def set_variable(self, channel_id: str, name: str, value: str) -> None: ...
    async def get_variable(self, channel_id: str, name: str) -> str | None: ...
    async def create_bridge(self, kind: str = "mixing", name: str = "") -> str: ...
    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None: ...
    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None: ...
    async def destroy_bridge(self, bridge_id: str) -> None: ...
    async def bridges(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class AriEndpoint:
    base_url: str  # e.g. http://127.0.0.1:8088
    user: str
    password: str
    app: str

    @property
    def events_url(self) -> str:
        ws = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return f"{ws}/ari/events?app={quote(self.app)}&subscribeAll=true"

    @property
    def auth_headers(self) -> dict[str, str]:
        """Asterisk's ARI authenticates the websocket upgrade with HTTP basic auth as it does REST calls
        (res_ari checks the Authorization header before ``api_key``), so the password stays out of the URL,
        which Asterisk's and any proxy's logs would keep."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


class AriClient:
    """The real adapter. ``run_events`` keeps a websocket open and reconnects after an Asterisk restart."""

    def __init__(self, endpoint: AriEndpoint, *, timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self.app = endpoint.app
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url.rstrip("/") + "/ari",
            auth=(endpoint.user, endpoint.password),
            timeout=timeout,
        )
        self.connected = asyncio.Event()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        missing_ok: bool = False,
    ) -> Any:
        response = await self._http.request(method, path, params=params, json=body)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise AriError(response.status_code, response.text)
        return response.json() if response.content else None

    # ---- REST ---------------------------------------------------------------------------------------
    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/asterisk/info")
        return result

    async def channels(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "/channels")
        return result

    async def channel(self, channel_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._call("GET", f"/channels/{channel_id}", missing_ok=True)
        return result

    async def originate(
        self,
        endpoint: str,
        *,
        app_args: str = "",
        caller_id: str = "",
        variables: Mapping[str, str] | None = None,
        ring_seconds: int = 30,
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": app_args,
            "timeout": ring_seconds,
        }
        if caller_id:
            params["callerId"] = caller_id
        if channel_id:
            params["channelId"] = channel_id
        result: dict[str, Any] = await self._call(
            "POST", "/channels", params=params, body={"variables": dict(variables or {})}
        )
        return result

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._call("DELETE", f"/channels/{channel_id}", params={"reason": reason}, missing_ok=True)

    async def answer(self, channel_id: str) -> None:
        await self._call("POST", f"/channels/{channel_id}/answer")

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        await self._call(
            "POST",
            f"/channels/{channel_id}/continue",
            params={"context": context, "extension": extension, "priority": priority},
        )

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self._call(
            "POST", f"/channels/{channel_id}/variable", params={"variable": name, "value": value}
        )

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        try:
            result = await self._call("GET", f"/channels/{channel_id}/variable", params={"variable": name})
        except AriError as exc:
            if exc.status in (400, 404):  # unset variable / gone channel
                return None
            raise
        value = result.get("value") if result else None
        return str(value) if value is not None else None

    async def create_bridge(self, kind: str = "mixing", name: str = "") -> str:
        result = await self._call("POST", "/bridges", params={"type": kind, "name": name})
        return str(result["id"])

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self._call("POST", f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id})

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self._call("POST", f"/bridges/{bridge_id}/removeChannel", params={"channel": channel_id})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._call("DELETE", f"/bridges/{bridge_id}", missing_ok=True)

    async def bridges(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "/bridges")
        return result

    # ---- events -------------------------------------------------------------------------------------
    async def run_events(
        self,
        handler: EventHandler,
        *,
        on_connected: ConnectedHandler | None = None,
        min_backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> None:
        """Deliver every event to ``handler`` until cancelled, reconnecting with exponential backoff.

        ``on_connected`` runs after each (re)connection, before the first event: the place to reconcile
        the calls that still exist with those the hotline believes in (Asterisk may have restarted).
        """
        backoff = min_backoff
        while True:
            try:
                async with connect(
                    self.endpoint.events_url,
                    additional_headers=self.endpoint.auth_headers,
                    open_timeout=5,
                    ping_interval=10,
                ) as ws:
                    backoff = min_backoff
                    self.connected.set()
                    log.info("ARI events connected (%s)", self.endpoint.base_url)
                    if on_connected:
                        await on_connected()
                    async for message in ws:
                        try:
                            await handler(json.loads(message))
                        except Exception:
                            log.exception("ARI event handler failed")
            except (TimeoutError, OSError, WebSocketException) as exc:
                log.info("ARI events unavailable (%s); retrying in %.1f s", type(exc).__name__, backoff)
            self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(max_backoff, backoff * 2)
