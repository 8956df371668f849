"""Local-time buckets computed inside the database, the same on SQLite and PostgreSQL.

Haikou keeps China Standard Time, UTC+8 all year (no daylight saving since 1991), so a local day or a
30-minute interval is a fixed offset from UTC: ``floor((epoch + 8 h) / size)``. Both databases compute an
integer bucket index from the stored UTC time; :func:`bucket_start` turns it back into an aware datetime.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func
from sqlalchemy.sql.elements import ColumnElement

LOCAL_OFFSET_SECONDS = 8 * 3600
DAY_SECONDS = 86400
EPOCH_DAY = date(1970, 1, 1)


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        # SQLite keeps naive UTC text; strftime('%s') reads it as UTC.
        return cast(func.strftime("%s", column), Integer)
    return func.extract("epoch", column)


def bucket(column: Any, dialect: str, seconds: int) -> ColumnElement[Any]:
    """The local bucket index of a UTC timestamp column (days when ``seconds`` is 86400)."""
    return func.floor((epoch_seconds(column, dialect) + LOCAL_OFFSET_SECONDS) / seconds)


def local_day(column: Any, dialect: str) -> ColumnElement[Any]:
    return bucket(column, dialect, DAY_SECONDS)


def day_of(index: int | float) -> date:
    return EPOCH_DAY + timedelta(days=int(index))


def day_index(day: date) -> int:
    return (day - EPOCH_DAY).days


def bucket_start(index: int | float, seconds: int) -> datetime:
    """The UTC instant a local bucket starts."""
    return datetime.fromtimestamp(int(index) * seconds - LOCAL_OFFSET_SECONDS, tz=UTC)
