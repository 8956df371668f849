"""HTTP byte ranges (RFC 9110 §14): one ``bytes=`` range per request, as audio players send them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(ValueError):
    """Answer 416 with ``Content-Range: bytes */size``."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"

    @property
    def length(self) -> int:
        return self.end - self.start


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to send, or None for the whole object (no header, another unit, or several ranges,
    which a server may answer with the full content)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    match = _SPEC.match(spec)
    if match is None or not (match.group(1) or match.group(2)):
        raise RangeNotSatisfiable(f"malformed range {header!r}")
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(f"empty suffix range {header!r}")
        return ByteRange(max(0, size - length), size)
    start = int(first)
    end = size if not last else int(last) + 1
    if last and int(last) < start:
        raise RangeNotSatisfiable(f"range ends before it starts: {header!r}")
    if start >= size:
        raise RangeNotSatisfiable(f"range starts at {start}, the object has {size} bytes")
    return ByteRange(start, min(end, size))
