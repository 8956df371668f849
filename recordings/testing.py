"""The storage contract: the same cases run against the fake, the local store and a real S3 server.

Each case takes a fresh, empty store and raises ``AssertionError`` when the store breaks the contract.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf  # ships no stubs

from recordings.storage import CHUNK, RecordingMissing, RecordingStore, read_all

Case = Callable[[RecordingStore], None]
BLOB = bytes(range(256)) * ((3 * CHUNK) // 256 + 7)  # spans several chunks, not a multiple of CHUNK


def put_bytes_then_read_back(store: RecordingStore) -> None:
    assert store.put("a/b/c.wav", BLOB) == len(BLOB)
    assert store.exists("a/b/c.wav")
    assert store.size("a/b/c.wav") == len(BLOB)
    assert read_all(store, "a/b/c.wav") == BLOB


def put_file_object_and_path(store: RecordingStore) -> None:
    assert store.put("x/stream.wav", io.BytesIO(b"stream")) == 6
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.wav"
        path.write_bytes(b"from a path")
        assert store.put("x/path.wav", path) == 11
    assert read_all(store, "x/stream.wav") == b"stream"
    assert read_all(store, "x/path.wav") == b"from a path"


def ranges_are_half_open(store: RecordingStore) -> None:
    store.put("r.wav", BLOB)
    assert b"".join(store.open_range("r.wav", 0, 1)) == BLOB[:1]
    assert b"".join(store.open_range("r.wav", 10, 20)) == BLOB[10:20]
    middle = CHUNK - 5, 2 * CHUNK + 9  # crosses chunk boundaries
    assert b"".join(store.open_range("r.wav", *middle)) == BLOB[middle[0] : middle[1]]
    assert b"".join(store.open_range("r.wav", len(BLOB) - 3)) == BLOB[-3:]
    assert b"".join(store.open_range("r.wav", 5, 5)) == b""
    assert b"".join(store.open_range("r.wav", 0, len(BLOB) + 100)) == BLOB  # end is clamped


def bad_range_is_refused(store: RecordingStore) -> None:
    store.put("r.wav", b"0123456789")
    for start, end in ((11, None), (5, 3), (-1, 4)):
        try:
            b"".join(store.open_range("r.wav", start, end))
        except ValueError:
            continue
        raise AssertionError(f"range {start}..{end} was accepted")


def replace_overwrites(store: RecordingStore) -> None:
    store.put("k.wav", b"first version")
    store.put("k.wav", b"second")
    assert read_all(store, "k.wav") == b"second"
    assert store.size("k.wav") == 6


def missing_key_raises(store: RecordingStore) -> None:
    assert not store.exists("no/such.wav")
    for action in (lambda: store.size("no/such.wav"), lambda: read_all(store, "no/such.wav")):
        try:
            action()
        except RecordingMissing:
            continue
        raise AssertionError("a missing key did not raise RecordingMissing")


def delete_is_idempotent(store: RecordingStore) -> None:
    store.put("d/1.wav", b"1")
    store.delete("d/1.wav")
    store.delete("d/1.wav")
    assert not store.exists("d/1.wav")


def list_by_prefix(store: RecordingStore) -> None:
    for key in ("2026/11/23/c1/mixed.wav", "2026/11/23/c1/caller.wav", "2026/11/24/c2/mixed.wav"):
        store.put(key, b"x")
    assert store.list("2026/11/23/") == ["2026/11/23/c1/caller.wav", "2026/11/23/c1/mixed.wav"]
    assert len(store.list()) == 3


def unsafe_keys_are_refused(store: RecordingStore) -> None:
    for key in ("../escape.wav", "/abs.wav", "a//b.wav", "a/../b.wav", "sp ace.wav", ""):
        try:
            store.put(key, b"x")
        except ValueError:
            continue
        raise AssertionError(f"key {key!r} was accepted")


STORE_CONTRACT: list[Case] = [
    put_bytes_then_read_back,
    put_file_object_and_path,
    ranges_are_half_open,
    bad_range_is_refused,
    replace_overwrites,
    missing_key_raises,
    delete_is_idempotent,
    list_by_prefix,
    unsafe_keys_are_refused,
]


# ---- test audio: what MixMonitor would leave for a call ----------------------------------------------


def speech_like(
    seconds: float,
    rate: int = 8000,
    amplitude: float = 0.1,
    freq: float = 220.0,
    seed: int = 0,
    silent_from: float | None = None,
    silent_to: float | None = None,
) -> Any:
    """A voiced tone with a syllable-rate envelope and a little noise; optionally silent in a span."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2
    signal = amplitude * envelope * np.sin(2 * np.pi * freq * t) + amplitude * 0.05 * rng.standard_normal(
        t.size
    )
    if silent_from is not None:
        signal[int(silent_from * rate) : int((silent_to or seconds) * rate)] = 0.0
    return np.clip(signal, -1, 1).astype(np.float32)


def wav_bytes(samples: Any, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def write_mixmonitor_files(
    directory: Path,
    uniqueid: str,
    seconds: float = 3.0,
    *,
    rate: int = 8000,
    caller_amplitude: float = 0.1,
    agent_amplitude: float = 0.1,
    legacy_names: bool = False,
) -> dict[str, Path]:
    """``<uid>-caller.wav``, ``<uid>-agent.wav`` and ``<uid>.wav`` (their mix), as the dialplan names them;
    with ``legacy_names`` the earlier ``-in``/``-out``."""
    directory.mkdir(parents=True, exist_ok=True)
    caller = speech_like(seconds, rate, caller_amplitude, 220.0, seed=1)
    agent = speech_like(seconds, rate, agent_amplitude, 330.0, seed=2)
    caller_name, agent_name = ("in", "out") if legacy_names else ("caller", "agent")
    paths = {
        "caller": directory / f"{uniqueid}-{caller_name}.wav",
        "agent": directory / f"{uniqueid}-{agent_name}.wav",
        "mixed": directory / f"{uniqueid}.wav",
    }
    paths["caller"].write_bytes(wav_bytes(caller, rate))
    paths["agent"].write_bytes(wav_bytes(agent, rate))
    paths["mixed"].write_bytes(wav_bytes(np.clip(caller + agent, -1, 1), rate))
    return paths
