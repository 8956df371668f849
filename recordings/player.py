"""Play a recording on the local sound device (a supervisor's or QA listening station) via PortAudio.

sounddevice is imported only here and only when playing, because importing it initialises PortAudio,
which opens ALSA: servers without a sound card never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recordings import audio

BLOCK_FRAMES = 2048


@dataclass(frozen=True)
class Played:
    frames: int
    sample_rate: int
    device: str


def play_bytes(
    data: bytes, *, device: str | int | None = None, progress: Callable[[int, int], None] | None = None
) -> Played:
    import sounddevice as sd

    samples, rate = audio.read_mono(data)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    with sd.OutputStream(samplerate=rate, channels=1, dtype="int16", device=device) as stream:
        for start in range(0, pcm.size, BLOCK_FRAMES):
            stream.write(pcm[start : start + BLOCK_FRAMES])  # blocks until the device took the block
            if progress:
                progress(min(start + BLOCK_FRAMES, pcm.size), pcm.size)
        name = str(sd.query_devices(stream.device)["name"])
    return Played(int(pcm.size), rate, name)


def list_output_devices() -> list[str]:
    import sounddevice as sd

    return [f"{i}: {d['name']}" for i, d in enumerate(sd.query_devices()) if d["max_output_channels"] > 0]
