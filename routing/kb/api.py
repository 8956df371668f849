"""Knowledge-base HTTP API: search, read, create, revise (a revision is a new version; history kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

from routing.domain.errors import DomainError, NotFound
from routing.kb.service import KnowledgeBase

if TYPE_CHECKING:
    from routing.parts import RoutingParts


class ArticleIn(BaseModel):
    key: str = Field(min_length=1, max_length=96)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1)
    category: str = ""
    unit_code: str = ""
    unit_name: str = ""
    materials: list[str] = []
    procedure: list[str] = []
    keywords: list[str] = []
    valid_from: str | None = None
    valid_to: str | None = None
    status: str = "published"


class ArticleChanges(BaseModel):
    title: str | None = None
    body: str | None = None
    category: str | None = None
    unit_code: str | None = None
    unit_name: str | None = None
    materials: list[str] | None = None
    procedure: list[str] | None = None
    keywords: list[str] | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    status: str | None = None


def _http(exc: DomainError) -> HTTPException:
    return HTTPException(status_code=404 if isinstance(exc, NotFound) else 422, detail=str(exc))


def build_router(kb: KnowledgeBase) -> APIRouter:
    router = APIRouter(prefix="/api/kb", tags=["knowledge base"])

    @router.get("/search")
    def search(q: str = Query(min_length=1), k: int = Query(5, ge=1, le=50)) -> dict[str, Any]:
        return {"query": q, "hits": [h.to_dict() for h in kb.search(q, k)]}

    @router.get("/articles/{article_id}")
    def get(article_id: int) -> dict[str, Any]:
        try:
            return kb.get(article_id).to_dict()
        except DomainError as exc:
            raise _http(exc) from exc

    @router.get("/articles/{article_id}/history")
    def history(article_id: int) -> list[dict[str, Any]]:
        try:
            return [a.to_dict() for a in kb.history(article_id)]
        except DomainError as exc:
            raise _http(exc) from exc

    @router.post("/articles", status_code=201)
    def create(body: ArticleIn) -> dict[str, Any]:
        try:
            return kb.create(body.model_dump(), by="api").to_dict()
        except (DomainError, ValueError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    @router.put("/articles/{article_id}")
    def revise(article_id: int, body: ArticleChanges) -> dict[str, Any]:
        try:
            return kb.revise(article_id, body.model_dump(exclude_unset=True), by="api").to_dict()
        except DomainError as exc:
            raise _http(exc) from exc
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    return router


def install(web: FastAPI, parts: RoutingParts) -> None:
    web.include_router(build_router(parts.kb))
