"""Quality review of calls (QA staff, supervisors): the queue of sampled calls, a review page (recording,
both transcripts, the work order, the scorecard form), the scorecards themselves and each agent's scores
per week. Reviews and scorecards are the recordings component's (recordings.qa.QaService); satisfaction
callbacks are in ``agent_ui/routes/callbacks.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from agent_ui import recording_views as rv
from agent_ui.deps import CsrfChecked, Hot, Lang, QaUser, ScorecardEditor
from agent_ui.forms import validation_errors
from agent_ui.parts import DeskParts
from agent_ui.rendering import render
from kernel.text import RowId
from recordings.access import ListenAudit, Listener
from recordings.qa import QaService, ReviewInvalid, ScorecardItem
from recordings.sampling import SamplingRules, run_sampling

router = APIRouter()

MAX_SCORECARD_ITEMS = 30


def qa_service(hot: DeskParts) -> QaService:
    return QaService(hot.recordings.ctx, hot.settings.timezone)


# ---- review queue, review page -------------------------------------------------------------------------


def _queue_page(
    request: Request,
    hot: DeskParts,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    with hot.session_factory() as session:
        ctx = {
            "queue": rv.review_queue(session),
            "reviews": rv.recent_reviews(session, 20),
            "agents": rv.agents_summary(session),
            "errors": errors or {},
            "values": values or {"day": hot.clock.now().astimezone(_tz(hot)).date().isoformat()},
            "flash": flash,
        }
    return render(request, "qa_reviews.html", ctx, status_code=status_code)


def _tz(hot: DeskParts) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(hot.settings.timezone)


@router.get("/qa/reviews")
def reviews(
    request: Request, user: QaUser, hot: Hot, lang: Lang, done: str = "", sampled: str = ""
) -> Response:
    flash = ""
    if done.isdigit():
        flash = f"Review {done} saved" if lang == "en" else f"质检评分 {done} 已保存"
    elif sampled.isdigit():
        flash = f"{sampled} call(s) sampled" if lang == "en" else f"新抽取 {sampled} 个通话"
    return _queue_page(request, hot, flash=flash)


@router.post("/qa/samples/run", dependencies=[CsrfChecked])
def run_samples(
    request: Request,
    user: QaUser,
    hot: Hot,
    lang: Lang,
    day: Annotated[str, Form()] = "",
    random_percent: Annotated[str, Form()] = "5",
) -> Response:
    errors: dict[str, str] = {}
    chosen: date | None = None
    try:
        chosen = date.fromisoformat(day.strip())
    except ValueError:
        errors["day"] = "Enter a date like 2026-11-22" if lang == "en" else "请填写日期，如 2026-11-22"
    try:
        percent = float(random_percent)
        if not 0 <= percent <= 100:
            raise ValueError
    except ValueError:
        errors["random_percent"] = "Between 0 and 100" if lang == "en" else "须在 0 至 100 之间"
        percent = 0.0
    if errors or chosen is None:
        return _queue_page(
            request, hot, errors, {"day": day, "random_percent": random_percent}, status_code=422
        )
    picks = run_sampling(
        hot.recordings.ctx,
        hot.recordings.orders,
        hot.transcripts,
        chosen,
        SamplingRules(random_percent=percent),
        tz=hot.settings.timezone,
    )
    return RedirectResponse(f"/qa/reviews?sampled={len(picks)}", status_code=303)


def _review_page(
    request: Request,
    hot: DeskParts,
    user: Any,
    recording_id: RowId,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    service = qa_service(hot)
    card = service.ensure_default()
    with hot.session_factory() as session:
        rec = rv.get(session, recording_id)
    if rec is None:
        raise HTTPException(404)
    segments = rv.segments(hot, rec.call_id)
    orders = hot.recordings.orders.linked(rec.order_numbers, rec.call_id)
    client = request.client.host if request.client else ""
    if status_code == 200:
        ListenAudit(hot.session_factory, hot.clock.now).record(
            Listener(user.username, user.role.value), recording_id, "transcript", client=client
        )
    cards = service.scorecards()
    chosen = next((c for c in cards if str(c.id) == (values or {}).get("scorecard_id")), card)
    return render(
        request,
        "qa_review.html",
        {
            "rec": rec,
            "segments": segments,
            "caller_segments": [s for s in segments if s.leg == "caller"],
            "agent_segments": [s for s in segments if s.leg == "agent"],
            "orders": orders,
            "card": chosen,
            "cards": cards,
            "items": [ScorecardItem.model_validate(i) for i in chosen.items],
            "past": service.reviews(recording_id=recording_id),
            "errors": errors or {},
            "values": values or {},
            "full_phone": False,
        },
        status_code=status_code,
    )


@router.get("/qa/reviews/{recording_id}")
def review_page(request: Request, recording_id: RowId, user: QaUser, hot: Hot) -> Response:
    return _review_page(request, hot, user, recording_id)


@router.post("/qa/reviews/{recording_id}", dependencies=[CsrfChecked])
async def submit_review(
    request: Request, recording_id: RowId, user: QaUser, hot: Hot, lang: Lang
) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    errors: dict[str, str] = {}
    service = qa_service(hot)
    cards = {str(c.id): c for c in service.scorecards()}
    card = cards.get(values.get("scorecard_id", ""))
    if card is None:
        errors["scorecard_id"] = "Choose a scorecard" if lang == "en" else "请选择评分表"
        return _review_page(request, hot, user, recording_id, errors, values, status_code=422)
    scores: dict[str, float] = {}
    for item in (ScorecardItem.model_validate(i) for i in card.items):
        raw = values.get(f"score_{item.code}", "").strip()
        if raw == "":
            errors[f"score_{item.code}"] = "Score this item" if lang == "en" else "请为此项评分"
            continue
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 <= value <= item.max_score:
            errors[f"score_{item.code}"] = (
                f"Between 0 and {item.max_score}" if lang == "en" else f"须在 0 至 {item.max_score} 之间"
            )
            continue
        scores[item.code] = value
    comments = values.get("comments", "")
    if len(comments) > 4000:
        errors["comments"] = (
            "Too long (4000 characters at most)" if lang == "en" else "内容过长（最多 4000 字）"
        )
    if errors:
        return _review_page(request, hot, user, recording_id, errors, values, status_code=422)
    try:
        review = service.submit_review(user.username, recording_id, card.id, scores, comments)
    except LookupError as exc:
        raise HTTPException(404) from exc
    except ReviewInvalid as exc:
        return _review_page(request, hot, user, recording_id, {"form": str(exc)}, values, status_code=422)
    return RedirectResponse(f"/qa/reviews?done={review.id}", status_code=303)


@router.get("/qa/agents/{agent}")
def agent_scores(request: Request, agent: str, user: QaUser, hot: Hot) -> Response:
    weeks = qa_service(hot).agent_scores(agent)
    with hot.session_factory() as session:
        rows = rv.recent_reviews(session, 50, agent=agent)
    return render(request, "qa_agent.html", {"agent": agent, "weeks": weeks, "reviews": rows})


# ---- scorecards ----------------------------------------------------------------------------------------

ITEM_FIELDS = ("code", "label_zh", "label_en", "weight", "max_score", "instant_fail")


def _scorecards_page(
    request: Request,
    hot: DeskParts,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    rows: int | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    service = qa_service(hot)
    card = service.ensure_default()
    if values is None:
        values = {"name": card.name}
        for n, item in enumerate(card.items):
            for f in ITEM_FIELDS:
                v = item.get(f)
                values[f"item{n}_{f}"] = ("on" if v else "") if f == "instant_fail" else str(v)
        rows = len(card.items) + 2
    return render(
        request,
        "qa_scorecards.html",
        {
            "card": card,
            "versions": service.scorecards(active_only=False),
            "rows": min(rows or 0, MAX_SCORECARD_ITEMS),
            "errors": errors or {},
            "values": values,
            "flash": flash,
        },
        status_code=status_code,
    )


@router.get("/qa/scorecards")
def scorecards(request: Request, user: QaUser, hot: Hot, lang: Lang, saved: str = "") -> Response:
    flash = ""
    if saved.isdigit():
        flash = f"Scorecard version {saved} saved" if lang == "en" else f"评分表第 {saved} 版已保存"
    return _scorecards_page(request, hot, flash=flash)


@router.post("/qa/scorecards", dependencies=[CsrfChecked])
async def save_scorecard(request: Request, user: ScorecardEditor, hot: Hot, lang: Lang) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    errors: dict[str, str] = {}
    name = values.get("name", "").strip()
    if not name or len(name) > 64:
        errors["name"] = (
            "Enter a name (64 characters at most)" if lang == "en" else "请填写名称（最多 64 字）"
        )
    items: list[ScorecardItem] = []
    rows = 0
    for n in range(MAX_SCORECARD_ITEMS):
        if not any(f"item{n}_{f}" in values for f in ITEM_FIELDS):
            continue
        rows = n + 1
        raw = {f: values.get(f"item{n}_{f}", "").strip() for f in ITEM_FIELDS}
        if not any(raw[f] for f in ("code", "label_zh", "label_en", "weight")):
            continue  # an empty row
        data: dict[str, Any] = {**raw, "instant_fail": raw["instant_fail"] in ("on", "true", "1")}
        if data["instant_fail"] and not raw["max_score"]:
            data["max_score"] = "1"
        if not data["max_score"]:
            data.pop("max_score")
        try:
            items.append(ScorecardItem.model_validate(data))
        except ValidationError as exc:
            for field, message in validation_errors(exc, lang).items():
                if field not in ITEM_FIELDS:  # the model's own rule: instant-fail items are pass/fail
                    field = "max_score"
                    message = "Pass/fail items score 0 or 1" if lang == "en" else "一票否决项只能为 0 或 1 分"
                errors.setdefault(f"item{n}_{field}", message)
    if not items and not errors:
        errors["items"] = "Add at least one item" if lang == "en" else "请至少填写一个评分项"
    if errors:
        return _scorecards_page(request, hot, errors, values, rows=rows + 1, status_code=422)
    try:
        card = qa_service(hot).save_scorecard(name, items)
    except ReviewInvalid as exc:
        return _scorecards_page(request, hot, {"items": str(exc)}, values, rows=rows + 1, status_code=422)
    return RedirectResponse(f"/qa/scorecards?saved={card.version}", status_code=303)
