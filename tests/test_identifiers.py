"""Validators for credit codes, mobiles, amounts and dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identifiers import (
    MAX_AMOUNT_WAN,
    Validated,
    format_amount,
    parse_amount,
    parse_date,
    uscc_check_character,
    validate_mobile,
    validate_uscc,
)

# Real codes from public business licences; they pin the checksum implementation.
REAL_USCC = [
    "91350100M000100Y43",  # the worked example of GB 32100-2015
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100799655058B",  # 阿里巴巴(中国)有限公司
    "91110108558521630L",  # 小米通讯技术有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91110000710925462X",  # 中国石油天然气股份有限公司
    "12100000400010398P",  # a public institution (事业单位): authority 1
]
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --- 统一社会信用代码 ---------------------------------------------------------


@pytest.mark.parametrize("code", REAL_USCC)
def test_real_credit_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == Validated(value=code)
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize(
    "typed",
    [
        "91350100m000100y43",
        " 9135 0100-M000-100Y43 ",
        "９１３５０１００Ｍ０００１００Ｙ４３",  # full-width, as some IMEs type it
        "\u200b91350100M000100Y43\ufeff",  # invisible marks pasted from chat apps
    ],
)
def test_credit_code_input_is_normalised(typed: str) -> None:
    assert validate_uscc(typed).value == "91350100M000100Y43"


def test_wrong_check_character_says_which_was_expected() -> None:
    result = validate_uscc("91350100M000100Y44")
    assert not result.ok
    assert result.error == "uscc.checksum"
    assert result.detail == {"expected": "3", "got": "4"}


@pytest.mark.parametrize(
    ("typed", "error", "detail"),
    [
        ("91350100M000100Y4", "uscc.length", {"expected": "18", "got": "17"}),
        ("", "uscc.length", {"expected": "18", "got": "0"}),
        ("91350100M00O100Y43", "uscc.charset", {"position": "12", "char": "O"}),
        ("91350100I000100Y43", "uscc.charset", {"position": "9", "char": "I"}),
        ("B1350100M000100Y43", "uscc.authority", {"got": "B"}),
        ("91AB0100M000100Y43", "uscc.division", {"got": "AB0100"}),
    ],
)
def test_malformed_credit_codes(typed: str, error: str, detail: dict[str, str]) -> None:
    result = validate_uscc(typed)
    assert (result.value, result.error, result.detail) == (None, error, detail)


def test_check_character_31_is_written_as_zero() -> None:
    # Weights are 3**i mod 31: position 1 weighs 1, position 16 weighs 30.
    assert uscc_check_character("1" + "0" * 14 + "1" + "0") == "0"  # sum 31: 31 - 0 -> '0'
    assert uscc_check_character("1" + "0" * 16) == "Y"  # sum 1: 31 - 1 = 30 -> 'Y'
    assert uscc_check_character("0" * 17) == "0"


body_chars = st.sampled_from(USCC_CHARSET)
uscc_bodies = st.builds(
    lambda authority, kind, division, rest: authority + kind + division + "".join(rest),
    st.sampled_from("123456789ANY"),
    body_chars,
    st.from_regex(r"[0-9]{6}", fullmatch=True),
    st.lists(body_chars, min_size=9, max_size=9),
)


@given(uscc_bodies, st.integers(min_value=0, max_value=17), body_chars)
def test_any_single_character_change_is_caught(body: str, position: int, new: str) -> None:
    code = body + uscc_check_character(body)
    assert validate_uscc(code).value == code
    changed = code[:position] + new + code[position + 1 :]
    assert validate_uscc(changed).ok == (changed == code)


@given(uscc_bodies, st.integers(min_value=0, max_value=16))
def test_any_adjacent_swap_is_caught(body: str, position: int) -> None:
    code = body + uscc_check_character(body)
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert validate_uscc(swapped).ok == (swapped == code)


# --- mobile numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "(+86) 13800138000",
        "8613800138000",
        "0086 13800138000",
        "１３８００１３８０００",
        "＋８６ １３８－００１３－８０００",
    ],
)
def test_mobile_numbers_are_normalised_to_eleven_digits(typed: str) -> None:
    assert validate_mobile(typed) == Validated(value="13800138000")


@pytest.mark.parametrize(
    "typed",
    [
        "1380013800",  # ten digits
        "138001380001",  # twelve digits
        "12800138000",  # second digit 2
        "23800138000",  # not starting with 1
        "+1 202 555 0100",
        "+8613800138000x",
        "1３8OO138000",  # letter O for zero
        "010-12345678",  # a landline
        "",
    ],
)
def test_not_a_mobile_number(typed: str) -> None:
    assert validate_mobile(typed) == Validated(error="mobile.format")


# --- amounts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "wan"),
    [
        ("8亿", "80000"),
        ("8亿元", "80000"),
        ("80000万", "80000"),
        ("8.5 亿元", "85000"),
        ("80,000万元", "80000"),
        ("８亿元", "80000"),
        ("1亿5000万元", "15000"),
        ("5000元", "0.5"),
        ("3500", "3500"),  # the default unit is 万元
        ("人民币8亿元", "80000"),
        ("八亿", "80000"),
        ("八点五亿元", "85000"),
        ("三千五百万", "3500"),
        ("一千五百万", "1500"),
        ("一千五万", "1500"),  # colloquial: 一千五 is 1500
        ("一千零五万", "1005"),
        ("十二亿", "120000"),
        ("两万亿", "200000000"),
        ("10000000亿", "100000000000"),  # the ceiling itself
    ],
)
def test_amounts_are_held_in_wan(typed: str, wan: str) -> None:
    result = parse_amount(typed)
    assert result.error is None
    assert result.value == Decimal(wan)
    assert "E" not in str(result.value)


def test_default_unit_applies_to_bare_numbers_only() -> None:
    assert parse_amount("8", default_unit="亿元").value == Decimal(80000)
    assert parse_amount("8万", default_unit="亿元").value == Decimal(8)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("1.2e3", "amount.format"),
        ("1e3亿", "amount.format"),
        ("8,5亿", "amount.format"),  # a decimal comma, not a thousands separator
        ("1亿5000", "amount.format"),  # 5000 what?
        ("12.", "amount.format"),
        ("about 8亿", "amount.format"),
        ("", "amount.format"),
        ("-5亿", "amount.positive"),
        ("负5亿", "amount.positive"),
        ("0", "amount.positive"),
        ("0.000001元", "amount.positive"),  # below one 分
        ("10000001亿", "amount.too_large"),
        ("9" * 10_000, "amount.too_large"),
    ],
)
def test_rejected_amounts(typed: str, error: str) -> None:
    assert parse_amount(typed).error == error


def test_too_large_says_the_ceiling() -> None:
    assert parse_amount("1万万亿").error == "amount.format"
    assert parse_amount("20000000亿").detail == {"max_wan": str(MAX_AMOUNT_WAN)}


@pytest.mark.parametrize(
    ("wan", "zh", "en"),
    [
        ("80000", "8亿元", "800 million yuan"),
        ("85000", "8.5亿元", "850 million yuan"),
        ("8000", "8,000万元", "80 million yuan"),
        ("0.5", "0.5万元", "5,000 yuan"),
        ("1234567.8", "123.45678亿元", "12.345678 billion yuan"),
    ],
)
def test_format_amount(wan: str, zh: str, en: str) -> None:
    assert format_amount(Decimal(wan), "zh_CN") == zh
    assert format_amount(Decimal(wan), "en") == en


@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT_WAN, places=2))
def test_formatted_zh_amounts_parse_back(wan: Decimal) -> None:
    assert parse_amount(format_amount(wan, "zh")).value == wan


# --- dates -------------------------------------------------------------------

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "typed",
    ["2026-12-01", "2026/12/1", "2026.12.1", "2026年12月1日", "2026年12月1号", "12月1日",
     "１２月１日", "２０２６－１２－０１", " 2026 年 12 月 1 日 "],
)  # fmt: skip
def test_dates(typed: str) -> None:
    assert parse_date(typed, TODAY) == Validated(value=date(2026, 12, 1))


def test_month_and_day_take_the_year_of_today() -> None:
    assert parse_date("1月5日", TODAY).value == date(2026, 1, 5)


@pytest.mark.parametrize(
    "typed", ["2026-02-30", "2026-13-01", "0000-01-01", "2026-12/01", "12/01", "tomorrow", ""]
)
def test_not_a_date(typed: str) -> None:
    assert parse_date(typed, TODAY) == Validated(error="date.format")


# --- nothing raises ----------------------------------------------------------


def check_never_raises(text: str) -> None:
    results: list[Validated[object]] = [
        validate_uscc(text),
        validate_mobile(text),
        parse_amount(text),
        parse_amount(text, default_unit="亿元"),
        parse_date(text, TODAY),
    ]
    for result in results:
        assert (result.value is None) != (result.error is None)
        assert result.error is None or "." in result.error


@settings(max_examples=300)
@given(st.text(max_size=10_000))
def test_no_unicode_text_makes_a_validator_raise(text: str) -> None:
    check_never_raises(text)


@given(
    st.text(
        alphabet="0123456789.,-+ ()/年月日号亿万元零一二两三千百十点负¥人民币ANYMX０９．，－",
        max_size=40,
    )
)
def test_no_near_miss_makes_a_validator_raise(text: str) -> None:
    check_never_raises(text)


@pytest.mark.parametrize(
    "text",
    ["9" * 10_000, "1" * 10_000 + "亿", "0." + "0" * 10_000 + "1万", "\x00" * 10_000,
     "十" * 10_000, "-" * 10_000, "2026-" * 2_000, "\ud800", "１" * 10_000],
)  # fmt: skip
def test_huge_inputs_do_not_raise(text: str) -> None:
    check_never_raises(text)
