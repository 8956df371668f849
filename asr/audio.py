"""Audio hand-overs with their sample rates stated: files in, 16 kHz PCM out; telephone coding for evals.

Every recognizer takes 16 kHz 16-bit little-endian mono PCM. Files are decoded with libsndfile (PCM or
G.711 μ-law/A-law WAV, FLAC, …; ffmpeg for anything else) and resampled with soxr (the SoX resampler,
high quality), never by reinterpreting samples: 8 kHz audio read as 16 kHz cost 55 % CER in a measurement.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
PHONE_RATE = 8000


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """int16 mono samples at ``from_rate`` → int16 at ``to_rate`` (soxr, high quality)."""
    if from_rate == to_rate:
        return samples.astype(np.int16)
    import soxr

    out = soxr.resample(samples.astype(np.float32) / 32768.0, from_rate, to_rate, quality="HQ")
    return np.clip(np.round(np.asarray(out) * 32768.0), -32768, 32767).astype(np.int16)


def read_pcm16k(path: Path) -> bytes:
    """A file's audio as 16 kHz mono 16-bit little-endian PCM."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        cmd = [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-f",
            "s16le",
            "-",
        ]
        return subprocess.run(cmd, check=True, capture_output=True).stdout
    mono = data[:, 0] if data.shape[1] == 1 else data.astype(np.int32).mean(axis=1).astype(np.int16)
    return resample(mono, int(rate), SAMPLE_RATE).astype("<i2").tobytes()


# G.711 μ-law (ITU-T G.711), the codec of a telephone call.
_BIAS, _CLIP = 0x84, 32635


def ulaw_encode(samples: np.ndarray) -> np.ndarray:
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), _CLIP) + _BIAS
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    codes: np.ndarray = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return codes.astype(np.uint8)


def ulaw_decode(codes: np.ndarray) -> np.ndarray:
    u = ~codes.astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(u & 0x80, -mag, mag).astype(np.int16)


def telephone_coded(pcm16k: bytes) -> bytes:
    """16 kHz PCM as a call carries it: resampled to 8 kHz, μ-law coded and decoded, resampled to 16 kHz."""
    samples = np.frombuffer(pcm16k, dtype="<i2")
    narrow = ulaw_decode(ulaw_encode(resample(samples, SAMPLE_RATE, PHONE_RATE)))
    return resample(narrow, PHONE_RATE, SAMPLE_RATE).astype("<i2").tobytes()


def write_ulaw_wav(pcm16k: bytes, path: Path) -> Path:
    """An 8 kHz μ-law WAV of 16 kHz PCM (what a telephone recording holds)."""
    import soundfile as sf

    narrow = resample(np.frombuffer(pcm16k, dtype="<i2"), SAMPLE_RATE, PHONE_RATE)
    sf.write(str(path), narrow, PHONE_RATE, subtype="ULAW", format="WAV")
    return path
