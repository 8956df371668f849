"""HTTP API of quality review (``/api/qa/...``), for the web desk's QA pages.

Roles: supervisors, QA staff and admins (``access.LISTENING_ROLES``); only QA and admins edit scorecards.
Errors: 401 not logged in, 403 role, 404 unknown id, 422 an invalid score sheet (``detail`` says why).
The JSON below is a contract with agent_ui: keys are only ever added, never renamed or removed.

A full review, step by step::

    GET  /api/qa/queue                     the review queue: sampled, unreviewed calls
    GET  /api/qa/calls/{recording_id}      everything for one call (audited as a transcript view)
    GET  /api/recordings/{id}/audio        the recording itself, with Range requests (recordings/api.py)
    POST /api/qa/reviews                   the scored scorecard with comments
    GET  /api/qa/agents/{agent}/scores     the agent's scores over time

``GET /api/qa/scorecards[?all_versions=true]`` -> ``[card]`` (the default card is created on first use)::

    card = {"id", "name", "version", "active",
            "items": [{"code", "label_zh", "label_en", "weight", "max_score", "instant_fail"}]}

``POST /api/qa/scorecards`` ``{"name", "items": [item]}`` -> 201 ``card`` (a new version; older ones stay
for the reviews that used them). Instant-fail items are pass/fail (``max_score`` 1, weight ignored).

``GET /api/qa/queue?day=YYYY-MM-DD&reason=&agent=&limit=100`` -> ``[entry]``, newest sample first, one entry
per recording with at least one unreviewed sample::

    entry = {"recording_id", "call_id", "agent", "queue", "started_at", "duration_ms", "call_outcome",
             "reasons": [{"sample_id", "reason", "detail", "day"}],  # random | complaint | long_silence |
                                                                     # raised_voice | heated_words
             "ready": {"recording": bool,            # a playable file is stored
                       "transcript": {"caller": n, "agent": n},  # final segments per leg
                       "orders": ["HK…"]}}           # linked work orders

``GET /api/qa/calls/{recording_id}[?scorecard_id=]`` -> the review bundle::

    {"recording": recording (recordings.queries.recording_json with files, legs, features, transcript link),
     "audio": {"mixed": url, "caller": url, "agent": url, "compressed": url},   # the kinds stored
     "transcript": {"caller": [segment], "agent": [segment]},
     "timeline": [segment],                 # both legs in time order
     segment = {"leg", "start_ms", "end_ms", "text"}   # redacted text, times from the call's start
     "orders": [{"number", "state", "title", "category_path", "description"}],
     "samples": [{"sample_id", "reason", "detail", "day", "review_id"}],
     "scorecard": card,                     # the one asked for, else the default active card
     "reviews": [review]}

``POST /api/qa/reviews`` ``{"recording_id", "scorecard_id", "scores": {code: number},
"comments": "", "item_comments": {code: "text"}}`` -> 201 ``review``; every item must be scored within
0..max_score; a 0 on an instant-fail item fails the review with total 0::

    review = {"id", "recording_id", "call_id", "agent", "reviewer", "scorecard_id",
              "scorecard": {"name", "version"}, "item_scores", "item_comments", "failed_items",
              "total",      # 0..100, the weighted share of the maximum
              "failed", "comments", "created_at"}

``GET /api/qa/reviews[?agent=&recording_id=]`` -> ``[review]``; ``GET /api/qa/reviews/{id}`` -> ``review``.

``GET /api/qa/agents/{agent}/scores?period=week|day|month&date_from=&date_to=`` ->
``{"agent", "period", "weeks": [{"week", "reviews", "average", "failed"}],
"points": [{"start", "reviews", "average", "failed", "items": {code: mean % of max}}]}``
(``weeks`` is always weekly and unfiltered, kept for the first desk pages; ``points`` follows the query).

``GET /api/qa/agents?date_from=&date_to=`` -> ``[{"agent", "reviews", "average", "failed", "items",
"last_review_at"}]``.

``GET /api/qa/samples?day=&unreviewed=`` -> ``[{"id", "recording_id", "call_id", "agent", "reason", "detail",
"day", "review_id"}]``; ``POST /api/qa/samples/run`` ``{"day", "random_percent", "long_silence_s",
"raised_voice_s"}`` -> ``{"day", "new": [{"recording_id", "call_id", "agent", "reason", "detail"}]}``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kernel.text import RowId
from recordings.access import AllowedListener, ListenAudit
from recordings.context import RecordingsContext
from recordings.orders import OrderLookup
from recordings.orm import QaReview, QaSample, QaScorecard, Recording
from recordings.qa import PERIODS, QaService, ReviewInvalid, ScorecardItem
from recordings.queries import playable_file, recording_json
from recordings.sampling import SamplingRules, run_sampling
from recordings.transcripts import TranscriptSource

if TYPE_CHECKING:
    from recordings.parts import RecordingsParts

SCORECARD_EDITORS = frozenset({"qa", "admin"})


class ScorecardIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    items: list[ScorecardItem] = Field(min_length=1, max_length=50)


class ReviewIn(BaseModel):
    recording_id: RowId
    scorecard_id: RowId
    scores: dict[str, float]
    comments: str = Field(default="", max_length=4000)
    item_comments: dict[str, str] = Field(default_factory=dict)


class SamplingIn(BaseModel):
    day: date
    random_percent: float = Field(default=5.0, ge=0, le=100)
    long_silence_s: float = Field(default=15.0, gt=0)
    raised_voice_s: int = Field(default=3, ge=1)


def card_json(c: QaScorecard) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "version": c.version, "items": c.items, "active": c.active}


def review_json(r: QaReview, card: QaScorecard | None = None) -> dict[str, Any]:
    items = {i["code"]: i for i in card.items} if card is not None else {}
    return {
        "id": r.id,
        "recording_id": r.recording_id,
        "call_id": r.call_id,
        "agent": r.agent,
        "reviewer": r.reviewer,
        "scorecard_id": r.scorecard_id,
        "scorecard": {"name": card.name, "version": card.version} if card is not None else None,
        "item_scores": r.item_scores,
        "item_comments": dict(r.item_comments or {}),
        "failed_items": sorted(
            code
            for code, item in items.items()
            if item.get("instant_fail") and r.item_scores.get(code, 1) < 1
        ),
        "total": r.total,
        "failed": r.failed,
        "comments": r.comments,
        "created_at": r.created_at.isoformat(),
    }


def sample_json(s: QaSample) -> dict[str, Any]:
    return {
        "sample_id": s.id,
        "reason": s.reason,
        "detail": s.detail,
        "day": s.sampled_on.isoformat(),
        "review_id": s.review_id,
    }


def build_router(hot: RecordingsParts, ctx: RecordingsContext) -> APIRouter:
    router = APIRouter(prefix="/api/qa", tags=["qa 质检"])
    service = QaService(ctx, hot.settings.timezone)
    auditor = ListenAudit(ctx.session_factory, ctx.clock.now)

    def orders() -> OrderLookup:
        return hot.orders

    def transcripts() -> TranscriptSource:
        return hot.transcripts

    def cards_by_id(ids: set[int]) -> dict[int, QaScorecard]:
        if not ids:
            return {}
        with ctx.session_factory() as session:
            return {c.id: c for c in session.scalars(select(QaScorecard).where(QaScorecard.id.in_(ids)))}

    def reviews_json(reviews: list[QaReview]) -> list[dict[str, Any]]:
        cards = cards_by_id({r.scorecard_id for r in reviews})
        return [review_json(r, cards.get(r.scorecard_id)) for r in reviews]

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
                listener.name,
                body.recording_id,
                body.scorecard_id,
                body.scores,
                body.comments,
                body.item_comments,
            )
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        except ReviewInvalid as exc:
            raise HTTPException(422, str(exc)) from None
        return reviews_json([review])[0]

    @router.get("/reviews")
    def list_reviews(
        listener: AllowedListener, agent: str | None = None, recording_id: RowId | None = None
    ) -> list[dict[str, Any]]:
        return reviews_json(service.reviews(agent=agent, recording_id=recording_id))

    @router.get("/reviews/{review_id}")
    def get_review(review_id: RowId, listener: AllowedListener) -> dict[str, Any]:
        review = service.review(review_id)
        if review is None:
            raise HTTPException(404, f"没有此质检记录 / no review {review_id}")
        return reviews_json([review])[0]

    @router.get("/agents")
    def agents_overview(
        listener: AllowedListener, date_from: date | None = None, date_to: date | None = None
    ) -> list[dict[str, Any]]:
        return service.agents_overview(date_from, date_to)

    @router.get("/agents/{agent}/scores")
    def agent_scores(
        agent: str,
        listener: AllowedListener,
        period: str = "week",
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> dict[str, Any]:
        if period not in PERIODS:
            raise HTTPException(422, f"period must be one of {list(PERIODS)}")
        return {
            "agent": agent,
            "period": period,
            "weeks": service.agent_scores(agent),
            "points": service.agent_trend(agent, period, date_from, date_to),
        }

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

    @router.get("/queue")
    def review_queue(
        listener: AllowedListener,
        day: date | None = None,
        reason: str | None = None,
        agent: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Sampled calls waiting for a review, one entry per recording, with what the review will have."""
        query = (
            select(QaSample)
            .where(QaSample.review_id.is_(None))
            .order_by(QaSample.sampled_on.desc(), QaSample.id.desc())
        )
        if day:
            query = query.where(QaSample.sampled_on == day)
        if reason:
            query = query.where(QaSample.reason == reason)
        if agent:
            query = query.where(QaSample.agent == agent)
        entries: dict[int, dict[str, Any]] = {}
        with ctx.session_factory() as session:
            samples = list(session.scalars(query.limit(limit * 5)))
            recordings = {
                r.id: r
                for r in session.scalars(
                    select(Recording)
                    .options(selectinload(Recording.files))
                    .where(Recording.id.in_({s.recording_id for s in samples}))
                )
            }
            for sample in samples:
                recording = recordings.get(sample.recording_id)
                if recording is None or recording.deleted_at is not None:
                    continue
                entry = entries.get(recording.id)
                if entry is None:
                    if len(entries) >= limit:
                        continue
                    entry = entries[recording.id] = {
                        "recording_id": recording.id,
                        "call_id": recording.call_id,
                        "agent": recording.agent,
                        "queue": recording.queue,
                        "started_at": recording.started_at.isoformat(),
                        "duration_ms": recording.duration_ms,
                        "call_outcome": recording.call_outcome,
                        "reasons": [],
                        "ready": {
                            "recording": playable_file(recording, None) is not None,
                            "transcript": {},
                            "orders": list(recording.order_numbers),
                        },
                    }
                entry["reasons"].append({k: v for k, v in sample_json(sample).items() if k != "review_id"})
        source, lookup = transcripts(), orders()
        for entry in entries.values():
            segments = source.segments(entry["call_id"])
            entry["ready"]["transcript"] = {
                leg: sum(1 for s in segments if s.leg == leg) for leg in ("caller", "agent")
            }
            linked = lookup.linked(entry["ready"]["orders"], entry["call_id"])
            entry["ready"]["orders"] = sorted({*entry["ready"]["orders"], *(o.number for o in linked)})
        return list(entries.values())

    @router.get("/calls/{recording_id}")
    def review_bundle(
        recording_id: RowId, request: Request, listener: AllowedListener, scorecard_id: RowId | None = None
    ) -> dict[str, Any]:
        """Everything a reviewer needs: the recording, both transcripts, the work orders, past reviews."""
        with ctx.session_factory() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                raise HTTPException(404, f"没有此录音 / no recording {recording_id}")
            data = recording_json(recording, with_files=True)
            call_id, order_numbers = recording.call_id, list(recording.order_numbers)
            samples = [
                sample_json(s)
                for s in session.scalars(
                    select(QaSample).where(QaSample.recording_id == recording_id).order_by(QaSample.id)
                )
            ]
            card = session.get(QaScorecard, scorecard_id) if scorecard_id else None
        if scorecard_id and card is None:
            raise HTTPException(404, f"没有此评分表 / no scorecard {scorecard_id}")
        card = card or service.ensure_default()
        segments = transcripts().segments(call_id)
        linked = orders().linked(order_numbers, call_id)
        auditor.record(
            listener, recording_id, "qa_review", client=request.client.host if request.client else ""
        )
        return {
            "recording": data,
            "audio": {kind: f"/api/recordings/{recording_id}/audio?kind={kind}" for kind in data["kinds"]},
            "transcript": {
                leg: [s.as_json() for s in segments if s.leg == leg] for leg in ("caller", "agent")
            },
            "timeline": [s.as_json() for s in segments],
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
            "samples": samples,
            "scorecard": card_json(card),
            "reviews": reviews_json(service.reviews(recording_id=recording_id)),
        }

    return router
