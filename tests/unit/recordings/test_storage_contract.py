"""The storage contract against the in-memory fake and the local filesystem store."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordings.storage import LocalStore, MemoryStore, RecordingStore
from recordings.testing import STORE_CONTRACT, Case


@pytest.fixture(params=["memory", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RecordingStore:
    if request.param == "memory":
        return MemoryStore()
    return LocalStore(tmp_path / "recordings")


@pytest.mark.parametrize("case", STORE_CONTRACT, ids=lambda c: c.__name__)
def test_store_contract(store: RecordingStore, case: Case) -> None:
    case(store)


def test_local_store_leaves_no_partial_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)

    class Boom:
        def read(self, _n: int = -1) -> bytes:
            raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        store.put("a/b.wav", Boom())  # type: ignore[arg-type]
    assert store.list() == []
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
