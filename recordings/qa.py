"""Quality review: versioned scorecards, reviews with instant-fail items, agent scores per week.

Scoring rule: each item is scored 0..max_score; the total is the weighted share of the maximum, 0..100.
An instant-fail item (e.g. leaking a citizen's data, insulting the caller) is scored 1 (no violation) or 0
(violation): a 0 on any of them fails the review and sets the total to 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from recordings.context import RecordingsContext
from recordings.orm import QaReview, QaSample, QaScorecard, Recording


class ReviewInvalid(ValueError):
    pass


class ScorecardItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label_zh: str = Field(min_length=1, max_length=64)
    label_en: str = Field(min_length=1, max_length=96)
    weight: float = Field(ge=0, le=100)
    max_score: int = Field(default=5, ge=1, le=100)
    instant_fail: bool = False

    @model_validator(mode="after")
    def _pass_fail(self) -> ScorecardItem:
        if self.instant_fail and self.max_score != 1:
            raise ValueError(f"instant-fail item {self.code} is pass/fail: max_score must be 1")
        return self


def check_items(items: list[ScorecardItem]) -> list[ScorecardItem]:
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise ReviewInvalid("duplicate item codes / 评分项代码重复")
    if sum(i.weight for i in items if not i.instant_fail) <= 0:
        raise ReviewInvalid("a scorecard needs at least one weighted item / 至少需要一个有权重的评分项")
    return items


DEFAULT_SCORECARD = "热线通话质检"
DEFAULT_ITEMS = [
    ScorecardItem(code="greeting", label_zh="规范开场问候", label_en="Standard greeting", weight=10),
    ScorecardItem(
        code="listening",
        label_zh="耐心倾听、准确记录诉求",
        label_en="Listens and records the request accurately",
        weight=25,
    ),
    ScorecardItem(code="policy", label_zh="政策解答准确", label_en="Accurate answer on policy", weight=25),
    ScorecardItem(code="attitude", label_zh="服务态度", label_en="Courtesy and attitude", weight=20),
    ScorecardItem(
        code="order_quality",
        label_zh="工单要素完整、分类正确",
        label_en="Complete order, right category",
        weight=15,
    ),
    ScorecardItem(code="closing", label_zh="规范结束语", label_en="Standard closing", weight=5),
    ScorecardItem(
        code="privacy",
        label_zh="未泄露市民个人信息",
        label_en="No leak of the citizen's data",
        weight=0,
        max_score=1,
        instant_fail=True,
    ),
    ScorecardItem(
        code="no_abuse",
        label_zh="无辱骂、争吵或挂断市民电话",
        label_en="No insult, quarrel or hanging up",
        weight=0,
        max_score=1,
        instant_fail=True,
    ),
]


def score(items: list[ScorecardItem], scores: Mapping[str, float]) -> tuple[float, bool, list[str]]:
    """(total 0..100, failed, failed instant-fail codes); raises ReviewInvalid on a bad score sheet."""
    known = {i.code for i in items}
    unknown = sorted(set(scores) - known)
    missing = sorted(known - set(scores))
    if unknown or missing:
        raise ReviewInvalid(f"unknown items {unknown}, unscored items {missing} / 评分项不完整")
    for item in items:
        if not 0 <= scores[item.code] <= item.max_score:
            raise ReviewInvalid(f"{item.code}: {scores[item.code]} outside 0..{item.max_score}")
    failed_items = [i.code for i in items if i.instant_fail and scores[i.code] < 1]
    if failed_items:
        return 0.0, True, failed_items
    weighted = [i for i in items if not i.instant_fail]
    total_weight = sum(i.weight for i in weighted)
    total = 100 * sum(i.weight * scores[i.code] / i.max_score for i in weighted) / total_weight
    return round(total, 1), False, []


def week_start(moment: datetime, tz: ZoneInfo) -> date:
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


PERIODS = ("day", "week", "month")


def period_start(moment: datetime, tz: ZoneInfo, period: str) -> date:
    """The local day, the Monday of the week, or the first of the month the moment falls in."""
    local = moment.astimezone(tz).date()
    if period == "day":
        return local
    if period == "month":
        return local.replace(day=1)
    return local - timedelta(days=local.weekday())


def check_comments(items: list[ScorecardItem], comments: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(comments) - {i.code for i in items})
    if unknown:
        raise ReviewInvalid(f"comments on unknown items {unknown} / 评语对应的评分项不存在")
    return {code: text.strip() for code, text in comments.items() if text.strip()}


def item_percentages(items: list[ScorecardItem], scores: Mapping[str, float]) -> dict[str, float]:
    """Each item's score as a share of its maximum, 0..100 (instant-fail items: 100 passed, 0 failed)."""
    return {i.code: 100 * scores[i.code] / i.max_score for i in items if i.code in scores}


