"""Bad input to analytics (a reversed or out-of-range period, an unknown unit or district): a 4xx or a CLI
error with a message in Chinese and English, and nothing written."""

from __future__ import annotations


class AnalyticsError(Exception):
    code = "invalid_input"

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en

    def as_dict(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message_zh, "message_en": self.message_en}
