"""Numbers as citizens say them on the phone, and as the recognizer writes them.

A phone number is read digit by digit, with 幺 for 1 (so it is not confused with 七), 洞 for 0 in some
habits, 两 for 2, and pauses between groups: "幺三八 零零幺三 八零零零", "138 0013 8000", "一三八、零零一三…".
Whisper writes some digits as figures and some as characters within one number. House numbers are read as
quantities instead: 三十二号, 一百零五号, 2栋3单元. Both become Arabic digits here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGIT_WORDS = {
    "零": "0",
    "〇": "0",
    "洞": "0",
    "幺": "1",
    "一": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "拐": "7",
    "八": "8",
    "九": "9",
    "勾": "9",
}
# What may stand between the digit groups of one number said aloud.
_GAP = " ，,、-－—.。杠"
_DIGIT_RUN = re.compile(
    rf"[0-9０-９{''.join(DIGIT_WORDS)}](?:[{_GAP}]{{0,2}}[0-9０-９{''.join(DIGIT_WORDS)}])*"
)
# A callback number is announced: "打这个号", "我的电话是", "联系电话", "回电话到".
_CALLBACK_CUE = re.compile(r"(电话|号码|手机|座机|回电|回拨|打这个|联系我|打给我|找我)")


@dataclass(frozen=True)
class SpokenNumber:
    digits: str
    start: int
    end: int
    cued: bool  # announced as a number to call back on


def digits_of(said: str) -> str:
    out = []
    for ch in said:
        if ch.isdigit():
            out.append(str(int(ch)))  # full-width figures too
        elif ch in DIGIT_WORDS:
            out.append(DIGIT_WORDS[ch])
    return "".join(out)


def phone_numbers(text: str) -> list[SpokenNumber]:
    """Runs of 7 to 12 digits said one by one (a mobile has 11, a Haikou landline 8, or 12 with 0898)."""
    found: list[SpokenNumber] = []
    for m in _DIGIT_RUN.finditer(text):
        said = m.group()
        if any(unit in said for unit in "十百千万"):
            continue
        digits = digits_of(said)
        if not 7 <= len(digits) <= 12:
            continue
        before = text[max(0, m.start() - 12) : m.start()]
        found.append(SpokenNumber(digits, m.start(), m.end(), bool(_CALLBACK_CUE.search(before))))
    return found


_UNITS = {"十": 10, "百": 100, "千": 1000}
_QUANTITY = re.compile(r"[零〇一二两三四五六七八九十百千幺]+")


def quantity(said: str) -> int | None:
    """A number said as a quantity (三十二, 一百零五, 十) → int; digit-by-digit (二零五) also works."""
    if not said or any(ch not in DIGIT_WORDS and ch not in _UNITS for ch in said):
        return None
    if not any(ch in _UNITS for ch in said):
        return int(digits_of(said))
    total = 0
    current = 0
    for ch in said:
        if ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            current = int(DIGIT_WORDS[ch])
    return total + current


def figures_for_quantities(text: str) -> str:
    """三十二号 → 32号, 二栋三单元 → 2栋3单元: quantities before an address word become figures."""

    def replace(m: re.Match[str]) -> str:
        value = quantity(m.group(1))
        return f"{value}{m.group(2)}" if value is not None else m.group(0)

    return re.sub(r"([零〇一二两三四五六七八九十百千幺]+)(号楼|号|栋|幢|单元|楼|层|室|巷|弄)", replace, text)
