"""Knowledge-base HTTP API: search, read, create, revise (a revision is a new version; history kept).

Every call needs an API key (``X-API-Key``): articles are what agents tell citizens, so writing one is
for supervisors and administrators only, and reading one is for staff keys (drafts and internal notes are
not for the public). Domain errors answer through the API's one mapping (409 for a key that exists).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field

from kernel.text import INT32_MAX, SafeText, VisibleText
from routing.api.deps import ClientDep, require
from routing.domain.errors import DomainError, InvalidInput
from routing.kb.service import KnowledgeBase

if TYPE_CHECKING:
    from routing.parts import RoutingParts


READERS = ("agent", "supervisor", "qa", "admin", "integration")
EDITORS = ("supervisor", "admin")
Short = Annotated[SafeText, Field(max_length=200)]
Items = Annotated[list[Annotated[SafeText, Field(max_length=500)]], Field(max_length=50)]
ArticleId = Annotated[int, Field(ge=1, le=INT32_MAX)]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[SafeText, Field(min_length=1, max_length=96, pattern=r"^[\w.\-]+$")]
    title: Annotated[VisibleText, Field(min_length=1, max_length=200)]
    body: Annotated[VisibleText, Field(min_length=1, max_length=20_000)]
    category: Short = ""
    unit_code: Annotated[SafeText, Field(max_length=64)] = ""
    unit_name: Short = ""
    materials: Items = []
    procedure: Items = []
    keywords: Items = []
    valid_from: Annotated[SafeText, Field(max_length=40)] | None = None
    valid_to: Annotated[SafeText, Field(max_length=40)] | None = None
    status: Annotated[str, Field(pattern="^(draft|published|retired)$")] = "published"


class ArticleChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[VisibleText, Field(min_length=1, max_length=200)] | None = None
    body: Annotated[VisibleText, Field(min_length=1, max_length=20_000)] | None = None
    category: Short | None = None
    unit_code: Annotated[SafeText, Field(max_length=64)] | None = None
    unit_name: Short | None = None
    materials: Items | None = None
    procedure: Items | None = None
    keywords: Items | None = None
    valid_from: Annotated[SafeText, Field(max_length=40)] | None = None
    valid_to: Annotated[SafeText, Field(max_length=40)] | None = None
    status: Annotated[str, Field(pattern="^(draft|published|retired)$")] | None = None


def _invalid(exc: ValueError) -> InvalidInput:
    return InvalidInput("知识条目内容无效", f"invalid article: {exc}")


def build_router(kb: KnowledgeBase) -> APIRouter:
    router = APIRouter(prefix="/api/kb", tags=["knowledge base"])

    @router.get("/search")
    def search(
        client: ClientDep,
        q: Annotated[str, Query(min_length=1, max_length=500)],
        k: Annotated[int, Query(ge=1, le=50)] = 5,
    ) -> dict[str, Any]:
        require(client, *READERS)
        return {"query": q, "hits": [h.to_dict() for h in kb.search(q, k)]}

    @router.get("/articles/{article_id}")
    def get(article_id: ArticleId, client: ClientDep) -> dict[str, Any]:
        require(client, *READERS)
        return kb.get(article_id).to_dict()

    @router.get("/articles/{article_id}/history")
    def history(article_id: ArticleId, client: ClientDep) -> list[dict[str, Any]]:
        require(client, *READERS)
        return [a.to_dict() for a in kb.history(article_id)]

    @router.post("/articles", status_code=201)
    def create(body: ArticleIn, client: ClientDep) -> dict[str, Any]:
        actor = require(client, *EDITORS)
        try:
            return kb.create(body.model_dump(), by=actor.name).to_dict()
        except DomainError:
            raise
        except ValueError as exc:
            raise _invalid(exc) from exc

    @router.put("/articles/{article_id}")
    def revise(article_id: ArticleId, body: ArticleChanges, client: ClientDep) -> dict[str, Any]:
        actor = require(client, *EDITORS)
        try:
            return kb.revise(article_id, body.model_dump(exclude_unset=True), by=actor.name).to_dict()
        except DomainError:
            raise
        except ValueError as exc:
            raise _invalid(exc) from exc

    return router


def install(web: FastAPI, parts: RoutingParts) -> None:
    web.include_router(build_router(parts.kb))
