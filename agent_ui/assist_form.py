"""The order form that fills itself, on the desk side: what the page says the agent did with each suggested
value (the hidden ``assist_state`` field that static/app.js keeps), and recording it when the order is filed.

``assist_state`` is JSON: {field: {"suggested": value, "source": "speech", "state": "suggested" |
"accepted" | "edited"}}. It comes from the browser, so anything malformed is ignored (the order is filed
all the same; only the measurement of that call is lost) and values are cut to the columns' sizes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from agent_ui.live import AutofillReady, DeskFeed
from agent_ui.parts import DeskParts
from agent_ui.wiring import suggested_json
from kernel.db import transaction
from routing.assist.autofill import FIELDS
from routing.assist.feedback import record_fields
from routing.domain.errors import DomainError
from routing.suggest import feedback as suggest_feedback

MAX_STATE = 20_000
# Desk form field → the assist's field name.
FORM_FIELDS = {
    "citizen_phone": "citizen_phone",
    "district": "district",
    "location_text": "location_text",
    "case_type": "case_type",
    "category_id": "category",
    "unit_code": "unit",
    "description": "description",
}


def parse_state(raw: str) -> dict[str, tuple[str, str, bool]]:
    """field → (suggested value, source, confirmed); {} when the page sent nothing usable."""
    if not raw or len(raw) > MAX_STATE:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    out: dict[str, tuple[str, str, bool]] = {}
    for name, entry in doc.items():
        if name not in FIELDS or not isinstance(entry, dict):
            continue
        value = entry.get("suggested")
        if not isinstance(value, str | int) or isinstance(value, bool):
            continue
        source = entry.get("source") if isinstance(entry.get("source"), str) else ""
        out[name] = (str(value)[:5000], str(source)[:16], entry.get("state") == "accepted")
    return out


def filed_values(form: Mapping[str, str], category_path: str | None) -> dict[str, str]:
    """What the order was filed with, in the assist's terms (the category as its path, as suggested)."""
    out = {FORM_FIELDS[k]: v for k, v in form.items() if k in FORM_FIELDS}
    out["category"] = category_path or ""
    return out


def record(
    session: Session,
    *,
    now: Any,
    agent: str,
    call_id: str | None,
    order_id: int | None,
    state: dict[str, tuple[str, str, bool]],
    final: dict[str, str],
) -> int:
    rows = record_fields(
        session, now=now, agent=agent, call_id=call_id, order_id=order_id, suggested=state, final=final
    )
    return len(rows)


def page_json(ready: AutofillReady | None, category_ids: Mapping[str, int]) -> str:
    """The call's current autofill for the page's first render (later ones arrive as server-sent events)."""
    if ready is None:
        return "null"
    return json.dumps(with_category_id(ready.to_dict(), category_ids), ensure_ascii=False).replace(
        "</", "<\\/"
    )


def with_category_id(doc: dict[str, Any], category_ids: Mapping[str, int]) -> dict[str, Any]:
    """The suggested category also as the id the form's picker selects."""
    category = doc.get("fields", {}).get("category")
    if category:
        category["id"] = category_ids.get(category["value"])
        category["offer_ids"] = [category_ids.get(p) for p in category.get("offers", [])]
    return doc


def record_suggestion_choice(feed: DeskFeed, hot: DeskParts, user: Any, order: Any) -> str:
    """When the call had suggestions, keep what the agent chose (accepted or changed) for the model to learn.
    Returns "accepted", "changed" or "" (no suggestion, or no category chosen)."""
    call = feed.current_call(user.username)
    if call is None or call.suggestions is None or call.call_id not in (order.call_ids or ()):
        return ""
    if not order.category_path:
        return ""
    ready = call.suggestions
    try:
        with transaction(hot.session_factory) as session:
            row = suggest_feedback.record(
                session,
                now=hot.clock.now(),
                text=ready.text or " ".join(line.text for line in call.transcript) or order.description,
                suggested=suggested_json(ready),
                chosen_level1=order.category_path.split("/", 1)[0],
                chosen_path=order.category_path,
                chosen_unit=order.lead_unit,
                agent=user.username,
                call_id=call.call_id,
                order_id=order.id,
            )
            return str(row.outcome)
    except DomainError:
        return ""


def record_assist_fields(hot: DeskParts, user: Any, order: Any, values: dict[str, str]) -> None:
    """Per field: did the agent keep what the form filled itself with, or change it (measurement)."""
    state = parse_state(values.get("assist_state", ""))
    if not state:
        return
    final = filed_values(values, order.category_path)
    with transaction(hot.session_factory) as session:
        record(
            session,
            now=hot.clock.now(),
            agent=user.username,
            call_id=values.get("call_id") or None,
            order_id=order.id,
            state=state,
            final=final,
        )
