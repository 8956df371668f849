from __future__ import annotations

import struct

import pytest

from asr.rtp import PACKET_BYTES, RtpError, RtpReceiver, build_rtp, parse_rtp, slin16_packets, swap16


def test_parse_header_fields_and_big_endian_payload() -> None:
    pcm_le = struct.pack("<4h", 1, -2, 300, -32768)
    packet = next(slin16_packets(pcm_le * 160, ssrc=0xABCD, first_sequence=65535))
    parsed = parse_rtp(packet)
    assert (parsed.payload_type, parsed.sequence, parsed.timestamp, parsed.ssrc) == (118, 65535, 0, 0xABCD)
    assert len(parsed.payload) == PACKET_BYTES
    assert parsed.payload[:8] == struct.pack(">4h", 1, -2, 300, -32768)  # network order on the wire
    assert swap16(parsed.payload)[:8] == pcm_le


def test_csrc_extension_and_padding_are_skipped() -> None:
    header = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 1, 118, 7, 0, 1)
    data = header + b"CSRC" + struct.pack("!HH", 0xBEDE, 1) + b"EXT!" + b"\x00\x01" + b"\x00\x00\x03"
    assert parse_rtp(data).payload == b"\x00\x01"


@pytest.mark.parametrize("data", [b"\x80\x76", b"\x40" + bytes(11)])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(RtpError):
        parse_rtp(data)


def test_gaps_become_silence_and_late_packets_are_dropped() -> None:
    out: list[bytes] = []
    receiver = RtpReceiver(out.append)
    frame = struct.pack(">h", 1000) * 320
    for seq in (65534, 65535, 2, 1, 3, 3):  # 0 and 1 lost across the wrap; then 1 late, 3 duplicated
        receiver.datagram_received(build_rtp(frame, sequence=seq, timestamp=0, ssrc=1), ("127.0.0.1", 1))
    receiver.datagram_received(build_rtp(frame, sequence=4, timestamp=0, ssrc=1, payload_type=0), ("x", 1))
    assert receiver.stats.received == 4 and receiver.stats.lost == 2 and receiver.stats.late == 2
    assert receiver.stats.invalid == 1
    assert [len(c) for c in out] == [640, 640, 1280, 640, 640]
    assert out[2] == bytes(1280) and out[0] == struct.pack("<h", 1000) * 320


def test_dropped_packets_are_counted_for_prometheus_by_reason() -> None:
    from kernel import metrics

    def count(reason: str) -> float:
        return (
            metrics.REGISTRY.get_sample_value("hotline_rtp_packets_dropped_total", {"reason": reason}) or 0.0
        )

    before = {r: count(r) for r in ("malformed", "late", "payload_type")}
    receiver = RtpReceiver(lambda _pcm: None)
    frame = bytes(640)
    receiver.datagram_received(b"\x80\x76", ("127.0.0.1", 1))  # shorter than a header
    receiver.datagram_received(build_rtp(frame, sequence=5, timestamp=0, ssrc=1), ("127.0.0.1", 1))
    receiver.datagram_received(build_rtp(frame, sequence=4, timestamp=0, ssrc=1), ("127.0.0.1", 1))  # late
    receiver.datagram_received(build_rtp(frame, sequence=6, timestamp=0, ssrc=1, payload_type=0), ("x", 1))
    assert {r: count(r) - before[r] for r in before} == {"malformed": 1, "late": 1, "payload_type": 1}
    assert receiver.stats.received == 1
