"""Masking of personal numbers in transcripts: Chinese ID cards, mobile and landline numbers, bank cards.

Numbers are found in Arabic digits and in spoken Chinese digits (一三八…, 幺 for 1, 洞/零/〇 for 0), with
spaces or dashes between digits allowed, because recognizers write numbers either way. A candidate is
masked only when it has the shape of its kind: an 18-character ID card must pass the GB 11643 checksum
(ISO 7064 MOD 11-2, check character may be X), a bank card of 16–19 digits must pass Luhn, a mobile number
is 11 digits 1[3-9]…, a landline is an area code 0xx/0xxx plus 7–8 digits. Masked characters become ＊/*
one for one, so segment lengths and positions stay put. A run of digits is judged as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

CN_DIGITS = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
SEPARATORS = set(" -－—、,，")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
MIN_RUN = 7


@dataclass(frozen=True)
class Found:
    kind: str  # id_card, bank_card, mobile, landline
    start: int  # index into the digit run
    end: int


def id_card_valid(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digit(ch: str) -> str | None:
    if ch.isascii() and ch.isdigit():
        return ch
    if "０" <= ch <= "９":
        return chr(ord(ch) - ord("０") + ord("0"))
    return CN_DIGITS.get(ch)


def _runs(text: str) -> list[tuple[str, list[int]]]:
    """Maximal runs of digits (with separators between), as (digits, index in text of each digit)."""
    runs: list[tuple[str, list[int]]] = []
    digits: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        d = _digit(ch)
        if d is None and ch in "Xx" and len(digits) == 17:
            d = "X"  # an ID card's check character
        if d is not None:
            digits.append(d)
            where.append(i)
        elif ch in SEPARATORS and digits:
            continue
        else:
            if digits:
                runs.append(("".join(digits), where))
            digits, where = [], []
    if digits:
        runs.append(("".join(digits), where))
    return [r for r in runs if len(r[0]) >= MIN_RUN]


def find_numbers(digits: str) -> list[Found]:
    """The personal number a run of digits is, if any. Only whole runs count: checksums let one random
    window in ten (Luhn) or eleven (ID) pass, so windows inside longer runs would mask ordinary numbers."""
    n = len(digits)
    if n == 18 and id_card_valid(digits):
        return [Found("id_card", 0, 18)]
    if 16 <= n <= 19 and digits.isdigit() and luhn_valid(digits):
        return [Found("bank_card", 0, n)]
    if n == 13 and digits.startswith("86"):  # +86 country code read out
        return [Found("mobile", 2, 13)] if _mobile(digits[2:]) else []
    if n == 11 and _mobile(digits):
        return [Found("mobile", 0, 11)]
    if 10 <= n <= 12 and digits[0] == "0" and digits[1] != "0" and digits.isdigit():
        return [Found("landline", 0, n)]  # 0 + 2–3 digit area code + 7–8 digit number
    return []


def _mobile(digits: str) -> bool:
    return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789" and digits.isdigit()


def _keep(kind: str, length: int) -> tuple[int, int]:
    """How many leading/trailing digits stay visible (as on Chinese bank and government screens)."""
    if kind == "mobile":
        return 3, 4
    if kind == "landline":
        return 4 if length == 12 else 3, 2
    return 0, 4  # ID and bank cards: last four only


def redact(text: str) -> str:
    chars = list(text)
    for digits, where in _runs(text):
        for hit in find_numbers(digits):
            head, tail = _keep(hit.kind, hit.end - hit.start)
            for k in range(hit.start + head, hit.end - tail):
                i = where[k]
                chars[i] = "*" if text[i].isascii() else "＊"
    return "".join(chars)


def kinds_found(text: str) -> list[str]:
    return [hit.kind for digits, _ in _runs(text) for hit in find_numbers(digits)]
