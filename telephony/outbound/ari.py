"""The ARI application of outbound calls (``{ari_app}-outbound``), shared by the survey dialer, callback-in-queue
and the missed-call callbacks.

It is separate from the call recorder's application (``{ari_app}``, which subscribes to everything): one
websocket per application, because a second connection for the same application name would take its events
away from the first. Exactly one process serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from telephony.ari import AriClient, AriEndpoint, Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppEndpoint(AriEndpoint):
    """An ARI application that only hears its own channels (no ``subscribeAll``)."""

    @property
    def events_url(self) -> str:
        return super().events_url.replace("&subscribeAll=true", "")


StasisHandler = Callable[[Event], Awaitable[None]]


def channel_of(event: Event) -> str | None:
    """The channel an event is about (``Dial`` names the dialled channel ``peer``, playbacks a target URI)."""
    if event.get("type") == "Dial":
        peer = event.get("peer") or {}
        return str(peer["id"]) if "id" in peer else None
    if "playback" in event:
        target = str((event.get("playback") or {}).get("target_uri") or "")
        return target.removeprefix("channel:") if target.startswith("channel:") else None
    channel = event.get("channel") or {}
    return str(channel["id"]) if "id" in channel else None


class OutboundAri:
    """One websocket for the ARI application of outbound calls; events go to whoever watches a channel.

    ``watch(channel_id)`` yields a queue of that channel's events (register it before the channel exists);
    a ``StasisStart`` of an unwatched channel goes to the handler registered for its first argument
    (``callback-request``, ``callback-agent`` ...).
    """

    def __init__(self, client: AriClient) -> None:
        self.client = client
        self.app = client.app
        self._watchers: dict[str, asyncio.Queue[Event]] = {}
        self._stasis: dict[str, StasisHandler] = {}
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._reconnected: list[Callable[[], Awaitable[None]]] = []

    @classmethod
    def connect(cls, base_url: str, user: str, password: str, app: str) -> OutboundAri:
        return cls(AriClient(AppEndpoint(base_url, user, password, app)))

    async def start(self, wait_seconds: float = 10.0) -> None:
        if self._task is None:
            self._task = asyncio.create_task(
                self.client.run_events(self._dispatch, on_connected=self._on_connected),
                name=f"ari-{self.app}",
            )
        await asyncio.wait_for(self.client.connected.wait(), wait_seconds)

    async def aclose(self) -> None:
        for handler in list(self._handlers):
            handler.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.client.aclose()

    def on_stasis(self, first_arg: str, handler: StasisHandler) -> None:
        self._stasis[first_arg] = handler

    def on_reconnected(self, handler: Callable[[], Awaitable[None]]) -> None:
        self._reconnected.append(handler)

    async def _on_connected(self) -> None:
        for handler in self._reconnected:
            try:
                await handler()
            except Exception:
                log.exception("outbound reconciliation failed")

    @contextlib.contextmanager
    def watch(self, *channel_ids: str) -> Iterator[asyncio.Queue[Event]]:
        """One queue with the events of all these channels (register before they exist)."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        for channel_id in channel_ids:
            self._watchers[channel_id] = queue
        try:
            yield queue
        finally:
            for channel_id in channel_ids:
                if self._watchers.get(channel_id) is queue:
                    del self._watchers[channel_id]

    async def _dispatch(self, event: Event) -> None:
        channel = channel_of(event)
        if channel is not None and channel in self._watchers:
            self._watchers[channel].put_nowait(event)
            return
        if event.get("type") == "StasisStart":
            args = event.get("args") or []
            handler = self._stasis.get(args[0] if args else "")
            if handler is None:
                log.warning("no handler for Stasis args %r; hanging up %s", args, channel)
                if channel:
                    await self.client.hangup(channel)
                return
            # A slow handler (it may dial and wait) must not hold up the other calls' events.
            task = asyncio.create_task(self._run(handler, event), name=f"stasis-{args[0]}-{channel}")
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    @staticmethod
    async def _run(handler: StasisHandler, event: Event) -> None:
        try:
            await handler(event)
        except Exception:
            log.exception("Stasis handler failed for %s", channel_of(event))

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app_args: str,
        other_channel_id: str | None = None,
        caller_id: str = "",
        variables: Mapping[str, str] | None = None,
        ring_seconds: int = 30,
    ) -> None:
        """``POST /channels`` into this application; ``other_channel_id`` names a Local channel's ;2 half
        and ``ring_seconds`` -1 waits without limit (a placeholder waiting in a queue)."""
        params: dict[str, Any] = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": app_args,
            "channelId": channel_id,
            "timeout": ring_seconds,
        }
        if other_channel_id:
            params["otherChannelId"] = other_channel_id
        if caller_id:
            params["callerId"] = caller_id
        await self.client._call("POST", "/channels", params=params, body={"variables": dict(variables or {})})

    async def play(self, channel_id: str, media: str) -> None:
        await self.client._call("POST", f"/channels/{channel_id}/play", params={"media": media})

    async def ring(self, channel_id: str, *, on: bool = True) -> None:
        """Indicate ringing on the channel (what its peer hears), or stop."""
        await self.client._call("POST" if on else "DELETE", f"/channels/{channel_id}/ring", missing_ok=True)

    async def subscribe(self, channel_id: str) -> None:
        """Keep receiving the channel's events after it leaves Stasis, until it is destroyed."""
        # The one ARI call that CallControl does not cover.
        await self.client._call(
            "POST",
            f"/applications/{quote(self.app)}/subscription",
            params={"eventSource": f"channel:{channel_id}"},
        )
