"""Logging for every process: one line per record, as text or JSON (``HOTLINE_LOG_FORMAT=json`` for a log
collector), with the chattiest libraries quietened (every ARI request logged by httpx, bm25s's debug
lines, jieba's dictionary loading). Log lines never carry a citizen's number, name or words: components
log ids and counts, and tracebacks of SQL errors carry no parameters (``kernel/db.py``)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from kernel.settings import Settings

QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "bm25s": logging.WARNING,
    "jieba": logging.WARNING,
    "urllib3": logging.WARNING,
    "websockets": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "nats": logging.WARNING,
    "faster_whisper": logging.WARNING,
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not what it was when logging was set up:
    a command run inside another program (a test's CLI runner) swaps stderr and closes its stand-in after."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    handler = CurrentStderrHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
