"""Validators for what users type: credit codes, mobiles, amounts, dates.

Covers the unified social credit code (统一社会信用代码, GB 32100-2015), mainland
mobile numbers, investment amounts in 万元 / 亿元 (1亿元 = 10,000万元; amounts are
stored in 万元) and dates. Each validator returns a `Validated`: a value, or an error
code with details that the chat layer turns into a message in the user's language.
Validators never raise, whatever the input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "MAX_AMOUNT_WAN",
    "Validated",
    "format_amount",
    "parse_amount",
    "parse_date",
    "uscc_check_character",
    "validate_mobile",
    "validate_uscc",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Validated(Generic[T_co]):
    """Either a normalised `value` or an `error` code with `detail` for the message."""

    value: T_co | None = None
    error: str | None = None
    detail: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the input was accepted."""
        return self.error is None


def _ok(value: T) -> Validated[T]:
    return Validated(value=value)


def _fail(code: str, **detail: str) -> Validated[Any]:
    return Validated(error=code, detail=detail)


_DASHES = "-‐‑‒–—―−"


def _compact(text: str, drop: str = "") -> str:
    """NFKC (full-width to half-width), without whitespace, dashes, invisible marks."""
    text = unicodedata.normalize("NFKC", text)
    # Text pasted from chat apps carries zero-width spaces and BOMs (category Cf).
    return "".join(
        ch
        for ch in text
        if not ch.isspace() and ch not in drop and unicodedata.category(ch) != "Cf"
    )


# --- 统一社会信用代码 -----------------------------------------------------------

