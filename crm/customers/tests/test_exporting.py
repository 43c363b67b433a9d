"""Excel export: data scope, masking, never ID numbers, watermark line and an audit row."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from urllib.parse import quote

import pytest
from django.urls import reverse

from crm.core.models import AuditLog
from crm.customers.exporting import CUSTOMER_EXPORT_HEADERS, DEAL_EXPORT_HEADERS
from crm.customers.services import create_deal
from crm.customers.tests.excel import read_xlsx, response_bytes, sheet_names

EXPORT_URL = reverse("customers:export")
DEAL_EXPORT_URL = reverse("customers:deal_export")


def id_number(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11]


def export(client, url=EXPORT_URL, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response, read_xlsx(response_bytes(response))


def column(rows, header):
    index = rows[1].index(header)
    return [row[index] for row in rows[2:]]


@pytest.fixture
def book(make_customer, consultant, teammate, outsider, project_b):
    return {
        "mine": make_customer(
            "自己的", owner=consultant, mobile="13900000001", id_number=id_number("11010119900307123")
        ),
        "team": make_customer("同组的", owner=teammate, mobile="13900000002"),
        "other": make_customer("外组的", owner=outsider, project=project_b, mobile="13900000003"),
    }


def test_a_consultant_exports_only_own_customers_with_masked_mobiles(login, consultant, book):
    _, rows = export(login(consultant))
    assert column(rows, "姓名") == ["自己的"]
    assert column(rows, "手机号") == ["139****0001"]
    assert "13900000001" not in str(rows)


def test_the_outsiders_export_of_everything_leaves_out_the_consultants_customers(login, outsider, book):
    _, rows = export(login(outsider))
    assert column(rows, "姓名") == ["外组的"]
    assert "自己的" not in str(rows)
    assert "同组的" not in str(rows)


def test_an_admin_with_export_contact_gets_full_numbers(login, admin_user, book):
    _, rows = export(login(admin_user))
    assert sorted(column(rows, "手机号")) == ["13900000001", "13900000002", "13900000003"]
    log = AuditLog.objects.get(action=AuditLog.Action.EXPORT)
    assert log.changes["unmasked"] is True
    assert "含完整手机号" in log.summary


def test_id_numbers_are_never_exported(login, admin_user, book):
    _, rows = export(login(admin_user))
    text = str(rows)
    assert book["mine"].id_number_hint  # the customer has one
    assert "110101" not in text
    assert book["mine"].id_number_hint not in text
    assert not any("身份证" in str(header) for header in rows[1])


def test_every_export_writes_an_audit_row_with_count_filters_and_masking(login, consultant, book, make_customer):
    make_customer("意向的", owner=consultant, stage="interested")
    export(login(consultant), stage="interested", q="意向")
    log = AuditLog.objects.get(action=AuditLog.Action.EXPORT)
    assert log.actor == consultant
    assert log.target_type == "customers.customer"
    assert log.changes == {
        "kind": "customers",
        "count": 1,
        "filters": {"q": "意向", "stage": "interested"},
        "unmasked": False,
    }
    assert log.summary == "导出客户 1 条（手机号已脱敏）"
    assert log.ip == "127.0.0.1"


def test_the_list_filters_narrow_the_export(login, admin_user, book, make_customer, consultant, project):
    make_customer("VIP客户", owner=consultant, is_vip=True, grade="A")
    client = login(admin_user)
    assert column(export(client, vip="1")[1], "姓名") == ["VIP客户"]
    assert column(export(client, grade="A")[1], "姓名") == ["VIP客户"]
    assert column(export(client, q="外组")[1], "姓名") == ["外组的"]
    assert sorted(column(export(client, owner=str(consultant.pk))[1], "姓名")) == ["VIP客户", "自己的"]
    assert sorted(column(export(client, project=str(project.pk))[1], "姓名")) == ["VIP客户", "同组的", "自己的"]


def test_tags_filter_and_column(login, admin_user, book):
    from crm.customers.models import Tag

    tag = Tag.objects.create(company=admin_user.company, name="学区")
    book["mine"].tags.add(tag, Tag.objects.create(company=admin_user.company, name="改善"))
    _, rows = export(login(admin_user), tag=str(tag.pk))
    assert column(rows, "姓名") == ["自己的"]
    assert column(rows, "标签") == ["学区,改善"]


def test_the_file_has_a_watermark_line_chinese_headers_and_a_chinese_filename(login, consultant, book):
    response, rows = export(login(consultant))
    assert rows[0][0].startswith("导出人：王顾问（consultant） 导出时间：")
    assert "仅限内部使用" in rows[0][0]
    assert rows[1] == list(CUSTOMER_EXPORT_HEADERS)
    row = dict(zip(rows[1], rows[2], strict=True))
    assert row["客户编号"] == book["mine"].number
    assert (row["客户阶段"], row["客户等级"], row["来源渠道"], row["置业顾问"], row["意向楼盘"]) == (
        "潜在客户",
        "C级",
        "来访",
        "王顾问",
        "锦华苑",
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="customers_')
    assert f"filename*=UTF-8''{quote('客户导出_')}" in disposition
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_sheet_is_titled(login, consultant, book):
    response = login(consultant).get(EXPORT_URL)
    assert sheet_names(response_bytes(response)) == ["客户"]


def test_an_exported_file_can_be_imported_again(login, admin_user, book, tmp_path):
    """The export's header row is found below the watermark line; every row is then a duplicate."""
    from crm.customers import importing

    response = login(admin_user).get(EXPORT_URL)
    path = tmp_path / "export.xlsx"
    path.write_bytes(response_bytes(response))
    validation = importing.validate_file(path, importing.CUSTOMERS, user=admin_user)
    assert validation.report.total == 3
    assert {e.message.split("：")[0] for e in validation.report.errors} == {"手机号已存在"}
    assert [e.line for e in validation.report.errors] == [3, 4, 5]


