"""Live transcription of answered calls: one RTP port per leg, one CallTranscription per call.

An ASR worker (``asr.worker``) calls ``open_call`` when the coordinator hands it a call, returns the two
ports, which the coordinator points ``asr.ari_tap.AriTap`` at (snoop spy=in → caller port, spy=out → agent
port), and calls ``close_call`` on hangup. A call moved here from a worker that died continues its times
(``offset_ms``) and its finals' numbers (``seq_base``), so what was stored before stays in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from asr.engine import Recognizer
from asr.events import CallTranscriptClosed, Leg, TranscriptSegment
from asr.pool import DecodePool
from asr.rtp import RtpReceiver, open_rtp_port
from asr.session import CallTranscription, SecondPass, Timing
from asr.transcripts import SegmentStore
from kernel.bus import EventBus
from kernel.clock import Clock
from kernel.core import Core


class NullSegmentStore:
    """A worker stores nothing: its segments go over the bus to the one process that stores them."""

    def save(self, segment: TranscriptSegment) -> None:
        return None

    def for_call(self, call_id: str) -> list[TranscriptSegment]:
        return []

    def audit_reveal(self, call_id: str, actor: str, role: str, reason: str, now: datetime) -> None:
        raise NotImplementedError("a worker keeps no transcripts")


class _CallBus(EventBus):
    """What one call's session publishes, shifted to the call's clock and numbering, then sent on."""

    def __init__(self, target: EventBus, offset_ms: int, seq_base: int, announce_closed: bool) -> None:
        super().__init__()
        self.target = target
        self.offset_ms = offset_ms
        self.seq_base = seq_base
        self.announce_closed = announce_closed

    def shift(self, s: TranscriptSegment) -> TranscriptSegment:
        if not (self.offset_ms or self.seq_base):
            return s
        seq = s.seq + self.seq_base if s.is_final else s.seq
        return replace(s, start_ms=s.start_ms + self.offset_ms, end_ms=s.end_ms + self.offset_ms, seq=seq)

    def publish(self, event: object) -> None:
        if isinstance(event, TranscriptSegment):
            event = self.shift(event)
        elif isinstance(event, CallTranscriptClosed):
            event = CallTranscriptClosed(event.call_id, tuple(self.shift(s) for s in event.segments))
            if not self.announce_closed:
                return  # the coordinator announces the whole transcript (every worker's part of it)
        self.target.publish(event)


@dataclass
class CallTap:
    call_id: str
    session: CallTranscription
    receivers: dict[Leg, RtpReceiver]
    bus: _CallBus

    @property
    def ports(self) -> dict[Leg, int]:
        return {leg: r.port for leg, r in self.receivers.items()}


class TranscriptionService:
    def __init__(
        self,
        *,
        recognizer_factory: Callable[[], Recognizer],
        decode: DecodePool,
        bus: EventBus,
        store: SegmentStore,
        clock: Clock,
        second_pass: SecondPass | None = None,
        second_pass_decode: DecodePool | None = None,
        second_pass_legs: tuple[Leg, ...] = ("caller", "agent"),
        host: str = "127.0.0.1",
        on_timing: Callable[[Timing], None] | None = None,
        release: Callable[[Recognizer], None] | None = None,
        silence_gate: bool = True,
        announce_closed: bool = True,
    ) -> None:
        self._announce_closed = announce_closed
        self._factory = recognizer_factory
        self._silence_gate = silence_gate
        self._release = release
        self._decode = decode
        self._bus = bus
        self._store = store
        self._clock = clock
        self._second_pass = second_pass
        self._second_decode = second_pass_decode
        self._second_legs = second_pass_legs
        self._host = host
        self._on_timing = on_timing
        self.calls: dict[str, CallTap] = {}

    async def open_call(
        self,
        call_id: str,
        legs: tuple[Leg, ...] = ("caller", "agent"),
        *,
        offset_ms: int = 0,
        seq_base: int = 0,
    ) -> CallTap:
        bus = _CallBus(self._bus, offset_ms, seq_base, self._announce_closed)
        session = CallTranscription(
            call_id,
            recognizer_factory=self._factory,
            decode=self._decode,
            bus=bus,
            store=self._store,
            clock=self._clock,
            legs=legs,
            second_pass=self._second_pass,
            second_pass_decode=self._second_decode,
            second_pass_legs=self._second_legs,
            on_timing=self._on_timing,
            release=self._release,
            silence_gate=self._silence_gate,
        )
        receivers: dict[Leg, RtpReceiver] = {}
        try:
            for leg in legs:
                receivers[leg] = await open_rtp_port(session.sink(leg), host=self._host)
        except OSError:
            for receiver in receivers.values():
                receiver.close()
            raise
        session.start()
        tap = CallTap(call_id, session, receivers, bus)
        self.calls[call_id] = tap
        return tap

    async def close_call(self, call_id: str) -> CallTranscriptClosed:
        tap = self.calls.pop(call_id)
        for receiver in tap.receivers.values():
            receiver.close()
        closed = await tap.session.close()
        return CallTranscriptClosed(call_id, tuple(tap.bus.shift(s) for s in closed.segments))

    @property
    def host(self) -> str:
        return self._host

    @property
    def decode_wait_s(self) -> float:
        """How long decode jobs wait for a thread (moving average): above ~0.1 s this process is behind."""
        return self._decode.wait_s


def build_service(
    hot: Core,
    *,
    store: SegmentStore | None = None,
    host: str = "127.0.0.1",
    announce_closed: bool = True,
) -> TranscriptionService:
    """The live transcription service from settings (the composition root calls this once per process).

    The recognizers come from the call language's profile (``asr.profiles``: a Vosk model of that language
    where one is installed, else Silero VAD endpointing with Whisper finals; never another language's
    model), loaded once per process. The Whisper finals are inside the profile's recognizer, so the
    session's separate second pass stays off (it would decode every final twice). This is the one place the
    recognizers are built (the ASR worker role and the benches call it); a profile that cannot start raises
    ``asr.profiles.ProfileRefused`` with one line naming the model and the language. ``store``: where finals
    are written (default: this process's database; a worker passes ``NullSegmentStore``, the coordinator
    stores).
    """
    from asr.profiles import build_engines
    from asr.transcripts import SqlSegmentStore

    engines = build_engines(hot.settings)
    return TranscriptionService(
        recognizer_factory=engines.factory,
        decode=DecodePool(),
        bus=hot.bus,
        store=store if store is not None else SqlSegmentStore(hot.session_factory),
        clock=hot.clock,
        release=engines.release,
        host=host,
        announce_closed=announce_closed,
    )
