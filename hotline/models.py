"""Imports every component's tables onto ``kernel.db.metadata`` (for Alembic and schema checks)."""

from __future__ import annotations

import importlib
import importlib.util

# Each component owns its tables and its own Alembic branch (see hotline/migrations/README.md).
COMPONENT_TABLE_MODULES = (
    "routing.orm",
    "routing.callback_orm",
    "routing.kb.orm",
    "routing.suggest.orm",
    "telephony.orm",
    "ivr.orm",
    "asr.orm",
    "recordings.orm",
    "agent_ui.orm",
)


def import_all() -> list[str]:
    loaded = []
    for name in COMPONENT_TABLE_MODULES:
        if importlib.util.find_spec(name.rsplit(".", 1)[0]) is None:
            continue
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        loaded.append(name)
    from routing.orm import map_domain

    map_domain()
    return loaded
