"""What ASR workers and the coordinator say to each other over the bus (typed wire events).

The coordinator (in the telephony role: one per switch) and the workers (``hotline run asr``: any number, on
any machine) talk with wire events, so the same code runs over NATS between machines and on the in-process
bus of ``make run``. A request carries a ``request_id``; the reply names it (request/reply over pub/sub, as
NATS itself does it). Every message names the worker it is for; other workers ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.events import wire


@wire("asr.worker_heartbeat")
@dataclass(frozen=True)
class WorkerHeartbeat:
    """A worker is alive: where Asterisk can send it RTP, its capacity and how much of it is free."""

    worker_id: str
    host: str  # the address the switch's externalMedia sends RTP to
    capacity: int
    free: int
    calls: tuple[str, ...] = ()
    decode_wait_ms: int = 0  # how long decode jobs wait for a thread (> 100: slower than real time)


@wire("asr.open_call")
@dataclass(frozen=True)
class OpenCall:
    """Open one RTP port per leg for ``call_id``. ``offset_ms``/``seq_base`` continue a call moved from a
    worker that died: its times and final numbers go on where the last worker's stopped."""

    request_id: str
    worker_id: str
    call_id: str
    legs: tuple[str, ...]
    offset_ms: int = 0
    seq_base: int = 0


@wire("asr.call_opened")
@dataclass(frozen=True)
class CallOpened:
    """The reply: ports in the order of the request's legs, or ``refused`` (the worker is full: shed)."""

    request_id: str
    worker_id: str
    call_id: str
    host: str = ""
    ports: tuple[int, ...] = ()
    refused: str = ""


@wire("asr.close_call")
@dataclass(frozen=True)
class CloseCall:
    """The call ended (or moved away: ``abandon``): flush the last utterance, free the slot."""

    request_id: str
    worker_id: str
    call_id: str
    abandon: bool = False


@wire("asr.call_closed")
@dataclass(frozen=True)
class CallClosed:
    request_id: str
    worker_id: str
    call_id: str
    finals: int = 0


@wire("asr.call_moved")
@dataclass(frozen=True)
class CallMoved:
    """A worker's heartbeats stopped and its call was handed to another. ``gap_ms``: from the lost worker's
    last heartbeat to the new RTP target being in place (the audio lost is at most this plus one heartbeat
    interval, and the unfinished utterance the lost worker held)."""

    call_id: str
    from_worker: str
    to_worker: str
    gap_ms: int
