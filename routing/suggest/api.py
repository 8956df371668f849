"""Suggestion HTTP API: POST /api/suggest {text} and POST /api/suggest/feedback (the agent's choice)."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, Field

from hotline.bootstrap import App
from kernel.db import transaction
from routing.domain.errors import DomainError
from routing.suggest import feedback
from routing.suggest.service import SuggestionEngine


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


class EngineHolder:
    """Builds the engine on first use (loading the model takes a moment) and keeps it."""

    def __init__(self, hot: App) -> None:
        self.hot = hot
        self._engine: SuggestionEngine | None = None
        self._lock = threading.Lock()

    def get(self) -> SuggestionEngine:
        with self._lock:
            if self._engine is None:
                from routing.suggest.factory import engine_for_app

                self._engine = engine_for_app(self.hot)
            return self._engine


def build_router(hot: App, holder: EngineHolder) -> APIRouter:
    router = APIRouter(prefix="/api/suggest", tags=["suggestions"])

    @router.post("")
    def suggest(body: SuggestIn) -> dict[str, Any]:
        return holder.get().suggest(body.text, call_id=body.call_id, articles=body.articles).to_dict()

    @router.post("/feedback", status_code=201)
    def record_feedback(body: FeedbackIn) -> dict[str, Any]:
        try:
            with transaction(hot.session_factory) as session:
                row = feedback.record(session, now=hot.clock.now(), **body.model_dump())
                return {"id": row.id, "outcome": row.outcome}
        except DomainError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    return router


def install(web: FastAPI, hot: App) -> None:
    holder = EngineHolder(hot)
    hot.extras["suggestions"] = holder
    web.include_router(build_router(hot, holder))
