"""An in-memory ``CallControl`` for unit tests, kept honest by the ARI contract test."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telephony.ari import AriError


@dataclass
class FakeCallControl:
    app: str = "hotline"
    _channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    _bridges: dict[str, dict[str, Any]] = field(default_factory=dict)
    _variables: dict[str, dict[str, str]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    originated: list[dict[str, Any]] = field(default_factory=list)
    continued: list[tuple[str, str, str, int]] = field(default_factory=list)

    def add_channel(
        self, channel_id: str, name: str, *, number: str = "", state: str = "Up"
    ) -> dict[str, Any]:
        """A channel that 'already exists on the switch' (e.g. a caller waiting in Stasis)."""
        channel = {
            "id": channel_id,
            "name": name,
            "state": state,
            "caller": {"number": number, "name": ""},
            "dialplan": {"context": "", "exten": "", "priority": 1},
        }
        self._channels[channel_id] = channel
        return channel

    def _require(self, channel_id: str) -> dict[str, Any]:
        if channel_id not in self._channels:
            raise AriError(404, f"Channel not found: {channel_id}")
        return self._channels[channel_id]

    async def channels(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self._channels.values()]

    async def channel(self, channel_id: str) -> dict[str, Any] | None:
        found = self._channels.get(channel_id)
        return dict(found) if found else None

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
        new_id = channel_id or f"fake-{next(self._ids)}"
        channel = self.add_channel(new_id, f"{endpoint}-{new_id}", number=caller_id, state="Down")
        self._variables[new_id] = dict(variables or {})
        self.originated.append(
            {
                "endpoint": endpoint,
                "app_args": app_args,
                "caller_id": caller_id,
                "variables": dict(variables or {}),
                "id": new_id,
            }
        )
        return dict(channel)

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        self._channels.pop(channel_id, None)
        for bridge in self._bridges.values():
            if channel_id in bridge["channels"]:
                bridge["channels"].remove(channel_id)

    async def answer(self, channel_id: str) -> None:
        self._require(channel_id)["state"] = "Up"

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        self._require(channel_id)
        self.continued.append((channel_id, context, extension, priority))

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        self._require(channel_id)
        self._variables.setdefault(channel_id, {})[name] = value

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        if channel_id not in self._channels:
            return None
        return self._variables.get(channel_id, {}).get(name)

    async def create_bridge(self, kind: str = "mixing", name: str = "") -> str:
        bridge_id = f"bridge-{next(self._ids)}"
        self._bridges[bridge_id] = {"id": bridge_id, "bridge_type": kind, "name": name, "channels": []}
        return bridge_id

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        self._require(channel_id)
        if bridge_id not in self._bridges:
            raise AriError(404, "Bridge not found")
        self._bridges[bridge_id]["channels"].append(channel_id)

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        if bridge_id not in self._bridges:
            raise AriError(404, "Bridge not found")
        if channel_id in self._bridges[bridge_id]["channels"]:
            self._bridges[bridge_id]["channels"].remove(channel_id)

    async def destroy_bridge(self, bridge_id: str) -> None:
        self._bridges.pop(bridge_id, None)

    async def bridges(self) -> list[dict[str, Any]]:
        return [dict(b, channels=list(b["channels"])) for b in self._bridges.values()]
