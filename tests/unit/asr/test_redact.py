from __future__ import annotations

import pytest

from asr.redact import id_card_valid, kinds_found, luhn_valid, redact

# 11010519491231002X is the GB 11643 standard's worked example; 4111111111111111 a well-known Luhn test card.
ID_CARD = "11010519491231002X"


def test_id_card_checksum() -> None:
    assert id_card_valid(ID_CARD)
    assert id_card_valid(ID_CARD.lower())
    assert not id_card_valid("110105194912310021")


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"我的身份证号是{ID_CARD}谢谢", "我的身份证号是**************002X谢谢"),
        ("手机13812345678", "手机138****5678"),
        ("打 138 1234 5678 找我", "打 138 **** 5678 找我"),
        ("座机0898-66668888", "座机0898-******88"),
        ("卡号4111111111111111", "卡号************1111"),
    ],
)
def test_arabic_digits_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_spoken_chinese_digits_are_masked() -> None:
    spoken = "我的电话是 一 三 八 一 二 三 四 五 六 七 八"
    masked = redact(spoken)
    assert masked == "我的电话是 一 三 八 ＊ ＊ ＊ ＊ 五 六 七 八"
    assert kinds_found("幺三八幺二三四五六七八") == ["mobile"]


def test_ordinary_text_and_invalid_numbers_are_left_alone() -> None:
    for text in ("一二三四五六", "第1期共12345元", "110105194912310021 不是身份证但是像", "一定要两个人来"):
        assert "*" not in redact(text) and "＊" not in redact(text)


def test_length_is_kept() -> None:
    text = f"身份证{ID_CARD}，手机13812345678，卡4111111111111111"
    assert len(redact(text)) == len(text)
