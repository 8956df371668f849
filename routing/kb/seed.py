"""The seed articles: YAML files in routing/kb/data/ (one per service area), each with file-level defaults.

A file looks like::

    defaults: {category: 政法/户籍证件/户籍管理, unit_code: city.public_security, unit_name: 海口市公安局}
    articles:
      - key: huji-touko-qinshu           # stable identity across versions
        title: …
        body: …
        materials: [...]
        procedure: [...]
        keywords: [...]
        valid_from: 2025-01-01          # optional; valid_to likewise
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from routing.domain.errors import InvalidInput
from routing.kb.index import data_dir
from routing.kb.model import Article, ArticleStatus

NOT_ARTICLE_FILES = {"synonyms.yaml"}


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def article_from_dict(raw: dict[str, Any], defaults: dict[str, Any] | None = None) -> Article:
    merged = {**(defaults or {}), **raw}
    for key in ("key", "title", "body"):
        if not merged.get(key):
            raise InvalidInput(f"知识条目缺少 {key}", f"knowledge article without {key}: {raw!r:.80}")
    return Article(
        key=str(merged["key"]),
        title=str(merged["title"]),
        body=str(merged["body"]),
        category=str(merged.get("category") or ""),
        unit_code=str(merged.get("unit_code") or ""),
        unit_name=str(merged.get("unit_name") or ""),
        materials=tuple(str(m) for m in merged.get("materials") or ()),
        procedure=tuple(str(p) for p in merged.get("procedure") or ()),
        keywords=tuple(str(k) for k in merged.get("keywords") or ()),
        valid_from=_date(merged.get("valid_from")),
        valid_to=_date(merged.get("valid_to")),
        version=int(merged.get("version") or 1),
        status=ArticleStatus(merged.get("status") or ArticleStatus.PUBLISHED),
    )


def read_file(path: Path) -> list[Article]:
    with path.open(encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    defaults = doc.get("defaults") or {}
    return [article_from_dict(raw, defaults) for raw in doc.get("articles") or []]


def read_seed(directory: Path | None = None) -> list[Article]:
    articles: list[Article] = []
    for path in sorted((directory or data_dir()).glob("*.yaml")):
        if path.name not in NOT_ARTICLE_FILES:
            articles.extend(read_file(path))
    keys = [a.key for a in articles]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise InvalidInput(
            f"知识条目编号重复：{sorted(duplicates)}", f"duplicate article keys {sorted(duplicates)}"
        )
    return articles
