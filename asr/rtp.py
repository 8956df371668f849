"""RTP intake of the audio Asterisk sends to an externalMedia channel.

Asterisk 22 with ``format=slin16, encapsulation=rtp`` sends one packet per 20 ms: a 12-byte RTP header
(RFC 3550; payload type 118, its dynamic number for slin16) and 640 bytes of 16 kHz 16-bit **big-endian**
PCM (network order, RFC 3551 L16). Vosk wants little-endian, so each payload is byte-swapped. One UDP port
per leg: the port says which call and leg a packet belongs to.

Lost packets (a forward jump of the sequence number) are filled with silence of the same duration so the
stream's clock, and so segment times, stay right; late or duplicate packets are dropped and counted, with
malformed ones, in ``hotline_rtp_packets_dropped{reason}`` (there is no jitter buffer: on loopback and a
LAN reordering is rare and a dropped 20 ms does not change what is recognized).
"""

from __future__ import annotations

import asyncio
import struct
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from kernel import metrics

RTP_HEADER = struct.Struct("!BBHII")
SLIN16_PAYLOAD_TYPE = 118
PACKET_MS = 20
PACKET_BYTES = 640  # 20 ms of 16 kHz 16-bit mono
MAX_GAP_PACKETS = 50  # a longer jump is a new stream (e.g. a re-INVITE), not loss: no silence is invented


class RtpError(ValueError):
    pass


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket:
    if len(data) < RTP_HEADER.size:
        raise RtpError("shorter than an RTP header")
    b0, b1, seq, ts, ssrc = RTP_HEADER.unpack_from(data)
    if b0 >> 6 != 2:
        raise RtpError(f"RTP version {b0 >> 6}, expected 2")
    offset = RTP_HEADER.size + 4 * (b0 & 0x0F)  # CSRC list
    if b0 & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
        if len(data) < offset + 4:
            raise RtpError("truncated header extension")
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    end = len(data)
    if b0 & 0x20:  # padding: the last byte says how many bytes to drop
        end -= data[-1]
    if offset > end:
        raise RtpError("header longer than the packet")
    return RtpPacket(b1 & 0x7F, seq, ts, ssrc, bool(b1 & 0x80), data[offset:end])


def build_rtp(
    payload: bytes, *, sequence: int, timestamp: int, ssrc: int, payload_type: int = SLIN16_PAYLOAD_TYPE
) -> bytes:
    return (
        RTP_HEADER.pack(0x80, payload_type & 0x7F, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload
    )


def swap16(pcm: bytes) -> bytes:
    """Big-endian ↔ little-endian 16-bit samples."""
    out = bytearray(pcm[: len(pcm) & ~1])
    out[0::2], out[1::2] = out[1::2], out[0::2]
    return bytes(out)


def slin16_packets(pcm16le: bytes, *, ssrc: int = 0x1234, first_sequence: int = 0) -> Iterator[bytes]:
    """RTP packets as Asterisk's externalMedia sends them, from little-endian PCM (for tests and benches)."""
    for n, i in enumerate(range(0, len(pcm16le) - PACKET_BYTES + 1, PACKET_BYTES)):
        be = (
            swap16(pcm16le[i : i + PACKET_BYTES])
            if sys.byteorder == "little"
            else pcm16le[i : i + PACKET_BYTES]
        )
        yield build_rtp(be, sequence=first_sequence + n, timestamp=n * 320, ssrc=ssrc)


@dataclass
class RtpStats:
    received: int = 0
    lost: int = 0
    late: int = 0
    invalid: int = 0


AudioSink = Callable[[bytes], None]


class RtpReceiver(asyncio.DatagramProtocol):
    """Receives one leg's RTP and hands little-endian PCM to ``sink`` (called on the event loop)."""

    def __init__(self, sink: AudioSink, *, payload_type: int = SLIN16_PAYLOAD_TYPE) -> None:
        self._sink = sink
        self._payload_type = payload_type
        self._next_seq: int | None = None
        self.stats = RtpStats()
        self.transport: asyncio.DatagramTransport | None = None
        self.source: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.stats.invalid += 1
            metrics.RTP_DROPPED.labels("malformed").inc()
            return
        if packet.payload_type != self._payload_type:
            self.stats.invalid += 1
            metrics.RTP_DROPPED.labels("payload_type").inc()
            return
        self.source = addr
        if self._next_seq is not None:
            ahead = (packet.sequence - self._next_seq) & 0xFFFF
            if ahead >= 0x8000:  # behind what we already played: late or duplicate
                self.stats.late += 1
                metrics.RTP_DROPPED.labels("late").inc()
                return
            if 0 < ahead <= MAX_GAP_PACKETS:
                self.stats.lost += ahead
                self._sink(bytes(len(packet.payload) * ahead))
        self._next_seq = (packet.sequence + 1) & 0xFFFF
        self.stats.received += 1
        self._sink(swap16(packet.payload) if sys.byteorder == "little" else packet.payload)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_rtp_port(sink: AudioSink, *, host: str = "127.0.0.1", port: int = 0) -> RtpReceiver:
    """Listen on one UDP port (0: any free one; read it back from ``.port``) for one leg."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(lambda: RtpReceiver(sink), local_addr=(host, port))
    return protocol
