"""Real RTP over loopback: packets built from a real clip, as Asterisk's externalMedia sends them."""

from __future__ import annotations

import asyncio
import socket
import wave
from pathlib import Path

import pytest

from asr.rtp import open_rtp_port, slin16_packets

CLIP = Path(__file__).resolve().parents[3] / "shared" / "audio" / "zh_aishell_BAC009S0724W0121.wav"


def _clip() -> bytes:
    if not CLIP.is_file():
        pytest.skip(f"real clip missing: {CLIP}")
    with wave.open(str(CLIP), "rb") as w:
        return w.readframes(w.getnframes())


async def test_clip_sent_as_rtp_arrives_as_the_same_little_endian_pcm() -> None:
    pcm = _clip()
    received: list[bytes] = []
    receiver = await open_rtp_port(received.append)
    packets = list(slin16_packets(pcm, ssrc=77, first_sequence=65500))  # crosses the sequence wrap
    dropped = 10
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for i, packet in enumerate(packets):
            if i != dropped:
                sender.sendto(packet, ("127.0.0.1", receiver.port))
            if i % 20 == 0:
                await asyncio.sleep(0.001)
        for _ in range(200):
            if receiver.stats.received == len(packets) - 1:
                break
            await asyncio.sleep(0.01)
    receiver.close()
    assert receiver.stats.received == len(packets) - 1 and receiver.stats.lost == 1
    got = b"".join(received)
    whole = len(packets) * 640
    assert len(got) == whole
    lost = slice(dropped * 640, dropped * 640 + 640)
    assert got[lost] == bytes(640)  # the lost packet became 20 ms of silence
    assert got[: lost.start] == pcm[: lost.start] and got[lost.stop :] == pcm[lost.stop : whole]
