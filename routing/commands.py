"""Commands that enter the domain from every channel, validated before anything is written."""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from kernel.text import Int32, SafeText, VisibleText
from routing.domain.enums import AssignmentRole, CallbackOutcome, CaseType, Channel, Urgency

MAX_TEXT = 5000
DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")


def normalize_phone(raw: str) -> str:
    """A Chinese mobile or landline number in national form (13812345678, 089866123456), or an error."""
    value = raw.strip().replace(" ", "").replace("-", "")
    if value == "12345":
        raise ValueError("12345 is the hotline itself")
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"not a valid phone number: {raw!r}")
    if parsed.country_code == 86:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """138****5678: what roles that need no contact details see."""
    digits = phone.replace(" ", "")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_code: SafeText = Field(min_length=1, max_length=64)
    role: AssignmentRole = AssignmentRole.LEAD


class IntakeCommand(BaseModel):
    """A new case from any channel: phone (agent), web form, WeChat, grid worker or Open311."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    case_type: CaseType | None = None  # defaults to the category's usual type
    category_id: Int32 | None = None  # a JSON integer: false or "5" are refused, not read as 0 or 5
    category_path: Annotated[SafeText, Field(max_length=200)] | None = None
    title: Annotated[SafeText, Field(max_length=200)] = ""
    description: Annotated[VisibleText, Field(min_length=1, max_length=MAX_TEXT)]
    citizen_phone: Annotated[SafeText, Field(min_length=3, max_length=32)]
    citizen_name: Annotated[SafeText, Field(max_length=64)] = ""
    location_text: Annotated[SafeText, Field(max_length=500)] = ""
    district: SafeText | None = None
    urgency: Urgency | None = None  # None: detected from the description
    dispatch: StrictBool = True  # route and dispatch in the same transaction
    targets: list[TargetIn] | None = Field(default=None, max_length=20)  # None: the dispatch rules decide
    answer_on_the_spot: Annotated[VisibleText, Field(max_length=MAX_TEXT)] | None = None
    call_id: Annotated[SafeText, Field(max_length=64)] | None = None
    # The client's own reference: the same one from the same client again returns the first order.
    external_ref: Annotated[SafeText, Field(min_length=1, max_length=64)] | None = None
    # GB/T 33358-2016: the caller asks that the units not learn who they are (set by the agent at intake).
    confidential: StrictBool = False

    @field_validator("citizen_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalize_phone(value)

    @field_validator("district")
    @classmethod
    def _district(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if value not in DISTRICTS:
            raise ValueError(f"district must be one of {', '.join(DISTRICTS)}")
        return value


class CallbackCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: CallbackOutcome
    solved: StrictBool | None = None
    rating: Annotated[Int32, Field(ge=1, le=5)] | None = None
    note: Annotated[SafeText, Field(max_length=MAX_TEXT)] = ""
    recording_ref: Annotated[SafeText, Field(max_length=128)] | None = None
