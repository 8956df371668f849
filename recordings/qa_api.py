"""HTTP API of quality review (/api/qa/...), for the web desk's QA pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from hotline.bootstrap import App
from recordings.access import AllowedListener
from recordings.context import RecordingsContext
from recordings.orders import OrderLookup, SqlOrderLookup
from recordings.orm import QaReview, QaSample, QaScorecard, Recording
from recordings.qa import QaService, ReviewInvalid, ScorecardItem
from recordings.queries import recording_json
from recordings.sampling import SamplingRules, run_sampling
from recordings.transcripts import SqlTranscriptSource, TranscriptSource

ORDERS_KEY = "recordings.orders"
SCORECARD_EDITORS = frozenset({"qa", "admin"})


class ScorecardIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    items: list[ScorecardItem] = Field(min_length=1, max_length=50)


class ReviewIn(BaseModel):
    recording_id: int
    scorecard_id: int
    scores: dict[str, float]
    comments: str = Field(default="", max_length=4000)


class SamplingIn(BaseModel):
    day: date
    random_percent: float = Field(default=5.0, ge=0, le=100)
    long_silence_s: float = Field(default=15.0, gt=0)
    raised_voice_s: int = Field(default=3, ge=1)


def card_json(c: QaScorecard) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "version": c.version, "items": c.items, "active": c.active}


def review_json(r: QaReview) -> dict[str, Any]:
    return {
        "id": r.id,
        "recording_id": r.recording_id,
        "call_id": r.call_id,
        "agent": r.agent,
        "reviewer": r.reviewer,
        "scorecard_id": r.scorecard_id,
        "item_scores": r.item_scores,
        "total": r.total,
        "failed": r.failed,
        "comments": r.comments,
        "created_at": r.created_at.isoformat(),
    }


def build_router(hot: App, ctx: RecordingsContext) -> APIRouter:
    router = APIRouter(prefix="/api/qa", tags=["qa 质检"])
    service = QaService(ctx, hot.settings.timezone)

    def orders() -> OrderLookup:
        port = hot.extras.get(ORDERS_KEY)
        return port if port is not None else SqlOrderLookup(ctx.session_factory)  # type: ignore[return-value]

    def transcripts() -> TranscriptSource:
        port = hot.extras.get("recordings.transcripts")
        return port if isinstance(port, TranscriptSource) else SqlTranscriptSource(ctx.session_factory)

    @router.get("/scorecards")
    def list_scorecards(listener: AllowedListener, all_versions: bool = False) -> list[dict[str, Any]]:
        service.ensure_default()
        return [card_json(c) for c in service.scorecards(active_only=not all_versions)]

    @router.post("/scorecards", status_code=201)
    def save_scorecard(body: ScorecardIn, listener: AllowedListener) -> dict[str, Any]:
        if listener.role not in SCORECARD_EDITORS:
            raise HTTPException(403, "无权修改评分表 / your role may not edit scorecards")
        try:
            return card_json(service.save_scorecard(body.name, body.items))
        except ReviewInvalid as exc:
            raise HTTPException(422, str(exc)) from None

    @router.post("/reviews", status_code=201)
    def submit_review(body: ReviewIn, listener: AllowedListener) -> dict[str, Any]:
        try:
            review = service.submit_review(
                listener.name, body.recording_id, body.scorecard_id, body.scores, body.comments
            )
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        except ReviewInvalid as exc:
            raise HTTPException(422, str(exc)) from None
        return review_json(review)

    @router.get("/reviews")
    def list_reviews(
        listener: AllowedListener, agent: str | None = None, recording_id: int | None = None
    ) -> list[dict[str, Any]]:
        return [review_json(r) for r in service.reviews(agent=agent, recording_id=recording_id)]

    @router.get("/agents/{agent}/scores")
    def agent_scores(agent: str, listener: AllowedListener) -> dict[str, Any]:
        return {"agent": agent, "weeks": service.agent_scores(agent)}

    @router.get("/samples")
    def list_samples(
        listener: AllowedListener, day: date | None = None, unreviewed: bool = False
    ) -> list[dict[str, Any]]:
        with ctx.session_factory() as session:
            query = select(QaSample).order_by(QaSample.sampled_on.desc(), QaSample.id)
            if day:
                query = query.where(QaSample.sampled_on == day)
            if unreviewed:
                query = query.where(QaSample.review_id.is_(None))
            return [
                {
                    "id": s.id,
                    "recording_id": s.recording_id,
                    "call_id": s.call_id,
                    "agent": s.agent,
                    "reason": s.reason,
                    "detail": s.detail,
                    "day": s.sampled_on.isoformat(),
                    "review_id": s.review_id,
                }
                for s in session.scalars(query.limit(500))
            ]

    @router.post("/samples/run")
    def run(body: SamplingIn, listener: AllowedListener) -> dict[str, Any]:
        rules = SamplingRules(body.random_percent, body.long_silence_s, body.raised_voice_s)
        picks = run_sampling(ctx, orders(), transcripts(), body.day, rules, tz=hot.settings.timezone)
        return {"day": body.day.isoformat(), "new": [p.__dict__ for p in picks]}

    @router.get("/calls/{recording_id}")
    def review_bundle(recording_id: int, listener: AllowedListener) -> dict[str, Any]:
        """Everything a reviewer needs: the recording, both transcripts, the work orders, past reviews."""
        with ctx.session_factory() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                raise HTTPException(404, f"没有此录音 / no recording {recording_id}")
            data = recording_json(recording, with_files=True)
        segments = transcripts().segments(recording.call_id)
        linked = orders().linked(recording.order_numbers, recording.call_id)
        return {
            "recording": data,
            "transcript": {
                leg: [s.as_json() for s in segments if s.leg == leg] for leg in ("caller", "agent")
            },
            "orders": [
                {
                    "number": o.number,
                    "state": o.state,
                    "title": o.title,
                    "category_path": o.category_path,
                    "description": o.description,
                }
                for o in linked
            ],
            "reviews": [review_json(r) for r in service.reviews(recording_id=recording_id)],
        }

    return router