def test_export_needs_the_export_permission(login, approver):
    client = login(approver)
    assert client.get(EXPORT_URL).status_code == 403
    assert client.get(DEAL_EXPORT_URL).status_code == 403
    assert not AuditLog.objects.filter(action=AuditLog.Action.EXPORT).exists()


# ---------------------------------------------------------------- deals


def test_deal_export_respects_scope_masks_mobiles_and_is_audited(
    login, consultant, outsider, book, make_unit, project_b
):
    mine = make_unit(number="1801")
    theirs = make_unit(project=project_b, number="0901")
    create_deal(
        actor=consultant,
        customer=book["mine"],
        unit=mine,
        subscribed_on=date(2025, 3, 5),
        contracted_on=date(2025, 3, 9),
    )
    create_deal(actor=outsider, customer=book["other"], unit=theirs, subscribed_on=date(2025, 4, 1))

    response, rows = export(login(consultant), DEAL_EXPORT_URL)
    assert rows[1] == list(DEAL_EXPORT_HEADERS)
    assert column(rows, "客户姓名") == ["自己的"]
    assert column(rows, "手机号") == ["139****0001"]
    row = dict(zip(rows[1], rows[2], strict=True))
    assert (row["楼盘"], row["楼栋"], row["房号"], row["状态"]) == ("锦华苑", "1号楼", "1801", "有效")
    assert (row["认购日期"], row["签约日期"]) == (date(2025, 3, 5), date(2025, 3, 9))
    assert f"filename*=UTF-8''{quote('成交导出_')}" in response["Content-Disposition"]
    log = AuditLog.objects.get(action=AuditLog.Action.EXPORT)
    assert log.target_type == "customers.deal"
    assert (log.changes["count"], log.changes["unmasked"]) == (1, False)


def test_deal_export_filters_by_milestone(login, admin_user, book, make_unit):
    signed = make_unit(number="1801")
    waiting = make_unit(number="1802")
    create_deal(
        actor=admin_user,
        customer=book["mine"],
        unit=signed,
        subscribed_on=date(2025, 3, 5),
        contracted_on=date(2025, 3, 9),
    )
    create_deal(actor=admin_user, customer=book["team"], unit=waiting, subscribed_on=date(2025, 3, 5))
    _, rows = export(login(admin_user), DEAL_EXPORT_URL, milestone="awaiting_contract")
    assert column(rows, "客户姓名") == ["同组的"]
    assert column(rows, "手机号") == ["13900000002"]
    assert AuditLog.objects.get(action=AuditLog.Action.EXPORT).changes["filters"] == {"milestone": "awaiting_contract"}


# ---------------------------------------------------------------- no live formulas


def formulas(content):
    """The formulas in every sheet of a workbook (an inert text cell holds none)."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    return [
        formula
        for name in archive.namelist()
        if name.startswith("xl/worksheets/")
        for formula in re.findall(r"<f>(.*?)</f>", archive.read(name).decode())
    ]


def test_a_customer_named_like_a_formula_is_exported_as_text(login, admin_user, make_customer):
    make_customer('=HYPERLINK("http://x","y")', mobile="13900000009", notes="=1+1")
    content = response_bytes(login(admin_user).get(EXPORT_URL))
    assert formulas(content) == []
    rows = read_xlsx(content)
    assert column(rows, "姓名") == ['\'=HYPERLINK("http://x","y")']
    assert column(rows, "备注") == ["'=1+1"]
    assert column(rows, "手机号") == ["13900000009"]


def test_a_deal_of_such_a_customer_is_exported_as_text(login, admin_user, make_customer, make_unit):
    buyer = make_customer("@SUM(1+1)*cmd|' /C calc'!A0", mobile="13900000009")
    create_deal(actor=admin_user, customer=buyer, unit=make_unit(number="-1"), subscribed_on=date(2025, 3, 5))
    response = login(admin_user).get(DEAL_EXPORT_URL)
    content = response_bytes(response)
    assert formulas(content) == []
    rows = read_xlsx(content)
    assert column(rows, "客户姓名") == ["'@SUM(1+1)*cmd|' /C calc'!A0"]
    assert column(rows, "房号") == ["-1"]  # a unit number stays as it is
