"""A bounded fuzz run over the whole OpenAPI schema (schemathesis), on SQLite and PostgreSQL: every
operation, examples generated from its schema (and out of it: wrong types, NUL, huge numbers), sent with
each kind of key and without one. No answer may be a 5xx. Fixed seed, bounded examples: it runs in
seconds in ``make test``. ``FUZZ_EXAMPLES`` raises the bound for a longer run."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from hotline.bootstrap import App
from hotline.web import create_web_app
from routing.apikeys import create_api_key
from routing.commands import IntakeCommand
from routing.domain.enums import Channel
from routing.domain.model import Actor
from routing.suggest.service import Suggestions

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


class _StubEngine:
    """The fuzz run is about the HTTP edge: a model is not trained for it."""

    def suggest(self, text: str, *_a: Any, **_k: Any) -> Suggestions:
        return Suggestions(text, [], [], [])


def test_fuzz_every_operation_answers_no_5xx(hot: App) -> None:
    web = create_web_app(hot)
    holder: Any = hot.routing.suggestions
    holder._engine = _StubEngine()
    with hot.session_factory() as session, session.begin():
        keys: list[str | None] = [
            None,
            "hk_not_a_key",
            create_api_key(session, "f-agent", "agent"),
            create_api_key(session, "f-sup", "supervisor"),
            create_api_key(session, "f-dept", "department", "city.housing"),
            create_api_key(session, "f-head", "department_head", "city.housing"),
            create_api_key(session, "f-int", "integration", phone_access=True),
        ]
    hot.work_orders.intake(
        IntakeCommand(channel=Channel.PHONE, description="楼道灯坏了", citizen_phone="13812345678"),
        Actor("seed", "agent"),
    )
    schema = schemathesis.openapi.from_dict(web.openapi())
    client = TestClient(web, raise_server_exceptions=False)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @seed(12345)
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), key=st.sampled_from(keys))
        def probe(case: Any, key: str | None) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver")
            kwargs.pop(
                "cookies", None
            )  # the API authenticates by header; the desk's cookie is not in the schema
            headers = dict(kwargs.pop("headers", None) or {})
            headers.pop("X-API-Key", None)
            headers.pop("x-api-key", None)
            if key is not None:
                headers["X-API-Key"] = key
            response = client.request(headers=headers, **kwargs)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{kwargs['method']} {kwargs['url']} → {response.status_code}")

        probe()
    print(
        f"fuzz: {operations} operations, {sum(statuses.values())} requests, {dict(sorted(statuses.items()))}"
    )
    assert operations >= 40
    assert failures == [], failures[:10]


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_the_schema_covers_the_api(hot: App, path: str) -> None:
    paths = TestClient(create_web_app(hot)).get(path).json()["paths"]
    assert any(p.startswith("/api/work-orders") for p in paths)
    assert any(p.startswith("/open311/") for p in paths)
    assert any(p.startswith("/api/kb/") for p in paths)
