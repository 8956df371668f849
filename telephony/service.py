"""The telephony service loop: ARI events into call records, reconciled after every (re)connection."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telephony.ari import AriClient
from telephony.records import CallRecorder

log = logging.getLogger(__name__)


class TelephonyService:
    def __init__(self, client: AriClient, recorder: CallRecorder) -> None:
        self.client = client
        self.recorder = recorder

    async def _on_connected(self) -> None:
        # After an Asterisk restart every call is gone; after a websocket hiccup they are all still there.
        # Either way the database must match what the switch reports now.
        live = {c["id"] for c in await self.client.channels()}
        closed = self.recorder.reconcile(live, datetime.now(UTC))
        if closed:
            log.warning("closed %d call(s) that no longer exist on the switch", len(closed))

    async def run(self) -> None:
        await self.client.run_events(self.recorder.handle, on_connected=self._on_connected)
