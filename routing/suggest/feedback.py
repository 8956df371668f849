"""Recording what the agent chose, so ``hotline suggest train`` can learn from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from routing.domain.errors import InvalidInput
from routing.suggest.orm import SuggestionFeedback


def record(
    session: Session,
    *,
    now: datetime,
    text: str,
    suggested: dict[str, Any],
    chosen_level1: str,
    chosen_path: str | None = None,
    chosen_unit: str | None = None,
    agent: str = "",
    call_id: str | None = None,
    order_id: int | None = None,
) -> SuggestionFeedback:
    """``accepted`` when the agent kept the top suggested first-level category (and leaf, if given)."""
    if not text.strip() or not chosen_level1:
        raise InvalidInput("反馈缺少文本或所选分类", "feedback needs the text and the chosen category")
    categories = suggested.get("categories") or []
    leaves = suggested.get("leaves") or []
    top = categories[0]["name"] if categories else None
    top_leaf = leaves[0]["name"] if leaves else None
    accepted = top == chosen_level1 and (chosen_path is None or chosen_path == top_leaf)
    row = SuggestionFeedback(
        at=now,
        agent=agent,
        call_id=call_id,
        order_id=order_id,
        text=text,
        suggested=suggested,
        chosen_level1=chosen_level1,
        chosen_path=chosen_path,
        chosen_unit=chosen_unit,
        outcome="accepted" if accepted else "changed",
    )
    session.add(row)
    session.flush()
    return row
