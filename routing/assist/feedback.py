"""Recording, per field, what the agent kept or changed of the values the form filled itself with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from routing.suggest.orm import AssistFieldChoice

OUTCOMES = ("accepted", "kept", "changed", "cleared")


def outcome(suggested: str, final: str, confirmed: bool) -> str:
    if final.strip() == suggested.strip():
        return "accepted" if confirmed else "kept"
    return "cleared" if not final.strip() else "changed"


def record_fields(
    session: Session,
    *,
    now: datetime,
    agent: str,
    call_id: str | None,
    order_id: int | None,
    suggested: Mapping[str, tuple[str, str, bool]],
    final: Mapping[str, str],
) -> list[AssistFieldChoice]:
    """``suggested``: field → (value suggested, source, confirmed by the agent); ``final``: what was filed.
    Fields the assist left empty are not recorded (nothing was suggested)."""
    rows = []
    for name, (value, source, confirmed) in suggested.items():
        if not value:
            continue
        filed = final.get(name, "")
        rows.append(
            AssistFieldChoice(
                at=now,
                agent=agent,
                call_id=call_id,
                order_id=order_id,
                field=name[:32],
                source=source[:16],
                suggested=value,
                final=filed,
                outcome=outcome(value, filed, confirmed),
            )
        )
    session.add_all(rows)
    session.flush()
    return rows
