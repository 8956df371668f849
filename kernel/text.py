"""The one edge rule for text and numbers that come from outside (forms, JSON, query strings, paths).

Text may not hold NUL or other C0 control characters (tab, line feed and carriage return aside), nor lone
UTF-16 surrogates: PostgreSQL refuses NUL in text, and a lone surrogate cannot be encoded to UTF-8 at all,
so either would fail deep in a write instead of at the door. Free text that a person must fill in (a
description, a reply, a reason) must also show something: a value made only of spaces, zero-width or
other invisible format characters is empty. Integers are bounded by the columns they land in.

``check_text`` is the rule; ``SafeText``/``VisibleText`` apply it to pydantic fields and form parameters,
and the HTTP edge (``kernel.http_edge``) applies it to every query string, path, form and JSON body.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import BeforeValidator, Field, StrictInt
from pydantic_core import PydanticCustomError

# Integer columns are 32-bit on PostgreSQL (SQLite stores 64): ids, offsets and counts stay below this.
INT32_MAX = 2**31 - 1

_ALLOWED_CONTROLS = frozenset("\t\n\r")


class BadText(ValueError):
    """Text that the edge refuses; ``message_zh``/``message_en`` say why (never echoing the value)."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en


NUL_OR_CONTROL = BadText(
    "文本含有不允许的控制字符（如 NUL）", "text contains a control character such as NUL"
)
SURROGATE = BadText("文本含有无效的 Unicode 字符（孤立代理项）", "text contains an invalid lone surrogate")
INVISIBLE = BadText("内容不能为空或只有不可见字符", "text is empty or only invisible characters")


def text_problem(value: str) -> BadText | None:
    """Why this text is refused, or None when it is acceptable."""
    for ch in value:
        code = ord(ch)
        if code < 0x20 and ch not in _ALLOWED_CONTROLS:
            return NUL_OR_CONTROL
        if code == 0x7F:
            return NUL_OR_CONTROL
        if 0xD800 <= code <= 0xDFFF:
            return SURROGATE
    return None


def check_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise problem
    return value


# pydantic error types, so that forms can map them to a message like any other type
TEXT_ERROR_TYPES = {NUL_OR_CONTROL: "text_control", SURROGATE: "text_surrogate", INVISIBLE: "text_invisible"}


def _pydantic_error(problem: BadText) -> PydanticCustomError:
    return PydanticCustomError(
        TEXT_ERROR_TYPES.get(problem, "text_invalid"), f"{problem.message_zh} / {problem.message_en}"
    )


def _safe_field(value: Any) -> Any:
    # Before the str schema, so that length rules still report string_too_short / string_too_long.
    if isinstance(value, str) and (problem := text_problem(value)) is not None:
        raise _pydantic_error(problem)
    return value


def _visible_field(value: Any) -> Any:
    _safe_field(value)
    if isinstance(value, str) and value and not is_visible(value):  # "" is the length rule's to refuse
        raise _pydantic_error(INVISIBLE)
    return value


def is_visible(value: str) -> bool:
    """True when the text shows at least one character: not only spaces, separators and format or
    control characters (zero-width space U+200B, joiners, BOM U+FEFF, word joiner U+2060 ...)."""
    return any(not unicodedata.category(ch).startswith(("Z", "C")) for ch in value)


def check_visible(value: str) -> str:
    check_text(value)
    if not is_visible(value):
        raise INVISIBLE
    return value


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON document, keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str):
                    yield k
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)


SafeText = Annotated[str, BeforeValidator(_safe_field)]
"""Any text from outside: no NUL, no control characters but tab/newline, no lone surrogates."""

VisibleText = Annotated[str, BeforeValidator(_visible_field)]
"""Free text a person must fill in: SafeText that shows at least one visible character."""

Int32 = Annotated[StrictInt, Field(ge=-INT32_MAX, le=INT32_MAX)]
"""A JSON integer that fits an integer column: ``false``, ``"5"`` and ``5.0`` are refused."""

PositiveId = Annotated[StrictInt, Field(ge=1, le=INT32_MAX)]
"""A row id in a JSON body."""

RowId = Annotated[int, Interval(ge=1, le=INT32_MAX)]
"""A row id in a path or query string (FastAPI and pydantic both honour the interval)."""
