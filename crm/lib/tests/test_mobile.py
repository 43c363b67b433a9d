"""Mobile normalisation and masking (pure, no database)."""

import contextlib
import random
import re
from functools import partial

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from crm.lib import mobile
from crm.lib.mobile import (
    MAINLAND_PREFIX_DIGITS,
    InvalidMobile,
    mask_id_number,
    mask_mobile,
    normalize_id_number,
    normalize_mobile,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits from Chinese input methods
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),  # Excel numbers arrive as floats
        ("+852 9123 4567", "+85291234567"),  # Hong Kong mobile
    ],
)
def test_normalize_mobile_accepts_real_numbers(raw, expected):
    assert normalize_mobile(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("12345", "不是有效的手机号"),
        ("1381234567", "不是有效的手机号"),  # 10 digits
        ("138123456789", "不是有效的手机号"),  # 12 digits
        ("01088886666", "固定电话"),  # Beijing landline
        ("abc", "格式不正确"),
        ("", "不能为空"),
        (None, "不能为空"),
    ],
)
def test_normalize_mobile_rejects_bad_input_in_chinese(raw, fragment):
    with pytest.raises(InvalidMobile) as exc:
        normalize_mobile(raw)
    assert fragment in exc.value.message


def test_foreign_numbers_can_be_refused():
    with pytest.raises(InvalidMobile, match="仅支持中国大陆"):
        normalize_mobile("+85291234567", allow_foreign=False)


def test_mask_mobile_shows_first_three_and_last_four():
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("+85291234567") == "+852****4567"
    assert mask_mobile("") == ""


def test_mask_id_number_keeps_province_city_and_last_four():
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_the_id_mask_and_the_birthday_leave_the_district_unknown():
    """Decision 0020: mask + birth date (shown as 生日) never give the whole number."""
    masked = mask_id_number("11010519491231002X")
    known = masked[:4] + "19491231" + masked[-4:]
    assert masked[4:6] == "**"
    assert len(known) == 16  # two digits (the district) stay unknown


def test_id_number_check_digit_is_verified():
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(InvalidMobile, match="校验位"):
        normalize_id_number("110105194912310021")
    with pytest.raises(InvalidMobile, match="18位"):
        normalize_id_number("1101051949")


# ---------------------------------------------------------------- the memo of mainland prefixes


def _reference(raw, *, allow_foreign=True):
    """normalize_mobile as it was before the memo: phonenumbers on every number (the oracle)."""
    if raw is None:
        raise InvalidMobile("手机号不能为空")
    text = str(raw).strip()
    if isinstance(raw, float) or re.fullmatch(r"\d+\.0", text):
        text = text.split(".")[0]
    text = text.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９＋"})
    text = re.sub(r"[\s\-()（）·.]", "", text)
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
    if phonenumbers.number_type(number) not in {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}:
        raise InvalidMobile(f"不是手机号码（可能是固定电话）：{raw}")
    if number.country_code == 86:
        return str(number.national_number)
    if not allow_foreign:
        raise InvalidMobile(f"仅支持中国大陆手机号：{raw}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _outcome(normalize, raw):
    try:
        return ("ok", normalize(raw))
    except InvalidMobile as exc:
        return ("error", exc.message)


@pytest.fixture
def empty_memo(monkeypatch):
    memo: set[str] = set()
    monkeypatch.setattr(mobile, "_MAINLAND_PREFIXES", memo)
    return memo


@pytest.fixture(scope="module")
def accepted_prefixes():
    """Every 5-digit prefix phonenumbers accepts, learnt from one random number each."""
    rng = random.Random(1)
    memo: set[str] = set()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mobile, "_MAINLAND_PREFIXES", memo)
        for prefix in range(10_000, 20_000):
            with contextlib.suppress(InvalidMobile):
                normalize_mobile(f"{prefix}{rng.randrange(1_000_000):06d}")
    return frozenset(memo)


@pytest.fixture
def full_memo(monkeypatch, accepted_prefixes):
    memo = set(accepted_prefixes)
    monkeypatch.setattr(mobile, "_MAINLAND_PREFIXES", memo)
    return memo


def test_memo_agrees_with_phonenumbers_for_every_six_digit_prefix(empty_memo):
    """Every 6-digit prefix 100000-199999 with a random tail: the first number of each
    5-digit prefix fills the memo, the nine after it (another sixth digit, another tail)
    are answered from it. A verdict that depends on the sixth digit fails here."""
    rng = random.Random(20261123)
    accepted = 0
    for prefix in range(100_000, 200_000):
        number = f"{prefix}{rng.randrange(100_000):05d}"
        expected = _outcome(_reference, number)
        assert _outcome(normalize_mobile, number) == expected, number
        accepted += expected[0] == "ok"
    assert empty_memo, "the memo was never filled"
    assert all(len(p) == MAINLAND_PREFIX_DIGITS for p in empty_memo)
    # Both verdicts occur, and far more numbers were accepted than the memo has entries.
    assert 1_000 < len(empty_memo) < accepted < 100_000


