"""Reading and writing articles: every edit adds a version; the article points at its current one."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from routing.domain.errors import Conflict, NotFound
from routing.kb.model import Article, ArticleStatus
from routing.kb.orm import KbArticle, KbArticleVersion
from routing.kb.seed import article_from_dict

CONTENT_FIELDS = (
    "title",
    "body",
    "category",
    "unit_code",
    "unit_name",
    "materials",
    "procedure",
    "keywords",
    "valid_from",
    "valid_to",
    "status",
)


def _to_article(row: KbArticle, version: KbArticleVersion) -> Article:
    return Article(
        key=row.key,
        title=version.title,
        body=version.body,
        category=version.category,
        unit_code=version.unit_code,
        unit_name=version.unit_name,
        materials=tuple(version.materials),
        procedure=tuple(version.procedure),
        keywords=tuple(version.keywords),
        valid_from=version.valid_from,
        valid_to=version.valid_to,
        version=version.version,
        status=ArticleStatus(version.status),
        id=row.id,
    )


def _version_row(article: Article, number: int, now: datetime, by: str) -> KbArticleVersion:
    return KbArticleVersion(
        version=number,
        title=article.title,
        body=article.body,
        category=article.category,
        unit_code=article.unit_code,
        unit_name=article.unit_name,
        materials=list(article.materials),
        procedure=list(article.procedure),
        keywords=list(article.keywords),
        valid_from=article.valid_from,
        valid_to=article.valid_to,
        status=article.status.value,
        created_at=now,
        created_by=by,
    )


def _same_content(a: Article, b: Article) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in CONTENT_FIELDS)


def _current(row: KbArticle) -> Article:
    version = next(v for v in row.versions if v.version == row.current_version)
    return _to_article(row, version)


def create(session: Session, article: Article, now: datetime, by: str = "") -> Article:
    if session.scalar(select(KbArticle.id).where(KbArticle.key == article.key)) is not None:
        raise Conflict(
            f"知识条目键 {article.key} 已存在", f"an article with key {article.key} exists already"
        )
    row = KbArticle(key=article.key, current_version=1, created_at=now, updated_at=now)
    row.versions.append(_version_row(article, 1, now, by))
    session.add(row)
    session.flush()
    return _current(row)


def _row(session: Session, article_id: int) -> KbArticle:
    row = session.get(KbArticle, article_id, options=[selectinload(KbArticle.versions)])
    if row is None:
        raise NotFound(f"知识条目 {article_id} 不存在", f"no knowledge article {article_id}")
    return row


def revise(
    session: Session, article_id: int, changes: dict[str, Any], now: datetime, by: str = ""
) -> Article:
    """A new version with ``changes`` applied on top of the current one (the old version stays)."""
    row = _row(session, article_id)
    current = _current(row)
    merged = {
        **current.to_dict(),
        **{k: v for k, v in changes.items() if k in CONTENT_FIELDS},
        "key": row.key,
    }
    revised = article_from_dict(merged)
    if _same_content(current, revised):
        return current
    number = max(v.version for v in row.versions) + 1
    row.versions.append(_version_row(revised, number, now, by))
    row.current_version = number
    row.updated_at = now
    session.flush()
    return dataclasses.replace(revised, version=number, id=row.id)


def get(session: Session, article_id: int) -> Article:
    return _current(_row(session, article_id))


def history(session: Session, article_id: int) -> list[Article]:
    row = _row(session, article_id)
    return [_to_article(row, v) for v in row.versions]


def current_articles(session: Session) -> list[Article]:
    rows = session.scalars(select(KbArticle).options(selectinload(KbArticle.versions)).order_by(KbArticle.id))
    return [_current(row) for row in rows]


def load(session: Session, articles: list[Article], now: datetime, by: str = "seed") -> tuple[int, int, int]:
    """Upsert by key: new articles are created, changed ones get a new version. (created, revised, same)."""
    existing = {
        row.key: row for row in session.scalars(select(KbArticle).options(selectinload(KbArticle.versions)))
    }
    created = revised = same = 0
    for article in articles:
        row = existing.get(article.key)
        if row is None:
            create(session, article, now, by)
            created += 1
        elif _same_content(_current(row), article):
            same += 1
        else:
            revise(session, row.id, article.to_dict(), now, by)
            revised += 1
    return created, revised, same
