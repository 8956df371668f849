"""Events of the speech-recognition component.

``Recognized`` is what an engine says about one stream (times relative to that stream's start);
``TranscriptSegment`` is what the hotline publishes on the bus and stores (times relative to the call's tap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kernel.events import wire

Leg = Literal["caller", "agent", "mic", "file"]
Kind = Literal["partial", "final"]


@dataclass(frozen=True)
class Recognized:
    kind: Kind
    text: str
    start_ms: int
    end_ms: int


@wire("asr.transcript_segment")
@dataclass(frozen=True)
class TranscriptSegment:
    """One partial or final piece of a call's transcript.

    ``text`` is what the engine heard; ``text_redacted`` has ID-card, phone and bank-card numbers masked and
    is the only text a screen may show unless the viewer's role allows the raw one (see asr.transcripts).
    """

    call_id: str
    leg: Leg
    start_ms: int
    end_ms: int
    text: str
    text_redacted: str
    is_final: bool
    engine: str
    created_at: datetime
    seq: int = 0  # order of finals within one leg


@wire("asr.call_transcript_closed")
@dataclass(frozen=True)
class CallTranscriptClosed:
    """The call ended: its final transcript is complete (recordings link it to the call's recording)."""

    call_id: str
    segments: tuple[TranscriptSegment, ...] = field(default_factory=tuple)
