"""The terms of ingest on call end: its rules and outcomes, what a CallEnded event says, the transcript
summary kept with a recording, and where the main switch's MixMonitor spool is."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recordings.sampling import longest_silence
from recordings.transcripts import Segment

if TYPE_CHECKING:
    from kernel.settings import Settings

MONITOR_DIR_VARIABLE = "HOTLINE_RECORDINGS_MONITOR_DIR"

NOT_RECORDED_BECAUSE = {
    "ivr_only": "the caller left in the IVR, before the queue / 市民在语音导航中挂机，未进入队列",
    "callback_requested": "the caller chose a callback before the queue / 市民选择回拨，未进入队列",
    "called_back": "a callback leg / 回拨通话",
}


@dataclass(frozen=True)
class IngestRules:
    settle_timeout_s: float = 15.0  # how long to wait for MixMonitor to close the files after the hangup
    grace_s: float = 1.0  # how long to look when no recording was started
    poll_s: float = 0.2
    retries: int = 3
    retry_delay_s: float = 1.0
    remove_from_spool: bool = True
    sweep_min_age_s: float = 120.0  # a spool file untouched this long belongs to a call that is over
    sweep_stale_s: float = 3600.0  # an unclosed file this old was abandoned by a crashed switch: repair it


@dataclass(frozen=True)
class IngestOutcome:
    call_id: str
    outcome: str
    recording_id: int | None = None
    kinds: tuple[str, ...] = ()
    detail: str = ""
    wait_ms: int = 0
    ingest_ms: int = 0
    duration_ms: int = 0
    size_bytes: int = 0


@dataclass(frozen=True)
class CallHint:
    """What the CallEnded event itself says, for a call telephony's tables do not (yet) know."""

    agent: str | None = None
    caller_number: str | None = None
    outcome: str | None = None
    ended_at: datetime | None = None


def transcript_summary(segments: Iterable[Any], *, closed: bool) -> dict[str, Any]:
    """The link kept on the recording: segments and speech per leg, the longest silence between speech."""
    finals = [
        Segment(str(s.leg), int(s.start_ms), int(s.end_ms), str(getattr(s, "text_redacted", s.text)))
        for s in segments
        if getattr(s, "is_final", True)
    ]
    gap, at = longest_silence(finals)
    legs = sorted({s.leg for s in finals})
    return {
        "closed": closed,
        "segments": {leg: sum(1 for s in finals if s.leg == leg) for leg in legs},
        "speech_ms": {leg: sum(s.end_ms - s.start_ms for s in finals if s.leg == leg) for leg in legs},
        "longest_silence_ms": gap,
        "longest_silence_at_ms": at,
    }


def main_monitor_dir(settings: Settings) -> Path:
    """The main Asterisk instance's monitor directory as this host sees it: ``$HOTLINE_RECORDINGS_MONITOR_DIR``
    when set, else telephony's MAIN_MONITOR_DIR inside the Asterisk chroot (or on the host, where the host
    runs its own Asterisk). A test instance's is ``switch.host_path(switch.config.monitor_dir)``."""
    override = os.environ.get(MONITOR_DIR_VARIABLE)
    if override:
        return Path(override)
    from telephony.config import MAIN_MONITOR_DIR
    from telephony.setup import asterisk_root

    root = asterisk_root(settings)
    return root / MAIN_MONITOR_DIR.lstrip("/") if root else Path(MAIN_MONITOR_DIR)
