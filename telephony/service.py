"""The telephony service loop: ARI events into call records, reconciled after every (re)connection.

Other parts that follow the switch (transfers waiting for a channel to enter Stasis, tests keeping a copy
of every event) register as ``listeners``: each event goes to the recorder first, then to them in order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from telephony.ari import AriClient, EventHandler
from telephony.records import CallRecorder

log = logging.getLogger(__name__)


class TelephonyService:
    def __init__(
        self, client: AriClient, recorder: CallRecorder, listeners: Sequence[EventHandler] = ()
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.listeners = list(listeners)

    async def _on_connected(self) -> None:
        # After an Asterisk restart every call is gone; after a websocket hiccup they are all still there.
        # Either way the database must match what the switch reports now.
        live = {c["id"] for c in await self.client.channels()}
        closed = self.recorder.reconcile(live, datetime.now(UTC))
        if closed:
            log.warning("closed %d call(s) that no longer exist on the switch", len(closed))

    async def handle(self, event: dict[str, Any]) -> None:
        await self.recorder.handle(event)
        for listener in self.listeners:
            try:
                await listener(event)
            except Exception:
                log.exception("ARI event listener %r failed", listener)

    async def run(self) -> None:
        await self.client.run_events(self.handle, on_connected=self._on_connected)
