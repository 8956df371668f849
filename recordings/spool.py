"""The switch's monitor directory (MixMonitor's spool): file names, waiting for MixMonitor to finish, repair.

Naming is the dialplan's (telephony/templates/extensions.conf.j2, ``[hotline-queue]``)::

    MixMonitor(${HOTLINE_MONITOR_DIR}/${UNIQUEID}.wav,
               r(${HOTLINE_MONITOR_DIR}/${UNIQUEID}-caller.wav)t(${HOTLINE_MONITOR_DIR}/${UNIQUEID}-agent.wav))

on the caller's channel, so for one call there are:

- ``<uniqueid>.wav``         both directions mixed, for listening;
- ``<uniqueid>-caller.wav``  r(): what Asterisk *receives* on the caller's channel = the citizen's voice;
- ``<uniqueid>-agent.wav``   t(): what Asterisk *transmits* to the caller = what the citizen heard (the agent,
  and hold music or announcements before the answer).

The earlier names ``-in``/``-out`` (same meaning) are still read, for files left from before the rename.

Asterisk's WAV writer leaves the RIFF and data sizes at zero while it writes (seen on Asterisk 22: a
44-byte header of zeros, then the audio in 32 KB stdio blocks) and fills them in when MixMonitor closes the
file, which happens only after the hangup. A file whose header sizes match its length is therefore closed.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# kind -> accepted names, the dialplan's first
SPOOL_NAMES: dict[str, tuple[str, ...]] = {
    "mixed": ("{uid}.wav",),
    "caller": ("{uid}-caller.wav", "{uid}-in.wav"),
    "agent": ("{uid}-agent.wav", "{uid}-out.wav"),
}
_SUFFIX_KIND = {"-caller": "caller", "-in": "caller", "-agent": "agent", "-out": "agent"}
WAV_HEADER = 44


def files_of(directory: Path, uid: str) -> dict[str, Path]:
    """The call's files present in the spool, by kind (mixed, caller, agent)."""
    found: dict[str, Path] = {}
    for kind, names in SPOOL_NAMES.items():
        for name in names:
            path = directory / name.format(uid=uid)
            if path.is_file():
                found[kind] = path
                break
    return found


def uniqueid_of(name: str) -> tuple[str, str] | None:
    """``1732240000.7-caller.wav`` -> (``1732240000.7``, ``caller``); None for a name that is not ours."""
    if not name.endswith(".wav") or name.startswith("."):
        return None
    stem = name[: -len(".wav")]
    for suffix, kind in _SUFFIX_KIND.items():
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)], kind
    return (stem, "mixed") if stem else None


def calls_in_spool(directory: Path) -> dict[str, float]:
    """Every call with a file in the spool -> the newest modification time of its files."""
    calls: dict[str, float] = {}
    if not directory.is_dir():
        return calls
    for path in directory.iterdir():
        parsed = uniqueid_of(path.name)
        if parsed is None or not path.is_file():
            continue
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:  # removed by a concurrent ingest
            continue
        calls[parsed[0]] = max(calls.get(parsed[0], 0.0), mtime)
    return calls


def header_complete(head: bytes, size: int) -> bool | None:
    """True when a canonical WAV header's sizes match a file of ``size`` bytes (the writer closed it);
    False when they do not (still being written, or never closed); None when it is not such a WAV."""
    if len(head) < WAV_HEADER or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    if head[36:40] != b"data":
        return None  # another chunk layout: we cannot tell from the header
    riff, data = struct.unpack("<I", head[4:8])[0], struct.unpack("<I", head[40:44])[0]
    # Asterisk pads an odd data length with one byte after writing the sizes
    return riff + 8 in (size, size - 1) and data + WAV_HEADER in (size, size - 1)


def repair_header(data: bytes) -> bytes:
    """A never-closed canonical WAV (sizes still zero, e.g. Asterisk stopped mid-call) with its sizes set
    from the length actually written, so that what was recorded is not lost; other data is returned as is."""
    if header_complete(data[:WAV_HEADER], len(data)) is not False:
        return data
    length = len(data) - WAV_HEADER
    return (
        data[:4] + struct.pack("<I", length + 36) + data[8:40] + struct.pack("<I", length) + data[WAV_HEADER:]
    )


@dataclass(frozen=True)
class Snapshot:
    files: dict[str, Path]
    sizes: dict[str, int]
    complete: dict[str, bool | None]

    @property
    def closed(self) -> bool:
        return bool(self.files) and all(v is not False for v in self.complete.values())


def snapshot(directory: Path, uid: str) -> Snapshot:
    files = files_of(directory, uid)
    sizes: dict[str, int] = {}
    complete: dict[str, bool | None] = {}
    for kind, path in list(files.items()):
        try:
            with path.open("rb") as handle:
                head = handle.read(WAV_HEADER)
                size = path.stat().st_size
        except FileNotFoundError:
            files.pop(kind)
            continue
        sizes[kind], complete[kind] = size, header_complete(head, size)
    return Snapshot(files, sizes, complete)


@dataclass(frozen=True)
class Settled:
    files: dict[str, Path]
    closed: bool  # every file's header says the writer closed it
    waited_ms: int


def wait_settled(
    directory: Path,
    uid: str,
    *,
    expect_files: bool,
    timeout_s: float = 15.0,
    grace_s: float = 1.0,
    poll_s: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Settled:
    """Wait until the call's files are closed and stopped growing (two equal looks in a row), at most
    ``timeout_s``. When no recording was expected, look for ``grace_s`` only (files may still turn up if
    the call record was incomplete). Runs on a worker thread, never on the event loop."""
    started = monotonic()
    previous: Snapshot | None = None
    while True:
        current = snapshot(directory, uid)
        elapsed = monotonic() - started
        stable = previous is not None and current.sizes == previous.sizes
        if current.files and current.closed and stable:
            return Settled(current.files, True, round(elapsed * 1000))
        limit = timeout_s if (expect_files or current.files) else grace_s
        if elapsed >= limit:
            return Settled(current.files, current.closed, round(elapsed * 1000))
        previous = current
        sleep(poll_s)


def remove(paths: Iterable[Path]) -> list[str]:
    """Delete spool files once they are safely stored; returns the ones that could not be removed."""
    failed = []
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            failed.append(str(path))
    return failed
