"""REST API for work orders, departments, categories, alarms and scores, mounted by :func:`install`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from routing.api import orders, reference, rules
from routing.api.deps import domain_error_response, use_contact_audit
from routing.domain.errors import DomainError
from routing.parts import RoutingParts


def install(web: FastAPI, hot: RoutingParts) -> None:
    from routing.open311 import open311_domain_error

    @web.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        return open311_domain_error(request, exc) or domain_error_response(exc)

    web.include_router(orders.router)
    web.include_router(reference.router)
    web.include_router(rules.router)


__all__ = ["install", "use_contact_audit"]
