"""A knowledge-base article as the desk sees it: one version of a policy, procedure or service guide.

Consultations (咨询) are mostly answered on the spot from the knowledge base, so an article carries what an
agent reads out: the rule (body), the steps (procedure), the papers to bring (materials), the unit that
handles it, and the dates between which it holds (a policy replaced on 1 July must not be read out on 2 July).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

HAIKOU = ZoneInfo("Asia/Shanghai")


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


@dataclass(frozen=True)
class Article:
    key: str
    title: str
    body: str
    category: str = ""  # a taxonomy path ("劳动和社会保障/城镇职工社会保险/职工医疗保险") or a level1 name
    unit_code: str = ""
    unit_name: str = ""
    materials: tuple[str, ...] = ()
    procedure: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    version: int = 1
    status: ArticleStatus = ArticleStatus.PUBLISHED
    id: int | None = field(default=None, compare=False)

    def in_force(self, now: datetime) -> bool:
        """Published and within its validity dates on ``now``'s day in Haikou."""
        if self.status is not ArticleStatus.PUBLISHED:
            return False
        today = now.astimezone(HAIKOU).date()
        if self.valid_from is not None and today < self.valid_from:
            return False
        return self.valid_to is None or today <= self.valid_to

    @property
    def level1(self) -> str:
        return self.category.split("/", 1)[0]

    def search_text(self) -> str:
        """What the index reads: the title counts three times (short, precise), then everything else."""
        return " ".join(
            [
                self.title,
                self.title,
                self.title,
                " ".join(self.keywords),
                self.category,
                self.unit_name,
                self.body,
                " ".join(self.procedure),
                " ".join(self.materials),
            ]
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "key": self.key,
            "title": self.title,
            "body": self.body,
            "category": self.category,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "materials": list(self.materials),
            "procedure": list(self.procedure),
            "keywords": list(self.keywords),
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "version": self.version,
            "status": self.status.value,
        }
