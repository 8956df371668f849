"""Reading recordings and the few measures taken from them: duration, waveform peaks, loudness.

libsndfile (through soundfile) reads WAV, GSM-in-WAV and Ogg/Opus alike, so the same code serves the
originals and the compressed copies.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soundfile as sf  # ships no stubs

Samples = npt.NDArray[np.float32]

# A leg whose 1-second RMS stays above this level is loud enough to count as a raised voice. Telephone
# speech at a normal level sits around -25..-18 dBFS in MixMonitor's files.
RAISED_VOICE_DBFS = -10.0


@dataclass(frozen=True)
class AudioInfo:
    format: str  # wav | opus | gsm ...
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_ms(self) -> int:
        return round(self.frames * 1000 / self.sample_rate) if self.sample_rate else 0


def describe(data: bytes) -> AudioInfo:
    with sf.SoundFile(io.BytesIO(data)) as audio:
        subtype = str(audio.subtype).lower()
        fmt = "opus" if subtype == "opus" else "gsm" if "gsm" in subtype else str(audio.format).lower()
        return AudioInfo(fmt, int(audio.samplerate), int(audio.channels), int(audio.frames))


def read_mono(data: bytes) -> tuple[Samples, int]:
    """Float samples in -1..1 (channels averaged) and the sample rate."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return np.asarray(samples.mean(axis=1), dtype=np.float32), int(rate)


def peaks(samples: Samples, buckets: int = 200) -> list[list[float]]:
    """``buckets`` [min, max] pairs across the whole recording, for drawing a waveform."""
    if samples.size == 0:
        return []
    buckets = min(buckets, samples.size)
    edges = np.linspace(0, samples.size, buckets + 1).astype(np.int64)
    return [
        [round(float(samples[a:b].min()), 4), round(float(samples[a:b].max()), 4)]
        for a, b in itertools.pairwise(edges)
    ]


def window_dbfs(samples: Samples, rate: int, window_s: float = 1.0) -> list[float]:
    """RMS level in dBFS of each whole window (a trailing partial window is dropped)."""
    size = max(1, int(rate * window_s))
    count = samples.size // size
    if count == 0:
        return []
    frames = samples[: count * size].astype(np.float64).reshape(count, size)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return [round(float(v), 2) for v in 20 * np.log10(np.maximum(rms, 1e-9))]


def loud_seconds(levels: list[float], threshold_dbfs: float = RAISED_VOICE_DBFS) -> int:
    return sum(1 for level in levels if level > threshold_dbfs)