def test_memo_agrees_with_phonenumbers_for_random_numbers(full_memo):
    """Random numbers, every digit random, answered from a memo learnt from other numbers."""
    rng = random.Random(7919)
    for _ in range(20_000):
        number = f"1{rng.randrange(10**10):010d}"
        assert _outcome(normalize_mobile, number) == _outcome(_reference, number), number


@pytest.mark.parametrize(
    "spelling",
    [
        "{n}",
        "+86{n}",
        "86{n}",
        "0086{n}",
        "+86 {a} {b} {c}",
        "{a}-{b}-{c}",
        " {n} ",
        "(+86){n}",
        "+86-{a}-{b}-{c}",
        "８６{n}",
    ],
)
def test_memo_agrees_with_phonenumbers_for_each_spelling(empty_memo, accepted_prefixes, spelling):
    """Each way of writing a number, for every 4-digit prefix, with the memo filled from
    plain numbers of other tails (and the spelling also tried before that)."""
    rng = random.Random(spelling)
    numbers = [f"{prefix}{rng.randrange(10**7):07d}" for prefix in range(1000, 2000)]

    def spelled(n):
        return spelling.format(n=n, a=n[:3], b=n[3:7], c=n[7:])

    for n in numbers:
        raw = spelled(n)
        assert _outcome(normalize_mobile, raw) == _outcome(_reference, raw), raw
    empty_memo.update(accepted_prefixes)  # learnt from other numbers
    for n in numbers:
        for raw in (spelled(n), spelled(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))):
            assert _outcome(normalize_mobile, raw) == _outcome(_reference, raw), raw


def test_memo_agrees_for_excel_numbers(empty_memo):
    rng = random.Random(5)
    for prefix in range(1000, 2000):
        n = f"{prefix}{rng.randrange(10**7):07d}"
        for raw in (int(n), float(n), int(n), float(n)):  # twice: the second from the memo
            assert _outcome(normalize_mobile, raw) == _outcome(_reference, raw), raw


@pytest.mark.parametrize(
    "raw",
    [
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "86138123456789",
        "+861381234567",
        "17406123456",  # 1740[0-5] are mobiles, 17406 is not
        "17400123456",
        "16101234567",
        "16201234567",
        "14012345678",
        "10123456789",  # Beijing landline without its trunk 0
        "01012345678",
        "12345678901",
        "17912345678",
        "00013812345678",
        "+85291234567",
        "+1 650 253 0000",
        "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits: \d matches them, phonenumbers folds them
        "138１２３４5678",
        "138.1234.5678",
        "13812345678.0",
        "+86 138 1234 5678 9",
    ],
)
def test_memo_never_changes_a_verdict(full_memo, raw):
    """With the memo holding every prefix these numbers share, each still gets phonenumbers'
    verdict and its exact Chinese message."""
    assert _outcome(normalize_mobile, raw) == _outcome(_reference, raw)
    assert _outcome(partial(normalize_mobile, allow_foreign=False), raw) == _outcome(
        partial(_reference, allow_foreign=False), raw
    )


def test_memo_spares_phonenumbers(empty_memo, monkeypatch):
    calls = []
    parse = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda *args: calls.append(args) or parse(*args))
    numbers = [f"13812{i:06d}" for i in range(0, 1_000_000, 997)]
    assert [normalize_mobile(n) for n in numbers] == numbers
    assert len(calls) == 1
    assert normalize_mobile("+86 138 1200 0000") == "13812000000"
    assert len(calls) == 1
    with pytest.raises(InvalidMobile, match="不是有效的手机号"):
        normalize_mobile("1381200000")  # 10 digits: never from the memo
    assert len(calls) == 2


def test_numbers_in_free_text_are_masked_and_other_digits_kept():
    from crm.lib.mobile import mask_numbers_in_text

    text = "王先生13812345678，身份证11010519491231002X，订单号20261206001，电话 021-12345678"
    masked = mask_numbers_in_text(text)
    assert "13812345678" not in masked
    assert "11010519491231002X" not in masked
    assert "138****5678" in masked
    assert "20261206001" in masked  # 11 digits, but not a mobile
    assert "021-12345678" in masked


def test_text_with_no_long_number_is_returned_as_is_and_full_width_ids_still_masked():
    from crm.lib.mobile import mask_numbers_in_text

    plain = "订单2026120600，电话 021-1234567，3号楼1502室"
    assert mask_numbers_in_text(plain) == plain
    full_width = "身份证１１０１０５１９４９１２３１００２X"
    assert "１１０１０５１９４９１２３１００２" not in mask_numbers_in_text(full_width)
