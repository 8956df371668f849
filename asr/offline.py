"""A file through the live pipeline: the same CallTranscription, recognizer and decode threads as a call.

The file's audio (16 kHz PCM, see asr.audio) is fed in 20 ms pieces, as RTP packets arrive from Asterisk,
to a one-leg CallTranscription with an in-memory store and bus; its finals are what the file says. Only
the pace differs (as fast as the decoder goes), which changes no final: endpointing is decided per 32 ms VAD
window of the audio (or by Kaldi on the audio), not by wall time.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass

from asr.engine import BYTES_PER_MS
from asr.events import TranscriptSegment
from asr.pool import DecodePool
from asr.profiles import Engines
from asr.session import CallTranscription
from asr.transcripts import InMemorySegmentStore
from kernel.bus import EventBus
from kernel.clock import SystemClock

PACKET_MS = 20


def transcribe_pcm(pcm16k: bytes, engines: Engines) -> list[TranscriptSegment]:
    """The finals of 16 kHz 16-bit little-endian mono PCM, in order."""
    return asyncio.run(_transcribe(pcm16k, engines))


async def _transcribe(pcm16k: bytes, engines: Engines) -> list[TranscriptSegment]:
    decode = DecodePool()
    session = CallTranscription(
        "file",
        recognizer_factory=engines.factory,
        decode=decode,
        bus=EventBus(),
        store=InMemorySegmentStore(),
        clock=SystemClock(),
        legs=("file",),
        release=engines.release,
    )
    session.start()
    step = PACKET_MS * BYTES_PER_MS
    try:
        for n, i in enumerate(range(0, len(pcm16k), step)):
            session.feed("file", pcm16k[i : i + step])
            if n % 50 == 49:
                await asyncio.sleep(0)  # let the leg's task take batches as the loop would between packets
        closed = await session.close()
    finally:
        decode.shutdown()
    return list(closed.segments)


def _chars(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


@dataclass(frozen=True)
class Score:
    errors: int
    chars: int

    @property
    def cer(self) -> float:
        return self.errors / max(1, self.chars)

    def __add__(self, other: Score) -> Score:
        return Score(self.errors + other.errors, self.chars + other.chars)


def score(hypothesis: str, reference: str) -> Score:
    """Character errors (edits) against the reference, punctuation and spaces ignored."""
    ref = _chars(reference)
    return Score(edit_distance(_chars(hypothesis), ref), len(ref))
