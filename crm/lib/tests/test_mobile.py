"""Mobile normalisation and masking (pure, no database)."""

import pytest

from crm.lib.mobile import InvalidMobile, mask_id_number, mask_mobile, normalize_id_number, normalize_mobile


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


def test_mask_id_number_keeps_region_and_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_id_number_check_digit_is_verified():
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(InvalidMobile, match="校验位"):
        normalize_id_number("110105194912310021")
    with pytest.raises(InvalidMobile, match="18位"):
        normalize_id_number("1101051949")
