"""Leases for roles that must be single per switch (the ARI follower, the outbound application).

On PostgreSQL a lease is a session-level advisory lock held on a connection of its own: when the holder
dies (even ``kill -9``) its connection closes and PostgreSQL releases the lock at once, so a standby that
polls every ``poll_s`` takes over within about that time. The holder checks its connection every
``check_s``; if the connection is gone, the lease is lost and the role must stop (another process may hold
it by then). On SQLite everything runs in one process: the lease is always granted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from the lease's name."""
    return int.from_bytes(hashlib.sha256(f"hotline:{name}".encode()).digest()[:8], "big", signed=True)


@dataclass
class Lease:
    engine: Engine
    name: str
    poll_s: float = 0.5
    check_s: float = 1.0
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    _connection: Connection | None = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        if not self.shared:
            return True
        connection = self.engine.connect()
        got = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(self.name)}).scalar()
        )
        connection.commit()  # the lock is held by the session, not the transaction
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    async def acquire(self, announce: bool = True) -> None:
        """Wait until this process holds the lease (a standby waits here)."""
        waited = False
        while not await asyncio.to_thread(self.try_acquire):
            if announce and not waited:
                log.info("lease %s is held by another process; standing by", self.name)
                waited = True
            await asyncio.sleep(self.poll_s)
        log.info("lease %s acquired%s", self.name, " (took over)" if waited else "")

    def _alive(self) -> bool:
        if self._connection is None:
            return True
        try:
            self._connection.execute(text("SELECT 1")).scalar()
            self._connection.commit()
        except Exception:
            return False
        return True

    async def watch(self) -> None:
        """Return when the lease is lost (the database connection broke); sets ``lost``."""
        while await asyncio.to_thread(self._alive):  # noqa: ASYNC110 - polling the database, not an event
            await asyncio.sleep(self.check_s)
        log.error("lease %s lost: its database connection broke", self.name)
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("lease %s: closing the broken connection failed", self.name)
            self._connection = None
        self.lost.set()

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(self.name)})
                self._connection.commit()
            except Exception:
                log.debug("lease %s: unlock failed (connection gone)", self.name)
            finally:
                self._connection.close()
                self._connection = None