def summarise(reviews: list[QaReview], cards: dict[int, list[ScorecardItem]]) -> dict[str, Any]:
    """Count, mean total, fails and each item's mean share of its maximum over a group of reviews."""
    per_item: dict[str, list[float]] = defaultdict(list)
    for review in reviews:
        for code, pct in item_percentages(cards.get(review.scorecard_id, []), review.item_scores).items():
            per_item[code].append(pct)
    return {
        "reviews": len(reviews),
        "average": round(sum(r.total for r in reviews) / len(reviews), 1) if reviews else None,
        "failed": sum(1 for r in reviews if r.failed),
        "items": {code: round(sum(v) / len(v), 1) for code, v in sorted(per_item.items())},
    }


class QaService:
    def __init__(self, ctx: RecordingsContext, tz: str = "Asia/Shanghai") -> None:
        self.ctx = ctx
        self.tz = ZoneInfo(tz)

    # ---- scorecards --------------------------------------------------------------------------------
    def save_scorecard(self, name: str, items: list[ScorecardItem]) -> QaScorecard:
        """A new version of the named scorecard; earlier versions stay for the reviews that used them."""
        check_items(items)
        with self.ctx.writer() as session, session.begin():
            versions = list(session.scalars(select(QaScorecard).where(QaScorecard.name == name)))
            for old in versions:
                old.active = False
            card = QaScorecard(
                name=name,
                version=max((v.version for v in versions), default=0) + 1,
                items=[i.model_dump() for i in items],
                active=True,
                created_at=self.ctx.clock.now(),
            )
            session.add(card)
        return card

    def scorecards(self, *, active_only: bool = True) -> list[QaScorecard]:
        with self.ctx.session_factory() as session:
            query = select(QaScorecard).order_by(QaScorecard.name, QaScorecard.version)
            if active_only:
                query = query.where(QaScorecard.active.is_(True))
            return list(session.scalars(query))

    def ensure_default(self) -> QaScorecard:
        cards = [c for c in self.scorecards() if c.name == DEFAULT_SCORECARD]
        return cards[0] if cards else self.save_scorecard(DEFAULT_SCORECARD, DEFAULT_ITEMS)

    # ---- reviews -----------------------------------------------------------------------------------
    def submit_review(
        self,
        reviewer: str,
        recording_id: int,
        scorecard_id: int,
        scores: dict[str, float],
        comments: str = "",
        item_comments: dict[str, str] | None = None,
    ) -> QaReview:
        with self.ctx.writer() as session, session.begin():
            card = session.get(QaScorecard, scorecard_id)
            recording = session.get(Recording, recording_id)
            if card is None or recording is None:
                raise LookupError(f"no scorecard {scorecard_id} or no recording {recording_id}")
            if not recording.agent:
                raise ReviewInvalid("the recording names no agent / 录音未关联话务员")
            items = [ScorecardItem.model_validate(i) for i in card.items]
            total, failed, _ = score(items, scores)
            notes = check_comments(items, item_comments or {})
            review = QaReview(
                recording_id=recording_id,
                call_id=recording.call_id,
                agent=recording.agent,
                reviewer=reviewer,
                scorecard_id=card.id,
                item_scores=dict(scores),
                item_comments=notes,
                total=total,
                failed=failed,
                comments=comments.strip(),
                created_at=self.ctx.clock.now(),
            )
            session.add(review)
            session.flush()
            for sample in session.scalars(
                select(QaSample).where(QaSample.recording_id == recording_id, QaSample.review_id.is_(None))
            ):
                sample.review_id = review.id
        return review

    def reviews(
        self,
        *,
        agent: str | None = None,
        recording_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[QaReview]:
        with self.ctx.session_factory() as session:
            query = select(QaReview).order_by(QaReview.created_at, QaReview.id)
            if agent:
                query = query.where(QaReview.agent == agent)
            if recording_id:
                query = query.where(QaReview.recording_id == recording_id)
            if since:
                query = query.where(QaReview.created_at >= since)
            if until:
                query = query.where(QaReview.created_at < until)
            return list(session.scalars(query))

    def review(self, review_id: int) -> QaReview | None:
        with self.ctx.session_factory() as session:
            return session.get(QaReview, review_id)

    def card_items(self, card_ids: set[int]) -> dict[int, list[ScorecardItem]]:
        if not card_ids:
            return {}
        with self.ctx.session_factory() as session:
            cards = session.scalars(select(QaScorecard).where(QaScorecard.id.in_(card_ids)))
            return {c.id: [ScorecardItem.model_validate(i) for i in c.items] for c in cards}

    def local_bounds(
        self, date_from: date | None, date_to: date | None
    ) -> tuple[datetime | None, datetime | None]:
        """Local days (``date_to`` inclusive) as UTC-aware bounds."""
        since = datetime.combine(date_from, datetime.min.time(), self.tz) if date_from else None
        until = (
            datetime.combine(date_to + timedelta(days=1), datetime.min.time(), self.tz) if date_to else None
        )
        return since, until

    def agent_trend(
        self, agent: str, period: str = "week", date_from: date | None = None, date_to: date | None = None
    ) -> list[dict[str, Any]]:
        """Per local day, week (Monday first) or month: reviews, mean total, fails, per-item means."""
        if period not in PERIODS:
            raise ReviewInvalid(f"period must be one of {PERIODS}")
        since, until = self.local_bounds(date_from, date_to)
        reviews = self.reviews(agent=agent, since=since, until=until)
        cards = self.card_items({r.scorecard_id for r in reviews})
        groups: dict[date, list[QaReview]] = defaultdict(list)
        for review in reviews:
            groups[period_start(review.created_at, self.tz, period)].append(review)
        return [{"start": start.isoformat(), **summarise(rs, cards)} for start, rs in sorted(groups.items())]

    def agents_overview(
        self, date_from: date | None = None, date_to: date | None = None
    ) -> list[dict[str, Any]]:
        """Every reviewed agent over the period: reviews, mean total, fails, per-item means, last review."""
        since, until = self.local_bounds(date_from, date_to)
        reviews = self.reviews(since=since, until=until)
        cards = self.card_items({r.scorecard_id for r in reviews})
        by_agent: dict[str, list[QaReview]] = defaultdict(list)
        for review in reviews:
            by_agent[review.agent].append(review)
        return [
            {"agent": agent, **summarise(rs, cards), "last_review_at": rs[-1].created_at.isoformat()}
            for agent, rs in sorted(by_agent.items())
        ]

    def agent_scores(self, agent: str) -> list[dict[str, Any]]:
        """Per local week (Monday first): number of reviews, mean total, fails."""
        weeks: dict[date, list[QaReview]] = defaultdict(list)
        for review in self.reviews(agent=agent):
            weeks[week_start(review.created_at, self.tz)].append(review)
        return [
            {
                "week": week.isoformat(),
                "reviews": len(rs),
                "average": round(sum(r.total for r in rs) / len(rs), 1),
                "failed": sum(1 for r in rs if r.failed),
            }
            for week, rs in sorted(weeks.items())
        ]
