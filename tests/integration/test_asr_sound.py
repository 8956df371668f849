"""``hotline asr listen`` against a real PortAudio stream on a virtual ALSA capture device.

ALSA's ``file`` plugin (over a ``null`` slave) serves a raw PCM file, made from a real Mandarin clip, as the
default capture device. PortAudio enumerates ALSA devices when sounddevice is imported, so the ALSA
configuration is set in the environment of a fresh subprocess before that import. The null device does not
pace, so the capture runs faster than real time; ``--seconds`` counts captured audio, not wall time.

The Mandarin profile here is Silero VAD + Whisper base: its endpointing is a fixed function of the audio
(2 s pauses are two utterances, every time), unlike the Korean Vosk model's guesses at Mandarin that this
test once relied on.
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asr.whisper import missing_requirements, prepare_model
from tests.speech_support import MANDARIN_CLIP, clip_pcm, only_chinese

SYSTEM_ALSA_CONF = Path("/usr/share/alsa/alsa.conf")

pytestmark = [pytest.mark.sound, pytest.mark.slow]


def test_listen_transcribes_a_portaudio_capture_stream(tmp_path: Path) -> None:
    if ctypes.util.find_library("portaudio") is None:
        pytest.skip("PortAudio is not installed (apt-get install libportaudio2)")
    if not SYSTEM_ALSA_CONF.is_file():
        pytest.skip("ALSA's alsa.conf is missing (apt-get install alsa-utils / libasound2)")
    if (reason := missing_requirements()) is not None:
        pytest.skip(f"whisper: {reason}")
    pcm = clip_pcm(MANDARIN_CLIP)
    whisper = prepare_model(tmp_path / "whisper-base")
    raw = tmp_path / "capture.raw"
    raw.write_bytes(pcm + bytes(32000 * 2) + pcm + bytes(32000 * 2))
    conf = tmp_path / "asound.conf"
    conf.write_text(
        f"<{SYSTEM_ALSA_CONF}>\n"
        "pcm.!default {\n  type file\n  slave.pcm { type null }\n"
        f'  file "/dev/null"\n  infile "{raw}"\n  format "raw"\n}}\n'
    )
    env = {
        **os.environ,
        "ALSA_CONFIG_PATH": str(conf),
        "HOTLINE_DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_WHISPER_MODEL_PATH": str(whisper),
        "HOTLINE_ASR_LANGUAGE": "zh",
        "HOTLINE_ASR_STREAMING": "vad",
        "HOTLINE_ASR_PARTIALS": "placeholder",
    }
    env.pop("HOTLINE_VOSK_MODEL_PATH", None)
    seconds = len(raw.read_bytes()) / 32000
    code = "from asr.cli import app; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, "listen", "--seconds", f"{seconds:.2f}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    finals = [line for line in lines if line.startswith("✔")]
    partials = [line for line in lines if line.startswith("…")]
    assert partials, done.stdout
    assert len(finals) == 2, done.stdout  # two utterances, split by the VAD on the 2 s pause
    assert lines.index(partials[0]) < lines.index(finals[0])
    assert all(only_chinese(line.split("] ", 1)[1]) for line in finals), done.stdout
