"""Text files: encodings detected, delimiters sniffed, mojibake refused (crm.lib.textfile)."""

from __future__ import annotations

import pytest

from crm.lib import textfile


@pytest.mark.parametrize(
    ("lines", "delimiter"),
    [
        (["姓名,手机号,楼盘\r\n"], ","),
        (["姓名\t手机号\t楼盘\r\n"], "\t"),
        (["姓名;手机号;楼盘\r\n"], ";"),
        (["客户名单（2026年3月）\r\n", "姓名\t手机号\t备注\r\n"], "\t"),
        (['"王,五";手机号;楼盘\r\n'], ";"),
        (["姓名\r\n"], ","),
    ],
)
def test_the_delimiter_is_the_one_the_header_uses_most(lines, delimiter):
    assert textfile.sniff_delimiter(lines) == delimiter


def test_utf16_without_a_byte_order_mark_is_recognised(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("姓名\t手机号\r\n张三\t13900000001\r\n".encode("utf-16-le"))
    assert textfile.detect_encoding(path) == "utf-16-le"


def test_a_utf8_file_is_not_taken_for_gb18030(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("姓名,手机号\r\n张三,13900000001\r\n".encode())
    assert textfile.detect_encoding(path) == "utf-8"


def test_plain_ascii_reads_as_utf8(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"name,mobile\r\nZhang San,13900000001\r\n")
    assert textfile.detect_encoding(path) == "utf-8"


def test_an_odd_utf16_file_fails_naming_its_last_line(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("姓名\r\n张三\r\n".encode("utf-16") + b"\x00")
    with pytest.raises(textfile.UndecodableText) as info:
        textfile.detect_encoding(path)
    assert "第 3 行" in info.value.message


def test_rows_are_numbered_as_excel_numbers_them(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes('姓名,备注\r\n\r\n张三,"两\r\n行"\r\n李四,\r\n'.encode())
    rows = list(textfile.iter_rows(path, encoding="utf-8", delimiter=",", max_columns=10))
    assert rows == [(1, ["姓名", "备注"]), (3, ["张三", "两\r\n行"]), (4, ["李四"])]


def test_encoding_labels_name_what_offices_call_them():
    assert textfile.encoding_label("gb18030") == "GB18030（含 GBK、GB2312）"
    assert textfile.encoding_label("utf-8-sig") == "UTF-8（带 BOM）"
    assert textfile.encoding_label("utf-16-le") == "UTF-16（Excel“Unicode 文本”）"
