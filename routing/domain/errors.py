"""Domain errors. They carry a stable code and a bilingual message, never an HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message_zh: str, message_en: str, **details: object) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"
