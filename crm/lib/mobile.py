"""Mobile numbers: normalisation (one canonical form per number) and masking.

Mainland numbers are stored as their 11 national digits ("13812345678"); other regions
in E.164 ("+85291234567"). Validation uses phonenumbers' ``is_valid_number``: its
``is_possible_number`` accepts wrong lengths and unassigned prefixes.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

_STRIP = re.compile(r"[\s\-()（）·.]")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidMobile(ValueError):
    """The text is not a valid mobile number; ``message`` is Chinese and user-facing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_mobile(raw: str | int | None, *, allow_foreign: bool = True) -> str:
    """Return the canonical form of a mobile number or raise InvalidMobile.

    Full-width digits are folded, separators dropped; "+86"/"0086"/"86" prefixes on
    an 11-digit mainland number are accepted.
    """
    if raw is None:
        raise InvalidMobile("手机号不能为空")
    text = str(raw).strip()
    if isinstance(raw, float) or re.fullmatch(r"\d+\.0", text):
        text = text.split(".")[0]  # Excel stores numbers as floats
    text = text.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９＋"})
    text = _STRIP.sub("", text)
    if not text:
        raise InvalidMobile("手机号不能为空")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not re.fullmatch(r"\+?\d{5,16}", text):
        raise InvalidMobile(f"手机号格式不正确：{raw}")
    if not text.startswith("+"):
        if len(text) == 13 and text.startswith("86"):
            text = text[2:]
        region = "CN"
    else:
        region = None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidMobile(f"手机号格式不正确：{raw}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidMobile(f"不是有效的手机号：{raw}")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidMobile(f"不是手机号码（可能是固定电话）：{raw}")
    if number.country_code == 86:
        return str(number.national_number)
    if not allow_foreign:
        raise InvalidMobile(f"仅支持中国大陆手机号：{raw}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_mobile(mobile: str) -> str:
    """138****5678 for mainland numbers; keep the first 3/4 and last 4 digits otherwise."""
    if not mobile:
        return ""
    if len(mobile) == 11 and mobile.isdigit():
        return f"{mobile[:3]}****{mobile[-4:]}"
    if len(mobile) <= 7:
        return mobile[:2] + "*" * max(len(mobile) - 2, 0)
    return f"{mobile[:4]}{'*' * (len(mobile) - 8)}{mobile[-4:]}"


def mask_id_number(id_number: str) -> str:
    """110101********1234: region code and last four only."""
    if not id_number:
        return ""
    if len(id_number) <= 10:
        return id_number[:2] + "*" * (len(id_number) - 2)
    return f"{id_number[:6]}{'*' * (len(id_number) - 10)}{id_number[-4:]}"


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_id_number(raw: str) -> str:
    """Validate an 18-digit resident ID (GB 11643 check digit); return it upper-cased."""
    text = _STRIP.sub("", str(raw or "")).upper()
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise InvalidMobile("身份证号应为18位")
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[-1]:
        raise InvalidMobile("身份证号校验位不正确")
    return text
