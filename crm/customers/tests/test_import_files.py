"""Import files as offices have them: CSV in Chinese Windows' encodings, legacy .xls, other
systems' headers, a project chosen for the whole file — and hostile files refused."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.customers import importing
from crm.customers.importing import columns
from crm.customers.models import Customer, ImportColumnChoice
from crm.customers.tests.excel import (
    CUSTOMER_HEADERS,
    SHEET,
    build_csv,
    build_unicode_text,
    build_xls,
    build_xlsx,
    build_zip_bomb,
    customer_row,
    read_xlsx,
    response_bytes,
    rewrite_xlsx,
    understate_sizes,
)

IMPORT_URL = reverse("customers:import")
NAMES = ["张三", "李四", "王五", "赵六"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def validate(tmp_path, user, content, *, name="upload.csv", kind=importing.CUSTOMERS, **options):
    path = tmp_path / name
    path.write_bytes(content)
    return importing.validate_file(path, kind, user=user, filename=name, options=importing.Options(**options))


def rows_of(names=NAMES, **values):
    return [customer_row(姓名=name, 手机号=f"1390000{i:04d}", **values) for i, name in enumerate(names, start=1)]


def errors_of(validation):
    return [(e.line, e.field, e.message) for e in validation.report.errors]


def upload(client, content, *, name, kind="customers", encoding=""):
    data = {"kind": kind, "file": SimpleUploadedFile(name, content), "encoding": encoding}
    return client.post(IMPORT_URL, data)


# ---------------------------------------------------------------- encodings and delimiters


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter"),
    [
        (build_csv(rows_of(), encoding="gb18030"), "gb18030", ","),
        (build_csv(rows_of(), encoding="gbk"), "gb18030", ","),
        (build_csv(rows_of(), encoding="utf-8", bom=True), "utf-8-sig", ","),
        (build_csv(rows_of(), encoding="utf-8"), "utf-8", ","),
        (build_unicode_text(rows_of()), "utf-16", "\t"),
        (build_csv(rows_of(), encoding="utf-8", delimiter=";"), "utf-8", ";"),
    ],
    ids=["gb18030", "gbk", "utf-8-bom", "utf-8", "unicode-text", "semicolons"],
)
def test_csv_in_the_encodings_windows_writes_reads_the_names_right(
    tmp_path, consultant, project, content, encoding, delimiter
):
    validation = validate(tmp_path, consultant, content)
    report = validation.report
    assert (report.file.encoding, report.file.delimiter, report.file.detected) == (encoding, delimiter, True)
    assert [row.name for row in validation.rows] == NAMES
    assert report.errors == []


def test_a_name_only_gb18030_has_survives(tmp_path, consultant, project):
    # 𠀀 (U+20000) is outside GBK: only GB18030's four-byte form encodes it.
    validation = validate(tmp_path, consultant, build_csv(rows_of(["王𠀀", "李堃"]), encoding="gb18030"))
    assert [row.name for row in validation.rows] == ["王𠀀", "李堃"]


def test_bytes_no_encoding_reads_fail_the_file_naming_the_line(tmp_path, consultant, project):
    content = build_csv(rows_of(), encoding="gb18030") + b"\xff\xff,13900000009\r\n"
    with pytest.raises(importing.ImportFileError) as info:
        validate(tmp_path, consultant, content)
    assert "第 6 行既不是 UTF-8 也不是 GBK/GB18030 编码" in info.value.message


def test_a_utf8_file_with_gbk_lines_is_refused_rather_than_imported_as_mojibake(tmp_path, consultant, project):
    content = build_csv(rows_of(), encoding="utf-8") + build_csv([customer_row(姓名="钱七")], None, encoding="gbk")
    with pytest.raises(importing.ImportFileError) as info:
        validate(tmp_path, consultant, content)
    assert "一个文件里混用了两种编码" in info.value.message
    assert Customer.objects.count() == 0


def test_a_gbk_file_with_utf8_lines_is_refused_rather_than_imported_as_mojibake(tmp_path, consultant, project):
    # Every cell an even number of Chinese characters: the UTF-8 line also decodes as GB18030.
    rows = [customer_row(姓名="钱七", 意向楼盘="JHY", 来源渠道="来电", 备注="城东新区万达广场附近")]
    utf8_line = build_csv(rows, None, encoding="utf-8")
    assert utf8_line.decode("gb18030") != utf8_line.decode("utf-8")  # mojibake, not an error
    content = build_csv(rows_of(), encoding="gbk") + utf8_line
    with pytest.raises(importing.ImportFileError) as info:
        validate(tmp_path, consultant, content)
    assert "同时有 GBK 和 UTF-8 编码的中文" in info.value.message


BIG5_HEADERS = ["name", "mobile", "project", "source"]


def big5_rows(names):
    return [[name, f"1390000{i:04d}", "JHY", "phone"] for i, name in enumerate(names, start=1)]


def test_the_user_can_name_the_encoding_detection_cannot_tell(tmp_path, consultant, project):
    big5 = build_csv(big5_rows(["陳大文", "黃小明"]), BIG5_HEADERS, encoding="big5")
    guessed = validate(tmp_path, consultant, big5)
    assert guessed.report.file.encoding == "gb18030"
    assert [row.name for row in guessed.rows] != ["陳大文", "黃小明"]  # what the preview shows the user
    chosen = validate(tmp_path, consultant, big5, encoding="big5")
    assert (chosen.report.file.encoding, chosen.report.file.detected) == ("big5", False)
    assert [row.name for row in chosen.rows] == ["陳大文", "黃小明"]


def test_a_chosen_encoding_that_does_not_fit_fails_naming_the_line(tmp_path, consultant, project):
    with pytest.raises(importing.ImportFileError) as info:
        validate(tmp_path, consultant, build_csv(rows_of(), encoding="gb18030"), encoding="utf-8")
    assert "按 UTF-8 编码无法读取第 1 行" in info.value.message


def test_quoted_cells_may_hold_delimiters_and_line_breaks(tmp_path, consultant, project):
    rows = [
        customer_row(姓名="张三", 手机号="13900000001", 备注="周末看房，关注三居, 南向"),
        customer_row(姓名="李四", 手机号="13900000002", 备注="第一行\n第二行"),
        customer_row(姓名="王五", 手机号="13900000003"),
    ]
    validation = validate(tmp_path, consultant, build_csv(rows, encoding="utf-8"))
    assert [(row.line, row.notes) for row in validation.rows] == [
        (2, "周末看房，关注三居, 南向"),
        (3, "第一行\n第二行"),
        (4, ""),
    ]


def test_a_csv_row_wider_than_any_table_is_refused(tmp_path, consultant):
    content = ("姓名,手机号\r\n" + "," * 5000 + "\r\n").encode()
    with pytest.raises(importing.ImportFileError) as info:
        validate(tmp_path, consultant, content)
    assert "超过 256 列的上限" in info.value.message


# ---------------------------------------------------------------- legacy .xls


def test_a_legacy_xls_workbook_is_read_with_its_dates(tmp_path, consultant, project):
    rows = [
        customer_row(姓名="张三", 手机号="13900000001", 生日=date(1985, 3, 5)),
        customer_row(姓名="李四", 手机号=13900000002),
    ]
    validation = validate(tmp_path, consultant, build_xls(rows), name="老系统导出.xls")
    assert validation.report.file.format == "xls"
    assert [(row.name, row.mobile, row.birthday_on) for row in validation.rows] == [
        ("张三", "13900000001", date(1985, 3, 5)),
        ("李四", "13900000002", None),
    ]


def test_a_web_page_saved_as_xls_is_refused_saying_what_it_is(login, consultant, media):
    page = "<html><body><table><tr><td>姓名</td></tr></table></body></html>".encode()
    response = upload(login(consultant), page, name="导出.xls")
    assert "该文件实际是网页（HTML）格式" in response.content.decode()
    assert Customer.objects.count() == 0


# ---------------------------------------------------------------- headers


def test_other_systems_headers_are_recognised_case_and_spaces_ignored(tmp_path, consultant, project):
    headers = ["客户名称", " 手 机 ", "项目", "渠道", "出生日期", "顾问", "VIP客户", "Gender"]
    rows = [["张三", "139 0000 0001", "锦华苑", "来电", "1985/3/5", "consultant", "是", "男"]]
    validation = validate(tmp_path, consultant, build_csv(rows, headers, encoding="utf-8"))
    assert validation.report.errors == []
    (row,) = validation.rows
    assert (row.name, row.mobile, row.project_id, row.source_channel, row.birthday_on, row.is_vip, row.gender) == (
        "张三",
        "13900000001",
        project.pk,
        "phone",
        date(1985, 3, 5),
        True,
        "M",
    )


def test_every_synonym_names_one_column_only():
    for kind in importing.KINDS:
        keys = columns.header_keys(kind)
        assert keys[columns.normalise_header("手机")] == "mobile"
        assert len({c.key for c in importing.COLUMNS[kind]}) == len(importing.COLUMNS[kind])


def test_an_impossible_date_says_so(tmp_path, consultant, project):
    rows = [customer_row(手机号="13900000001", 生日="1988-02-30"), customer_row(手机号="13900000002", 生日="88年春天")]
    validation = validate(tmp_path, consultant, build_csv(rows, encoding="utf-8"))
    assert errors_of(validation) == [
        (2, "生日", "1988-02-30 不是有效日期"),
        (3, "生日", "日期格式不正确：88年春天（应为 1985-03-05、1985/3/5 或 1985年3月5日）"),
    ]
    assert [e.value for e in validation.report.errors] == ["1988-02-30", "88年春天"]


# ---------------------------------------------------------------- the review page


def review(client, response):
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response.url).content.decode()


def test_a_file_without_projects_gets_one_chosen_on_the_page_for_its_empty_cells(login, consultant, project, project_b):
    client = login(consultant)
    rows = rows_of(意向楼盘=None)
    rows[1] = customer_row(姓名="李四", 手机号="13900000002", 意向楼盘="滨江御府")
    response = upload(client, build_csv(rows, encoding="gb18030"), name="其他系统导出.csv")
    html = review(client, response)
    assert "文件中没有填写" not in html  # one row names its project: the others are errors
    assert html.count("意向楼盘不能为空") == 3

    client.post(response.url, {"action": "options", "project": "锦华苑"})
    html = client.get(response.url).content.decode()
    assert '<b id="count-invalid">0</b>' in html
    client.post(response.url, {"action": "import"})
    imported = dict(Customer.objects.values_list("name", "project__name"))
    assert imported == {"张三": "锦华苑", "李四": "滨江御府", "王五": "锦华苑", "赵六": "锦华苑"}


def test_an_empty_project_column_asks_for_the_project_before_anything_else(login, consultant, project):
    client = login(consultant)
    response = upload(client, build_csv(rows_of(意向楼盘=None), encoding="gb18030"), name="名单.csv")
    html = review(client, response)
    assert "文件中没有填写 <b>意向楼盘</b>" in html
    assert "意向楼盘不能为空" not in html  # said once, not on every row
    assert "GB18030（含 GBK、GB2312）（自动识别）" in html
    assert "张三" in html  # the preview shows the names as read


def test_an_unrecognised_header_is_assigned_on_the_page_and_remembered(login, consultant, project):
    client = login(consultant)
    headers = ["姓名", "客户联系号码", "意向楼盘", "来源渠道"]
    rows = [["张三", "13900000001", "锦华苑", "来电"]]
    response = upload(client, build_csv(rows, headers, encoding="utf-8"), name="a.csv")
    html = review(client, response)
    assert "文件缺少必填列 <b>手机号</b>" in html
    assert "“客户联系号码”对应" in html

    client.post(response.url, {"action": "options", "column_1": "mobile"})
    assert "确认导入 1 条" in client.get(response.url).content.decode()
    assert ImportColumnChoice.objects.get(user=consultant).key == "mobile"

    again = upload(
        client, build_csv([["李四", "13900000002", "锦华苑", "来电"]], headers, encoding="utf-8"), name="b.csv"
    )
    assert "确认导入 1 条" in review(client, again)


def test_the_review_shows_the_detected_encoding_and_lets_the_user_change_it(login, consultant, project):
    client = login(consultant)
    response = upload(client, build_csv(big5_rows(["陳大文"]), BIG5_HEADERS, encoding="big5"), name="繁體.csv")
    html = review(client, response)
    assert "陳大文" not in html
    client.post(response.url, {"action": "options", "encoding": "big5"})
    html = client.get(response.url).content.decode()
    assert "Big5（繁体中文）（您选择的）" in html
    assert "陳大文" in html


def test_the_encoding_can_be_named_on_upload(login, consultant, project):
    client = login(consultant)
    content = build_csv(big5_rows(["陳大文"]), BIG5_HEADERS, encoding="big5")
    response = upload(client, content, name="繁體.csv", encoding="big5")
    assert "陳大文" in review(client, response)


def test_a_whole_file_owner_must_be_one_the_user_may_name(login, consultant, teammate, project):
    client = login(consultant)
    response = upload(client, build_csv(rows_of(), encoding="utf-8"), name="a.csv")
    review(client, response)
    client.post(response.url, {"action": "options", "owner": "teammate"})
    assert "所选的设置无效" in client.get(response.url).content.decode()


def test_a_team_leader_hands_a_whole_file_to_a_teammate(login, leader, teammate, project):
    client = login(leader)
    response = upload(client, build_csv(rows_of(), encoding="utf-8"), name="a.csv")
    review(client, response)
    client.post(response.url, {"action": "options", "owner": "teammate"})
    client.post(response.url, {"action": "import"})
    assert set(Customer.objects.values_list("owner__username", flat=True)) == {"teammate"}


def test_the_review_can_be_resumed_from_another_login_of_the_same_user(client, django_user_model, consultant, project):
    from django.test import Client

    office, phone = Client(), Client()
    office.force_login(consultant)
    response = upload(office, build_csv(rows_of(), encoding="utf-8"), name="a.csv")
    phone.force_login(consultant)
    assert "名单" not in IMPORT_URL
    assert "a.csv" in phone.get(IMPORT_URL).content.decode()  # listed as unfinished
    assert "确认导入 4 条" in phone.get(response.url).content.decode()
    phone.post(response.url, {"action": "import"})
    assert Customer.objects.count() == 4


# ---------------------------------------------------------------- hostile files


def assert_refused(response, message):
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="upload-error"' in html, html[:300]
    assert message in html
    assert Customer.objects.count() == 0


def stored(media):
    folder = media / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_zip_bomb_is_refused_fast_without_being_unpacked(login, consultant, media):
    bomb = build_zip_bomb(300)
    assert len(bomb) < 2 * 1024 * 1024
    client = login(consultant)
    started = time.perf_counter()
    response = upload(client, bomb, name="客户.xlsx")
    assert time.perf_counter() - started < 5
    assert_refused(response, "Excel 文件解压后超过 200 MB")
    assert stored(media) == []


def test_a_zip_bomb_that_understates_its_size_is_refused_once_it_unpacks_past_it(login, consultant, media):
    bomb = understate_sizes(build_zip_bomb(300), SHEET, 10_000)
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo(SHEET).file_size == 10_000
    response = upload(login(consultant), bomb, name="客户.xlsx")
    assert_refused(response, "的实际大小与声明不符")


def test_a_workbook_whose_cells_span_the_whole_sheet_is_refused_without_harm(login, consultant, media):
    """One cell at XFD1048576: calamine would ask for 512 GB and abort the process reading it."""
    far = b"</sheetData>"
    content = build_xlsx([customer_row()])
    sheet = zipfile.ZipFile(io.BytesIO(content)).read(SHEET)
    hostile = rewrite_xlsx(
        content,
        SHEET,
        sheet.replace(far, b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>' + far),
    )
    assert len(hostile) < 10_000
    response = upload(login(consultant), hostile, name="客户.xlsx")
    assert_refused(response, "文件中的表格范围过大")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a\x01\x00\x01\x00" + build_xlsx([customer_row()]), "文件内容是图片"),
        (build_xlsx([customer_row()]) + b"<script>alert(1)</script>", "夹带了其他内容"),
        (b"%PDF-1.4\n" + build_xlsx([customer_row()]), "文件内容是PDF 文档"),
    ],
    ids=["image-and-workbook", "workbook-and-script", "pdf-and-workbook"],
)
def test_a_polyglot_file_is_refused(login, consultant, media, content, message):
    response = upload(login(consultant), content, name="客户.xlsx")
    assert_refused(response, message)
    assert stored(media) == []


def test_a_workbook_with_a_comment_hiding_a_page_is_refused(login, consultant, media):
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(build_xlsx([customer_row()])))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.comment = b"<html><script>alert(1)</script></html>"
    response = upload(login(consultant), out.getvalue(), name="客户.xlsx")
    assert_refused(response, "夹带了其他内容")


def test_a_sheet_over_the_cell_limit_is_refused(login, consultant, settings, media):
    settings.IMPORT_MAX_CELLS = 20
    response = upload(login(consultant), build_xlsx(rows_of()), name="客户.xlsx")
    assert_refused(response, f"行 × {len(CUSTOMER_HEADERS)} 列，超出单次导入的上限")


def test_the_problem_list_carries_no_live_formula(login, consultant, project):
    client = login(consultant)
    rows = [customer_row(姓名='=HYPERLINK("http://x","y")', 手机号="=1+1")]
    response = upload(client, build_csv(rows, encoding="utf-8"), name="a.csv")
    review(client, response)
    download = response_bytes(client.get(response.url + "?download=problems"))
    archive = zipfile.ZipFile(io.BytesIO(download))
    assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    assert read_xlsx(download)[2][:3] == [2, "手机号", "'=1+1"]


def test_a_header_left_out_is_not_remembered_but_an_undone_choice_is(login, consultant, project):
    client = login(consultant)
    headers = ["姓名", "手机号", "意向楼盘", "来源渠道", "客户联系号码", "楼层偏好"]
    rows = [["张三", "13900000001", "锦华苑", "来电", "13900000009", "高层"]]
    response = upload(client, build_csv(rows, headers, encoding="utf-8"), name="a.csv")
    review(client, response)
    client.post(response.url, {"action": "options", "column_4": "mobile2"})
    assert dict(ImportColumnChoice.objects.values_list("header", "key")) == {"客户联系号码": "mobile2"}
    client.post(response.url, {"action": "options", "column_4": ""})
    assert dict(ImportColumnChoice.objects.values_list("header", "key")) == {"客户联系号码": ""}
