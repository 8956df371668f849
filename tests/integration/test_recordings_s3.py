"""The storage contract against a real S3 HTTP server (moto's ThreadedMotoServer on a free loopback port)
through boto3, exactly as production talks to MinIO/Ceph/AWS."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

from recordings.storage import S3Store
from recordings.testing import STORE_CONTRACT, Case


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        pytest.skip(f"moto[server] is not installed ({exc}); pip install 'moto[server]'")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as exc:
        pytest.skip(f"moto S3 server could not start on 127.0.0.1:{port}: {exc}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Store:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"rec-{uuid.uuid4().hex[:12]}"
    store = S3Store.connect(bucket, endpoint_url=s3_endpoint, prefix="hotline", region="us-east-1")
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.mark.parametrize("case", STORE_CONTRACT, ids=lambda c: c.__name__)
def test_s3_store_contract(s3_store: S3Store, case: Case) -> None:
    case(s3_store)


def test_s3_objects_live_under_the_prefix(s3_store: S3Store) -> None:
    s3_store.put("2026/11/23/c1/mixed.wav", b"abc")
    listed = s3_store.client.list_objects_v2(Bucket=s3_store.bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["hotline/2026/11/23/c1/mixed.wav"]
