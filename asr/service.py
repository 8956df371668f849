"""Live transcription of answered calls: one RTP port per leg, one CallTranscription per call.

The telephony component calls ``open_call`` when a call is answered, passes the two ports to
``asr.ari_tap.AriTap`` (snoop spy=in → caller port, spy=out → agent port) and calls ``close_call`` on hangup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from asr.engine import Recognizer
from asr.events import CallTranscriptClosed, Leg
from asr.pool import DecodePool, ModelPool
from asr.rtp import RtpReceiver, open_rtp_port
from asr.session import CallTranscription, SecondPass, Timing
from asr.transcripts import SegmentStore
from kernel.bus import EventBus
from kernel.clock import Clock
from kernel.core import Core


@dataclass
class CallTap:
    call_id: str
    session: CallTranscription
    receivers: dict[Leg, RtpReceiver]

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
    ) -> None:
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

    async def open_call(self, call_id: str, legs: tuple[Leg, ...] = ("caller", "agent")) -> CallTap:
        session = CallTranscription(
            call_id,
            recognizer_factory=self._factory,
            decode=self._decode,
            bus=self._bus,
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
        receivers = {leg: await open_rtp_port(session.sink(leg), host=self._host) for leg in legs}
        session.start()
        tap = CallTap(call_id, session, receivers)
        self.calls[call_id] = tap
        return tap

    async def close_call(self, call_id: str) -> CallTranscriptClosed:
        tap = self.calls.pop(call_id)
        for receiver in tap.receivers.values():
            receiver.close()
        return await tap.session.close()


def build_service(hot: Core) -> TranscriptionService:
    """The live transcription service from settings (the composition root calls this once per process).

    HOTLINE_VOSK_MODEL_PATH (or the model selected with ``hotline asr models``) is loaded once and shared;
    with HOTLINE_ASR_SECOND_PASS=true every final is re-decoded by Whisper base, on its own threads (one
    per CTranslate2 worker) so that it never holds up Vosk's live partials.
    """
    from asr.models import resolve_model_path
    from asr.transcripts import SqlSegmentStore

    settings = hot.settings
    pool = ModelPool()
    model_path = resolve_model_path(settings.data_dir, settings.vosk_model_path)
    second: SecondPass | None = None
    second_decode: DecodePool | None = None
    if settings.asr_second_pass:
        from asr.whisper import WhisperSecondPass, default_cache_dir, prepare_model

        whisper_dir = settings.whisper_model_path or prepare_model(default_cache_dir(settings.data_dir))
        whisper = WhisperSecondPass(whisper_dir)
        second = whisper
        second_decode = DecodePool(whisper.options.workers, name="asr-whisper")
    service = TranscriptionService(
        recognizer_factory=pool.factory(model_path),
        decode=DecodePool(),
        bus=hot.bus,
        store=SqlSegmentStore(hot.session_factory),
        clock=hot.clock,
        second_pass=second,
        second_pass_decode=second_decode,
        release=pool.release,
    )
    return service
