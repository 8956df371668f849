"""The recording storage port and its adapters: local filesystem (default), S3-compatible object store
(scale-out), and an in-memory fake for unit tests. All three pass the same contract tests.

Keys are relative, slash-separated paths such as ``2026/11/23/<call id>/mixed.wav``.
Byte ranges are half-open: ``open_range(key, start, end)`` yields bytes ``start`` .. ``end - 1``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")

Payload = bytes | IO[bytes] | Path


class RecordingMissing(KeyError):
    """No object is stored under that key."""


class RecordingStore(Protocol):
    def put(self, key: str, data: Payload) -> int:
        """Store (or replace) the object; returns its size in bytes."""
        ...

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]: ...


def check_key(key: str) -> str:
    if not _KEY.match(key) or any(part in {".", ".."} for part in key.split("/")):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def read_all(store: RecordingStore, key: str) -> bytes:
    return b"".join(store.open_range(key))


def _bounds(start: int, end: int | None, size: int) -> tuple[int, int]:
    end = size if end is None else min(end, size)
    if start < 0 or start > end:
        raise ValueError(f"bad range {start}..{end} for an object of {size} bytes")
    return start, end


def _payload_bytes(data: Payload) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, Path):
        return data.read_bytes()
    return data.read()


class LocalStore:
    """Files under one root directory (``settings.resolved_recordings_dir``); writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: Payload) -> int:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes):
                    out.write(data)
                elif isinstance(data, Path):
                    with data.open("rb") as src:
                        shutil.copyfileobj(src, out, CHUNK)
                else:
                    shutil.copyfileobj(data, out, CHUNK)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target.stat().st_size

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        start, end = _bounds(start, end, self.size(key))
        return self._iterate(self._path(key), start, end)

    @staticmethod
    def _iterate(path: Path, start: int, end: int) -> Iterator[bytes]:
        # the file is opened on first read, so an iterator that is never consumed holds no descriptor
        with path.open("rb") as handle:
            handle.seek(start)
            left = end - start
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise RecordingMissing(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        keys = []
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(".part-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)


class S3Store:
    """An S3-compatible bucket through boto3 (AWS S3, MinIO, Ceph RGW, SeaweedFS ...)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def connect(
        cls, bucket: str, *, endpoint_url: str | None = None, prefix: str = "", region: str | None = None
    ) -> S3Store:
        import boto3  # no stubs shipped; the client is used duck-typed

        client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        return cls(client, bucket, prefix)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _missing(self, exc: Exception) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in {"404", "NoSuchKey", "NotFound"}

    def put(self, key: str, data: Payload) -> int:
        if isinstance(data, Path):
            self.client.upload_file(str(data), self.bucket, self._key(key))
        else:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=_payload_bytes(data))
        return self.size(key)

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        size = self.size(key)
        start, end = _bounds(start, end, size)
        if start == end:
            return iter(())
        # HTTP ranges are inclusive at both ends
        response = self.client.get_object(
            Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end - 1}"
        )
        body = response["Body"]
        return self._iterate(body)

    @staticmethod
    def _iterate(body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def size(self, key: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if self._missing(exc):
                raise RecordingMissing(key) from None
            raise
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except RecordingMissing:
            return False
        return True

    def list(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        return sorted(keys)


class MemoryStore:
    """The fake: a dict of bytes."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: Payload) -> int:
        self.objects[check_key(key)] = _payload_bytes(data)
        return len(self.objects[key])

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        data = self.objects.get(check_key(key))
        if data is None:
            raise RecordingMissing(key)
        start, end = _bounds(start, end, len(data))
        return iter([data[i : min(i + CHUNK, end)] for i in range(start, end, CHUNK)])

    def size(self, key: str) -> int:
        if check_key(key) not in self.objects:
            raise RecordingMissing(key)
        return len(self.objects[key])

    def delete(self, key: str) -> None:
        self.objects.pop(check_key(key), None)

    def exists(self, key: str) -> bool:
        return check_key(key) in self.objects

    def list(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))


def store_from_env(default_root: Path, env: dict[str, str] | None = None) -> RecordingStore:
    """``HOTLINE_RECORDINGS_STORE=s3`` with ``HOTLINE_RECORDINGS_S3_BUCKET`` (and optionally
    ``_S3_ENDPOINT``, ``_S3_PREFIX``, ``_S3_REGION``; credentials from boto3's usual chain) selects the
    object store; otherwise files go under ``default_root``."""
    env = dict(os.environ) if env is None else env
    if env.get("HOTLINE_RECORDINGS_STORE", "local") == "s3":
        bucket = env.get("HOTLINE_RECORDINGS_S3_BUCKET", "")
        if not bucket:
            raise ValueError("HOTLINE_RECORDINGS_STORE=s3 needs HOTLINE_RECORDINGS_S3_BUCKET")
        return S3Store.connect(
            bucket,
            endpoint_url=env.get("HOTLINE_RECORDINGS_S3_ENDPOINT") or None,
            prefix=env.get("HOTLINE_RECORDINGS_S3_PREFIX", ""),
            region=env.get("HOTLINE_RECORDINGS_S3_REGION") or None,
        )
    return LocalStore(default_root)
