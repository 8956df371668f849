"""Suggestion HTTP API: POST /api/suggest {text} and POST /api/suggest/feedback (the agent's choice)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, Field

from kernel.db import transaction
from routing.domain.errors import DomainError
from routing.suggest import feedback
from routing.suggest.holder import EngineHolder

if TYPE_CHECKING:
    from routing.parts import RoutingParts


class SuggestIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    call_id: str | None = None
    articles: int = Field(3, ge=0, le=20)


class FeedbackIn(BaseModel):
    text: str = Field(min_length=1)
    suggested: dict[str, Any]
    chosen_level1: str = Field(min_length=1)
    chosen_path: str | None = None
    chosen_unit: str | None = None
    agent: str = ""
    call_id: str | None = None
    order_id: int | None = None


def build_router(parts: RoutingParts, holder: EngineHolder) -> APIRouter:
    router = APIRouter(prefix="/api/suggest", tags=["suggestions"])

    @router.post("")
    def suggest(body: SuggestIn) -> dict[str, Any]:
        return holder.get().suggest(body.text, call_id=body.call_id, articles=body.articles).to_dict()

    @router.post("/feedback", status_code=201)
    def record_feedback(body: FeedbackIn) -> dict[str, Any]:
        try:
            with transaction(parts.session_factory) as session:
                row = feedback.record(session, now=parts.clock.now(), **body.model_dump())
                return {"id": row.id, "outcome": row.outcome}
        except DomainError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    return router


def install(web: FastAPI, parts: RoutingParts) -> None:
    web.include_router(build_router(parts, parts.suggestions))
