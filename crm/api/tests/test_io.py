"""Import and export over the API: the page's rules, answered as JSON (and the page's workbook)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.core.models import AuditLog
from crm.customers.models import Customer, Deal
from crm.customers.tests.excel import (
    DEAL_HEADERS,
    build_csv,
    build_xlsx,
    customer_row,
    deal_row,
    read_xlsx,
    response_bytes,
)

from .utils import has_chinese

CUSTOMERS = "/api/customers/import/"
DEALS = "/api/deals/import/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def forty_rows_with_four_bad():
    rows = [customer_row(姓名=f"客户{i:02d}", 手机号=f"1390000{i:04d}", 意向楼盘=None) for i in range(1, 41)]
    rows[4] = customer_row(姓名="坏号码", 手机号="1234", 意向楼盘=None)  # line 6
    rows[11] = customer_row(姓名="坏日期", 手机号="13900000012", 生日="1988-02-30", 意向楼盘=None)  # line 13
    rows[22] = customer_row(姓名=None, 手机号="13900000023", 意向楼盘=None)  # line 24
    rows[33] = customer_row(姓名="重复", 手机号="13900000001", 意向楼盘=None)  # line 35
    return rows


def post(client, url, content, *, name="其他系统导出.csv", **data):
    return client.post(url, {"file": SimpleUploadedFile(name, content), **data}, format="multipart")


def test_without_commit_the_report_comes_back_and_nothing_is_written(api, consultant, project):
    content = build_csv(forty_rows_with_four_bad(), encoding="gb18030")
    response = post(api(consultant), CUSTOMERS, content, project="锦华苑")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["valid"], body["invalid"], body["committed"]) == (40, 36, 4, False)
    assert body["file"] == {"format": "text", "encoding": "gb18030", "delimiter": ",", "sheet": ""}
    assert [(e["line"], e["column"], e["value"]) for e in body["errors"]] == [
        (6, "手机号", "1234"),
        (13, "生日", "1988-02-30"),
        (24, "姓名", ""),
        (35, "手机号", "13900000001"),
    ]
    assert body["errors"][1]["message"] == "1988-02-30 不是有效日期"
    assert all(has_chinese(e["message"]) for e in body["errors"])
    assert Customer.objects.count() == 0
    assert not AuditLog.objects.filter(action=AuditLog.Action.IMPORT).exists()


def test_commit_with_problems_and_without_only_valid_writes_nothing(api, consultant, project):
    content = build_csv(forty_rows_with_four_bad(), encoding="gb18030")
    response = post(api(consultant), CUSTOMERS, content, project="锦华苑", commit="true")
    assert response.status_code == 400
    assert response.json()["detail"] == "文件中有 4 行存在问题，未导入任何数据"
    assert len(response.json()["errors"]) == 4
    assert Customer.objects.count() == 0


def test_commit_with_only_valid_writes_the_valid_rows_with_their_names(api, consultant, project):
    content = build_csv(forty_rows_with_four_bad(), encoding="gb18030")
    response = post(api(consultant), CUSTOMERS, content, project=str(project.pk), commit="true", only_valid="true")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["committed"], body["imported"], body["skipped"]) == (True, 36, 4)
    assert (body["first_number"], body["last_number"]) == ("KH00000001", "KH00000036")
    names = set(Customer.objects.values_list("name", flat=True))
    assert len(names) == 36
    assert {"客户01", "客户40"} <= names
    assert not names & {"坏号码", "坏日期", "重复"}
    assert set(Customer.objects.values_list("project__name", flat=True)) == {"锦华苑"}
    log = AuditLog.objects.get(action=AuditLog.Action.IMPORT)
    assert (log.actor, log.changes["imported"], log.changes["skipped"]) == (consultant, 36, 4)


def test_the_upload_is_not_kept_after_the_call(api, consultant, project, media):
    post(api(consultant), CUSTOMERS, build_csv([customer_row(手机号="13900000001")], encoding="utf-8"), commit="true")
    assert Customer.objects.count() == 1
    assert list((media / "imports").iterdir()) == []


def test_a_clean_file_commits_without_only_valid(api, consultant, project):
    content = build_xlsx([customer_row(姓名="张三", 手机号="13900000001")])
    response = post(api(consultant), CUSTOMERS, content, name="客户.xlsx", commit="true")
    assert response.status_code == 201
    assert response.json()["imported"] == 1


def test_a_missing_whole_file_value_is_named_and_blocks_the_commit(api, consultant, project):
    content = build_csv([customer_row(手机号="13900000001", 意向楼盘=None)], encoding="utf-8")
    client = api(consultant)
    report = post(client, CUSTOMERS, content).json()
    assert report["needs"] == ["意向楼盘"]
    assert report["errors"] == []
    refused = post(client, CUSTOMERS, content, commit="true", only_valid="true")
    assert refused.status_code == 400
    assert "请为整个文件选择：意向楼盘" in refused.json()["detail"]
    assert Customer.objects.count() == 0


def test_a_whole_file_value_that_is_wrong_is_refused_once_not_per_row(api, consultant, teammate, project):
    content = build_csv([customer_row(手机号="13900000001", 意向楼盘=None)] * 3, encoding="utf-8")
    client = api(consultant)
    response = post(client, CUSTOMERS, content, project="无此楼盘")
    assert response.status_code == 400
    assert response.json() == {
        "project": ["为整个文件选择的意向楼盘不可用：楼盘不存在：无此楼盘（请填写本公司楼盘的名称或编码）"]
    }
    response = post(client, CUSTOMERS, content, project="锦华苑", owner=str(teammate.pk))
    assert response.json() == {
        "owner": ["为整个文件选择的置业顾问不可用：无权把客户分配给 李同组：置业顾问只能填写您本人"]
    }


def test_columns_map_headers_the_synonyms_do_not_know(api, consultant, project):
    headers = ["姓名", "客户联系号码", "意向楼盘", "来源渠道"]
    content = build_csv([["张三", "13900000001", "锦华苑", "来电"]], headers, encoding="utf-8")
    response = post(api(consultant), CUSTOMERS, content, columns='{"客户联系号码": "手机号"}', commit="true")
    assert response.status_code == 201, response.content
    assert Customer.objects.get().mobile == "13900000001"


def test_an_unreadable_file_is_a_400_on_the_file(api, consultant):
    response = post(api(consultant), CUSTOMERS, b"GIF89a" + bytes(100), name="a.xlsx")
    assert response.status_code == 400
    assert response.json() == {"file": ["文件内容是图片，不是 Excel 工作簿或 CSV 表格，无法导入"]}


def test_import_needs_the_permission(api, supervisor, approver):
    content = build_csv([customer_row(手机号="13900000001")], encoding="utf-8")
    assert post(api(approver), CUSTOMERS, content).status_code == 403
    assert Customer.objects.count() == 0


def test_json_is_refused_with_the_formats_it_takes(api, consultant):
    response = api(consultant).post(CUSTOMERS, {"file": "x"}, format="json")
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


def test_deals_import_the_same_way(api, consultant, customer, make_unit, project):
    make_unit(number="1801")
    rows = [
        deal_row(客户编号=customer.number, 楼盘=None, 房号="1801", 认购日期="2025-03-05"),
        deal_row(客户编号=customer.number, 楼盘=None, 房号="9999", 认购日期="2025-03-05"),
    ]
    content = build_csv(rows, DEAL_HEADERS, encoding="gb18030")
    client = api(consultant)
    report = post(client, DEALS, content, project="锦华苑").json()
    assert [(e["line"], e["message"]) for e in report["errors"]] == [(3, "房源不存在：锦华苑 1号楼 9999")]
    assert post(client, DEALS, content, project="锦华苑", commit="true").status_code == 400
    done = post(client, DEALS, content, project="锦华苑", commit="true", only_valid="true")
    assert done.status_code == 201
    assert done.json()["imported"] == 1
    assert Deal.objects.get().subscribed_on == date(2025, 3, 5)


# ---------------------------------------------------------------- export


def test_the_export_is_the_list_pages_workbook(api, client, consultant, make_customer, project):
    make_customer("张三", mobile="13900000001", grade="A")
    make_customer("李四", mobile="13900000002", grade="B")
    client.force_login(consultant)
    page = read_xlsx(response_bytes(client.get("/customers/export/", {"grade": "A"})))
    response = api(consultant).get("/api/customers/export/", {"grade": "A"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    rows = read_xlsx(response_bytes(response))
    assert rows[1:] == page[1:]
    assert [row[1] for row in rows[2:]] == ["张三"]
    assert rows[2][2] == "139****0001"
    assert rows[0][0].startswith("导出人：王顾问（consultant）")
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).count() == 2
    assert AuditLog.objects.filter(action=AuditLog.Action.EXPORT).first().changes["filters"] == {"grade": "A"}


def test_the_export_keeps_to_the_callers_scope(api, outsider, make_customer, project):
    make_customer("张三", mobile="13900000001")
    rows = read_xlsx(response_bytes(api(outsider).get("/api/customers/export/")))
    assert rows[2:] == []


def test_a_client_may_ask_for_the_workbook_by_its_media_type(api, consultant):
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for url in ("/api/customers/export/", "/api/deals/export/"):
        response = api(consultant).get(url, HTTP_ACCEPT=xlsx)
        assert response.status_code == 200
        assert read_xlsx(response_bytes(response))[1][0] == "客户编号"


def test_export_needs_the_permission(api, approver):
    response = api(approver).get("/api/customers/export/")
    assert response.status_code == 403
    assert has_chinese(response.json())
    assert not AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()
