"""Turning bad input into messages next to the fields: pydantic errors and domain errors alike."""

from __future__ import annotations

from pydantic import ValidationError

from routing.domain.errors import DomainError

# Form field names for command fields that the form calls differently.
FIELD_ALIASES = {
    "citizen_phone": "citizen_phone",
    "location_text": "location_text",
    "category_id": "category_id",
}

MESSAGES = {
    "missing": ("必填", "Required"),
    "string_too_short": ("必填", "Required"),
    "string_too_long": ("内容过长", "Too long"),
    # the same length rules on kernel.text's SafeText/VisibleText fields (checked after the text rule)
    "too_short": ("必填", "Required"),
    "too_long": ("内容过长", "Too long"),
    "text_invisible": ("必填", "Required"),  # only spaces or zero-width characters
    "text_control": ("含有不允许的控制字符", "Contains a control character"),
    "text_surrogate": ("含有无效字符", "Contains an invalid character"),
    "int_parsing": ("请填写整数", "Enter a whole number"),
    "less_than_equal": ("数值过大", "Too large"),
    "greater_than_equal": ("数值过小", "Too small"),
    "enum": ("请选择列表中的一项", "Choose one of the list"),
    "bool_parsing": ("请选择是或否", "Choose yes or no"),
    "float_parsing": ("请填写数字", "Enter a number"),
    "string_pattern_mismatch": (
        "须以小写字母开头，只含小写字母、数字和下划线",
        "Start with a lower-case letter; lower-case letters, digits and '_' only",
    ),
}

CUSTOM = {
    "citizen_phone": (
        "请填写有效的手机号或固话（如 13812345678、0898-66123456）",
        "Enter a valid mobile or landline number (e.g. 13812345678, 0898-66123456)",
    ),
    "district": ("请选择海口的四个区之一", "Choose one of Haikou's four districts"),
}


def validation_errors(exc: ValidationError, lang: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = err.get("loc") or ("form",)
        name = FIELD_ALIASES.get(str(loc[0]), str(loc[0]))
        if name in errors:
            continue
        if name in CUSTOM and err["type"] not in ("missing", "string_too_short", "too_short"):
            zh, en = CUSTOM[name]
        elif err["type"] in MESSAGES:
            zh, en = MESSAGES[err["type"]]
        else:
            zh, en = err.get("msg", "输入无效"), err.get("msg", "Invalid input")
        errors[name] = en if lang == "en" else zh
    return errors


def domain_message(exc: DomainError, lang: str) -> str:
    return exc.message_en if lang == "en" else exc.message_zh


def text_required(value: str, name: str, lang: str, errors: dict[str, str], max_length: int = 5000) -> str:
    value = value.strip()
    if not value:
        errors[name] = "Required" if lang == "en" else "必填"
    elif len(value) > max_length:
        errors[name] = (
            f"Too long ({max_length} characters at most)"
            if lang == "en"
            else f"内容过长（最多 {max_length} 字）"
        )
    return value


def parse_int(value: str, name: str, lang: str, errors: dict[str, str], low: int, high: int) -> int | None:
    try:
        number = int(value.strip())
    except ValueError:
        errors[name] = "Enter a whole number" if lang == "en" else "请填写整数"
        return None
    if not low <= number <= high:
        errors[name] = f"Must be between {low} and {high}" if lang == "en" else f"须在 {low} 至 {high} 之间"
        return None
    return number
