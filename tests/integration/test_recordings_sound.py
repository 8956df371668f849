"""``hotline recordings play`` through real PortAudio onto a virtual ALSA device.

ALSA reads its configuration when PortAudio initialises (at ``import sounddevice``), so the player runs in
a subprocess whose ``ALSA_CONFIG_PATH`` makes the default PCM a ``file`` plugin over ``null``: every sample
PortAudio writes lands in a raw file, which the test compares with the recording.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kernel.clock import FakeClock
from recordings import audio
from recordings.ingest import ingest
from recordings.orm import RecordingListen
from recordings.storage import LocalStore
from recordings.testing import write_mixmonitor_files
from tests.conftest import make_app

pytestmark = pytest.mark.sound

ALSA_CONF = """</usr/share/alsa/alsa.conf>
pcm.!default {{
  type file
  slave.pcm "null"
  file "{capture}"
  format "raw"
}}
"""


def _alsa_env(tmp_path: Path, capture: Path) -> dict[str, str]:
    if not Path("/usr/share/alsa/alsa.conf").is_file():
        pytest.skip(
            "ALSA's base configuration /usr/share/alsa/alsa.conf is missing (apt-get install alsa-utils)"
        )
    conf = tmp_path / "asound.conf"
    conf.write_text(ALSA_CONF.format(capture=capture))
    return {**os.environ, "ALSA_CONFIG_PATH": str(conf)}


def _probe(env: dict[str, str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import sounddevice as sd; print(sd.query_devices(kind='output')['name'])"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(
            f"PortAudio/ALSA unavailable (apt-get install libportaudio2): {probe.stderr.strip()[-300:]}"
        )


def test_play_writes_the_recording_to_the_alsa_device(tmp_path: Path) -> None:
    capture = tmp_path / "played.raw"
    env = _alsa_env(tmp_path, capture)
    _probe(env)

    db_url = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    hot = make_app(db_url, tmp_path, FakeClock(), seed=False)
    ctx = hot.recordings.use_store(LocalStore(hot.settings.resolved_recordings_dir))
    paths = write_mixmonitor_files(tmp_path / "monitor", "1732240000.5", seconds=1.5, rate=8000)
    recording_id = ingest(ctx, "1732240000.5", tmp_path / "monitor", agent="8001").recording_id

    env.update(
        HOTLINE_DATABASE_URL=db_url,
        HOTLINE_DATA_DIR=str(tmp_path / "var"),
        HOTLINE_ENVIRONMENT="test",
        HOTLINE_SECRET_KEY="test-secret",
        HOTLINE_CONFIG=str(tmp_path / "none.toml"),
    )
    env.pop("HOTLINE_RECORDINGS_STORE", None)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from hotline.cli import main; main()",
            "recordings",
            "play",
            str(recording_id),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "played 12000 frames at 8000 Hz" in done.stdout

    source, _rate = audio.read_mono(paths["mixed"].read_bytes())
    expected = (np.clip(source, -1, 1) * 32767).astype(np.int16)
    played = np.frombuffer(capture.read_bytes(), dtype="<i2")
    assert played.size == expected.size
    correlation = np.corrcoef(played.astype(np.float64), expected.astype(np.float64))[0, 1]
    assert correlation > 0.999
    with hot.session_factory() as session:
        listens = session.query(RecordingListen).all()
        assert [(r.action, r.role, r.kind) for r in listens] == [("play", "station", "mixed")]
    hot.close()
