"""Imports every component's tables onto ``kernel.db.metadata`` (for Alembic and schema checks).

Each component owns its tables and its own Alembic branch (see hotline/migrations/README.md). The imports
are explicit: a component whose tables cannot be imported is an error, never skipped.
"""

from __future__ import annotations


def import_all() -> None:
    import agent_ui.orm  # noqa: F401 - imported for its tables
    import analytics.orm  # noqa: F401
    import asr.orm  # noqa: F401
    import kernel.outbox  # noqa: F401
    import recordings.orm  # noqa: F401
    import routing.callback_orm
    import routing.kb.orm
    import routing.suggest.orm  # noqa: F401
    import telephony.orm  # noqa: F401
    from routing.orm import map_domain

    map_domain()
