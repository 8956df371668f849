"""The suggestion engine's answer in the desk's terms, for the composition root (hotline/live_calls.py),
which feeds ``DeskFeed.suggestions`` with it: every scored category and unit (the agent accepts or changes
them), the knowledge-base answers with the words they matched (marked on the page), and the engine's own
JSON, kept with the agent's choice when the order is filed (routing.suggest.feedback)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agent_ui.live import AutofillReady, FilledField, KbAnswer, ScoredChoice, SuggestionsReady
from agent_ui.parts import DeskParts


def category_ids(hot: DeskParts) -> dict[str, int]:
    from routing.orm import Category

    with hot.session_factory() as session:
        return {path: cid for cid, path in session.execute(select(Category.id, Category.path)).tuples()}


def suggestions_ready(call_id: str, suggestions: Any, ids: dict[str, int]) -> SuggestionsReady:
    """routing.suggest.service.Suggestions → the desk's SuggestionsReady."""
    leaves = tuple(ScoredChoice(c.name, c.name, float(c.score)) for c in suggestions.leaves)
    units = tuple(ScoredChoice(u.code, u.name, float(u.score), u.reason) for u in suggestions.units)
    answers = tuple(
        KbAnswer(
            title=str(a.get("title", "")),
            text=str(a.get("body", "")),
            score=float(a.get("score", 0.0)),
            matched=tuple(a.get("matched") or ()),
            category=str(a.get("category", "")),
            unit_name=str(a.get("unit_name", "")),
            article_id=a.get("id"),
            heard=tuple(a.get("heard") or ()),
        )
        for a in suggestions.articles
    )
    top = leaves[0].key if leaves else ""
    lead = next((u.key for u, raw in zip(units, suggestions.units, strict=True) if raw.role == "lead"), None)
    return SuggestionsReady(
        call_id=call_id,
        answers=answers,
        category_id=ids.get(top),
        category_path=top,
        unit_code=lead or (units[0].key if units else None),
        categories=leaves,
        units=units,
        text=suggestions.text,
        raw=suggestions.to_dict(),
        heard=tuple(c.why() for c in getattr(suggestions, "heard", ())),
    )


def autofill_ready(call_id: str, autofill: Any) -> AutofillReady:
    """routing.assist.autofill.Autofill → the desk's AutofillReady (the form's suggested values)."""
    fields = tuple(
        FilledField(f.field, f.value, f.label or f.value, f.source, f.why, tuple(f.offers))
        for f in autofill.fields.values()
    )
    return AutofillReady(call_id, fields)


def suggested_json(ready: SuggestionsReady) -> dict[str, Any]:
    """What the desk showed, in the suggestion engine's JSON shape (kept with the agent's choice)."""
    if ready.raw:
        return dict(ready.raw)
    level1: dict[str, float] = {}
    for c in ready.categories:
        name = c.key.split("/", 1)[0]
        level1[name] = max(level1.get(name, 0.0), c.score)
    return {
        "call_id": ready.call_id,
        "categories": [{"name": k, "score": v} for k, v in level1.items()],
        "leaves": [{"name": c.key, "score": c.score} for c in ready.categories],
        "units": [{"code": u.key, "name": u.label, "score": u.score} for u in ready.units],
        "articles": [{"title": a.title, "score": a.score} for a in ready.answers],
    }