_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_AUTHORITIES = "123456789ANY"


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character for 17 valid code characters (ValueError otherwise)."""
    total = sum(_USCC_CHARSET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(text: str) -> Validated[str]:
    """Validate a unified social credit code; the value is the 18 normalised characters."""
    code = _compact(text, drop=_DASHES).upper()
    if len(code) != 18:
        return _fail("uscc.length", expected="18", got=str(len(code)))
    for position, ch in enumerate(code, start=1):
        if ch not in _USCC_CHARSET:
            return _fail("uscc.charset", position=str(position), char=ch)
    if code[0] not in _USCC_AUTHORITIES:
        return _fail("uscc.authority", got=code[0])
    if not code[2:8].isdigit():
        return _fail("uscc.division", got=code[2:8])
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return _fail("uscc.checksum", expected=expected, got=code[17])
    return _ok(code)


# --- mobile numbers --------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def validate_mobile(text: str) -> Validated[str]:
    """Validate a mainland mobile number (optional +86/0086/86); the value is 11 digits."""
    number = _compact(text, drop=_DASHES + "()")
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    else:
        if len(number) == 13 and number.startswith("86"):
            number = number[2:]
    if not _MOBILE.fullmatch(number):
        return _fail("mobile.format")
    return _ok(number)


# --- amounts (万元 / 亿元) -------------------------------------------------------

MAX_AMOUNT_WAN = Decimal(10) ** 11  # 10,000,000亿元: beyond any real project
_FEN = Decimal("0.000001")  # 1 分 in 万元; finer precision is noise
_YUAN_PER_WAN = Decimal(10_000)
_UNIT_IN_WAN = {"万元": Decimal(1), "亿元": _YUAN_PER_WAN, "元": 1 / _YUAN_PER_WAN}
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def parse_amount(
    text: str, default_unit: Literal["万元", "亿元", "元"] = "万元"
) -> Validated[Decimal]:
    """Parse an investment amount like "8.5亿元", "80,000万" or "八亿"; the value is in 万元."""
    s = _compact(text)
    for currency in ("人民币", "RMB", "¥"):
        s = s.removeprefix(currency)
    negative = s[:1] in ("-", "−", "负")
    if negative:
        s = s[1:]
    with localcontext() as ctx:
        ctx.prec = 60  # exact for every amount that is not absurd anyway
        wan = _amount_in_wan(s, default_unit)
        if wan is None:
            return _fail("amount.format")
        if negative:
            return _fail("amount.positive")
        if wan > MAX_AMOUNT_WAN:
            return _fail("amount.too_large", max_wan=str(MAX_AMOUNT_WAN))
        wan = wan.quantize(_FEN, rounding=ROUND_HALF_UP)
    if wan <= 0:
        return _fail("amount.positive")
    return _ok(_plain(wan))


def _amount_in_wan(s: str, default_unit: str) -> Decimal | None:
    """The amount in 万元, or None if `s` is not an amount."""
    yuan_suffix = s.endswith("元")
    s = s.removesuffix("元")
    if s.endswith("万亿"):
        trillions = _number(s[:-2])
        return None if trillions is None else trillions * _YUAN_PER_WAN * _YUAN_PER_WAN
    if "亿" in s:
        head, _, tail = s.partition("亿")
        yi = _number(head)
        # "1亿5000万" is fine; a bare "1亿5000" is ambiguous (万? 元?) and rejected.
        wan = _number(tail[:-1]) if tail.endswith("万") else (Decimal(0) if not tail else None)
        return None if yi is None or wan is None else yi * _YUAN_PER_WAN + wan
    if s.endswith("万"):
        return _number(s[:-1])
    number = _number(s)
    if number is None:
        return None
    return number * _UNIT_IN_WAN["元" if yuan_suffix else default_unit]


def _number(s: str) -> Decimal | None:
    """A decimal number in Arabic digits (thousands commas allowed) or Chinese numerals."""
    if _PLAIN.fullmatch(s) or _GROUPED.fullmatch(s):
        return Decimal(s.replace(",", ""))
    whole, point, fraction = s.partition("点")
    integer = _chinese_integer(whole)
    if integer is None or (point and not fraction):
        return None
    if not all(ch in _CN_DIGITS for ch in fraction):
        return None
    digits = "".join(str(_CN_DIGITS[ch]) for ch in fraction)
    return Decimal(f"{integer}.{digits}" if digits else integer)


def _chinese_integer(s: str) -> int | None:
    """An integer below 10,000 in Chinese numerals: 八, 十二, 三千五百, 一千零五, 一千五."""
    if not s or len(s) > 12 or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in s):
        return None
    if all(ch in _CN_DIGITS for ch in s):  # 二〇二六: digit by digit
        return int("".join(str(_CN_DIGITS[ch]) for ch in s))
    total, digit, last_unit = 0, None, None
    for index, ch in enumerate(s):
        if ch in _CN_DIGITS:
            if digit:  # two digits in a row, as in 三五百
                return None
            digit = _CN_DIGITS[ch]
            continue
        unit = _CN_UNITS[ch]
        if last_unit is not None and unit >= last_unit:
            return None
        if digit is None and not (ch == "十" and index == 0):  # only 十二 may drop its 一
            return None
        total += (1 if digit is None else digit) * unit
        digit, last_unit = None, unit
    if digit:
        # 一千五 means 1500; only an explicit 零 (一千零五) makes it 1005.
        if last_unit is not None and last_unit >= 100 and s[-2] in _CN_UNITS:
            total += digit * last_unit // 10
        else:
            total += digit
    return total


def _plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent form (80000, not 8E+4)."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def format_amount(wan: Decimal, lang: str) -> str:
    """Render an amount held in 万元: "8亿元" / "8,000万元" (zh) or "800 million yuan" (en)."""
    if lang.lower().startswith("zh"):
        if abs(wan) >= _YUAN_PER_WAN:
            return f"{_plain(wan / _YUAN_PER_WAN):,f}亿元"
        return f"{_plain(wan):,f}万元"
    yuan = wan * _YUAN_PER_WAN
    for size, word in ((Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million")):
        if abs(yuan) >= size:
            return f"{_plain(yuan / size):,f} {word} yuan"
    return f"{_plain(yuan):,f} yuan"


# --- dates -----------------------------------------------------------------------

_FULL_DATE = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})")
_CN_FULL_DATE = re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})[日号]?")
_CN_MONTH_DAY = re.compile(r"([0-9]{1,2})月([0-9]{1,2})[日号]?")


def parse_date(text: str, today: date) -> Validated[date]:
    """Parse 2026-12-01, 2026/12/1, 2026年12月1日 or 12月1日 (in `today`'s year)."""
    s = _compact(text)
    if match := _FULL_DATE.fullmatch(s):
        parts = (match[1], match[3], match[4])
    elif match := _CN_FULL_DATE.fullmatch(s):
        parts = (match[1], match[2], match[3])
    elif match := _CN_MONTH_DAY.fullmatch(s):
        parts = (str(today.year), match[1], match[2])
    else:
        return _fail("date.format")
    try:
        return _ok(date(*(int(part) for part in parts)))
    except ValueError:  # 2026-02-30, month 13, year 0
        return _fail("date.format")
