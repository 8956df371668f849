"""The dispatch catalogue (派单目录) in the domain: which edition is in force, and the rule that a functional
department's matter is never pushed down to a street or town (国办函〔2025〕66号: "不得将职能部门职责范围内的
事项派给街道、乡镇").

The catalogue names, for each category, the unit responsible for it. Editions carry an effective date; a
dispatch at ``now`` uses the newest edition whose date has come, so an edition can be loaded ahead of time
and take over at midnight without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from routing.domain.enums import AssignmentRole
from routing.domain.errors import InvalidInput
from routing.domain.records import Target

# Functional departments (职能部门): city bureaus and the districts' own bureaus.
FUNCTIONAL_KINDS = frozenset({"city_bureau", "district_bureau"})
# Grassroots governments (基层): streets (街道) and towns (乡镇).
GRASSROOTS_KINDS = frozenset({"street", "town"})


@dataclass(frozen=True)
class CatalogueEdition:
    id: int
    version: str
    effective_from: datetime


def edition_in_force(editions: Sequence[CatalogueEdition], now: datetime) -> CatalogueEdition | None:
    """The newest edition whose effective date is not after ``now`` (None before the first one)."""
    current: CatalogueEdition | None = None
    for edition in editions:
        if edition.effective_from <= now and (
            current is None or edition.effective_from > current.effective_from
        ):
            current = edition
    return current


@dataclass(frozen=True)
class DispatchCheck:
    """What a dispatch is checked against: the catalogue edition in force, the unit the catalogue makes
    responsible for the order's category (``matter_owner``), and every unit's kind."""

    catalogue_version: str | None = None
    matter_owner: str | None = None
    unit_kinds: Mapping[str, str] = field(default_factory=dict)

    def refuse_push_down(self, targets: Sequence[Target]) -> None:
        """A street or town may assist (it is on site, 属地协办) but never lead a functional department's matter."""
        owner_kind = self.unit_kinds.get(self.matter_owner or "")
        if owner_kind not in FUNCTIONAL_KINDS:
            return
        for t in targets:
            if t.role is AssignmentRole.LEAD and self.unit_kinds.get(t.unit_code) in GRASSROOTS_KINDS:
                raise InvalidInput(
                    f"此事项属职能部门（{self.matter_owner}）职责，不得派给街道、乡镇主办（国办函〔2025〕66号）；"
                    "街道、乡镇可作为协办单位",
                    f"this matter is a functional department's duty ({self.matter_owner}); it may not be "
                    "dispatched to a street or town as lead (State Council 2025 No. 66); a street may assist",
                    unit=t.unit_code,
                    matter_owner=self.matter_owner or "",
                )
