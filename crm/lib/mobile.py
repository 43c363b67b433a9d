"""Mobile numbers: normalisation (one canonical form per number) and masking.

Mainland numbers are stored as their 11 national digits ("13812345678"); other regions
in E.164 ("+85291234567"). Validation uses phonenumbers' ``is_valid_number``: its
``is_possible_number`` accepts wrong lengths and unassigned prefixes.

A file import normalises 100,000 numbers or more, and phonenumbers' ``parse`` +
``is_valid_number`` + ``number_type`` cost ~25 µs a number, most of the validation of a
large file. Nearly every number is a plain mainland mobile, and for those phonenumbers'
verdict depends on the leading digits only, so it is remembered per prefix (see
``MAINLAND_PREFIX_DIGITS``): the first number of a prefix goes through phonenumbers,
the others of that prefix are accepted from the memo. Only acceptances are remembered;
a rejected number always goes through phonenumbers, which words the error.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

_STRIP = re.compile(r"[\s\-()（）·.]")
_FULL_WIDTH = str.maketrans({c: ord(c) - 0xFEE0 for c in "０１２３４５６７８９＋"})
_EXCEL_FLOAT = re.compile(r"\d+\.0")
_DIGITS = re.compile(r"\+?\d{5,16}")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

# How many leading digits decide phonenumbers' verdict on an 11-digit national number
# that starts with "1". From the CN metadata (phonenumbers 9.0, ``PhoneMetadata.
# metadata_for_region("CN")``):
#   mobile      1(?:610\d|740[0-5])\d{6}|1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}
#               after at most five digits (1740[0-5], 1610\d) only "any digit" remains;
#   fixed_line  its only 11-digit numbers starting with 1 are Beijing's without the trunk 0,
#               10(?:[02-79]\d\d|[18](?:0[1-9]|[1-9]\d))\d{5}: decided by the fifth digit too;
#   the other types have no 11-digit number starting with 1 (premium 16[08]\d{5}: 8
#   digits; toll-free: 10 or 12; shared cost: 8-9 digits after "10", else starting 2-9),
#   and the national prefix for parsing, (1(?:[12]\d|79)\d\d)|0, is never stripped from
#   11 digits (the 6 left would match no CN number, so phonenumbers keeps all 11).
# So five digits decide, and the memo holds at most 10,000 prefixes. Six or seven would
# leave more margin for a future metadata change, but a 100,000-row file has tens of
# thousands of distinct 6- or 7-digit prefixes, and each first one costs a full parse.
# crm/lib/tests/test_mobile.py checks the memo against phonenumbers for every 6-digit
# prefix 100000-199999 and for random numbers, so a metadata change that needs more
# digits fails there.
MAINLAND_PREFIX_DIGITS = 5
# Prefixes for which phonenumbers accepted a mainland mobile.
_MAINLAND_PREFIXES: set[str] = set()


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
    if type(raw) is str and len(raw) == 11 and raw[0] == "1" and raw.isascii() and raw.isdigit():
        text = raw  # the common cell, which _clean would return unchanged
    else:
        text = _clean(raw)
    national = _mainland_digits(text)
    if national is not None and national[:MAINLAND_PREFIX_DIGITS] in _MAINLAND_PREFIXES:
        return national
    number = _parse(raw, text, allow_foreign=allow_foreign)
    if national is not None and number == national:
        _MAINLAND_PREFIXES.add(national[:MAINLAND_PREFIX_DIGITS])
    return number


def _clean(raw: str | int | None) -> str:
    """The text of a number without separators; InvalidMobile if it is empty or not digits."""
    if raw is None:
        raise InvalidMobile("手机号不能为空")
    text = str(raw).strip()
    if isinstance(raw, float) or _EXCEL_FLOAT.fullmatch(text):
        text = text.split(".")[0]  # Excel stores numbers as floats
    text = _STRIP.sub("", text.translate(_FULL_WIDTH))
    if not text:
        raise InvalidMobile("手机号不能为空")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _DIGITS.fullmatch(text):
        raise InvalidMobile(f"手机号格式不正确：{raw}")
    return text


def _mainland_digits(text: str) -> str | None:
    """The 11 national digits when ``text`` has the shape of a mainland mobile, else None."""
    if len(text) == 11:
        national = text
    elif len(text) == 13 and text.startswith("86"):
        national = text[2:]
    elif len(text) == 14 and text.startswith("+86"):
        national = text[3:]
    else:
        return None
    # ASCII only: \d also matches other scripts' digits, which phonenumbers folds.
    if national[0] != "1" or not national.isascii():
        return None
    return national


def _parse(raw: str | int | None, text: str, *, allow_foreign: bool) -> str:
    """phonenumbers' verdict on a cleaned number; the canonical form or InvalidMobile."""
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


def looks_like_full_number(text: str) -> bool:
    """Whether a search text may be a full mobile or ID number (7 digits or more, with
    separators, and nothing else): such a text must not travel in a URL (docs/privacy.md).
    A customer number (KH…), a name or a 4-digit tail is not."""
    cleaned = re.sub(r"[\s\-+()（）]", "", text or "")
    return len(cleaned) >= 7 and re.fullmatch(r"\d+[Xx]?", cleaned) is not None


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
    """1101**********1234: province and city (4 digits) and the last four only.

    The district digits (5-6) are hidden with the birth date (7-14), so the mask and a
    birthday shown elsewhere never combine into the whole number: two digits stay unknown
    (about ten candidates once the check digit is used), and only the audited reveal shows
    it (decision 0025).
    """
    if not id_number:
        return ""
    if len(id_number) <= 10:
        return id_number[:2] + "*" * (len(id_number) - 2)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def remask_id_hint(hint: str) -> str:
    """An ID number hint stored in the old form (110105********002X) in the new one
    (1101**********002X), without decrypting: the kept characters are a subset."""
    if len(hint) != 18:
        return hint
    return f"{hint[:4]}{'*' * 10}{hint[-4:]}"


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


# An ID number (18 characters, or the old 15 digits) or a mainland mobile (optionally with
# +86/0086/86) standing in free text, not part of a longer number.
_ID_IN_TEXT = re.compile(r"(?<![0-9])(\d{17}[0-9Xx]|\d{15})(?![0-9Xx])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(?:(?:\+86|0086|86)[\s-]?)?(1[3-9]\d{9})(?![0-9])")
_ELEVEN_DIGITS = re.compile(r"\d{11}")  # \d as above: full-width digits too


def mask_numbers_in_text(text: str) -> str:
    """Free text with every ID number and mainland mobile in it masked: the audit log
    (crm.core.audit.redact) and anything quoting what someone typed (a notification
    quoting a complaint). 138****5678, 1101**********1233."""
    if _ELEVEN_DIGITS.search(text) is None:
        # Neither can stand in it (both have at least 11 digits in a row): most texts, and
        # a month's report pack masks tens of thousands of them.
        return text
    # Mobiles first: "008613912345678" is a prefixed mobile, not a 15-digit ID.
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_mobile(m.group(1)), text)
    return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(1).upper()), text)
