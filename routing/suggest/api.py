"""Suggestion HTTP API: POST /api/suggest {text} and POST /api/suggest/feedback (the agent's choice).

Both need an API key: a suggestion costs a model run, and feedback is what the model learns from, so only
the hotline's own staff (agents, supervisors, administrators) may give it, under their key's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from kernel.db import transaction
from kernel.text import Int32, PositiveId, SafeText, VisibleText
from routing.api.deps import ClientDep, require
from routing.suggest import feedback
from routing.suggest.holder import EngineHolder

if TYPE_CHECKING:
    from routing.parts import RoutingParts

SUGGEST_ROLES = ("agent", "supervisor", "admin", "integration")
FEEDBACK_ROLES = ("agent", "supervisor", "admin")
Short = Annotated[SafeText, Field(max_length=200)]


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[VisibleText, Field(min_length=1, max_length=20_000)]
    call_id: Annotated[SafeText, Field(max_length=64)] | None = None
    articles: Annotated[Int32, Field(ge=0, le=20)] = 3


class Scored(BaseModel):
    name: Short
    score: float | None = None


class Suggested(BaseModel):
    """What POST /api/suggest answered, sent back as it was (other keys are kept as given)."""

    model_config = ConfigDict(extra="allow")
    categories: Annotated[list[Scored], Field(max_length=50)] = []
    leaves: Annotated[list[Scored], Field(max_length=50)] = []


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[VisibleText, Field(min_length=1, max_length=20_000)]
    suggested: Suggested
    chosen_level1: Annotated[VisibleText, Field(min_length=1, max_length=64)]
    chosen_path: Short | None = None
    chosen_unit: Annotated[SafeText, Field(max_length=64)] | None = None
    call_id: Annotated[SafeText, Field(max_length=64)] | None = None
    order_id: PositiveId | None = None


def build_router(parts: RoutingParts, holder: EngineHolder) -> APIRouter:
    router = APIRouter(prefix="/api/suggest", tags=["suggestions"])

    @router.post("")
    def suggest(body: SuggestIn, client: ClientDep) -> dict[str, Any]:
        require(client, *SUGGEST_ROLES)
        return holder.get().suggest(body.text, call_id=body.call_id, articles=body.articles).to_dict()

    @router.post("/feedback", status_code=201)
    def record_feedback(body: FeedbackIn, client: ClientDep) -> dict[str, Any]:
        actor = require(client, *FEEDBACK_ROLES)
        with transaction(parts.session_factory) as session:
            row = feedback.record(session, now=parts.clock.now(), agent=actor.name, **body.model_dump())
            return {"id": row.id, "outcome": row.outcome}

    return router


def install(web: FastAPI, parts: RoutingParts) -> None:
    web.include_router(build_router(parts, parts.suggestions))
