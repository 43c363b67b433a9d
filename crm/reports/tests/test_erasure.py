"""An erasure reaches the report snapshots: the customer's number, name and mobile leave
every pack, submitted ones too; other customers' rows stay; the pack records the change."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.complaints.models import Complaint
from crm.core.models import AuditLog
from crm.privacy import erasure
from crm.privacy.erasure import REMOVED
from crm.privacy.models import ErasureRecord
from crm.reports import exporting, services
from crm.reports.building import ERASED_NUMBER
from crm.reports.erasure import erase_from_snapshot, needles_for
from crm.reports.models import Kind, ReportPack

from .conftest import MONDAY, SUNDAY, cst
from .test_api import api

ERASED_AT = cst(11, 16)
MOBILE = "13812345678"
MASKED = "138****5678"


def everything(pack: ReportPack) -> str:
    return json.dumps(pack.data, ensure_ascii=False) + pack.summary + pack.next_focus


def rows_with(pack: ReportPack, value: str) -> list[list[Any]]:
    return [
        row for section in pack.data["sections"] for table in section["tables"] for row in table["rows"] if value in row
    ]


@pytest.fixture
def packs(week_data, company, project, service) -> dict[str, ReportPack]:
    """The week's pack, submitted, with a complaint quoting 张三 and an author's summary
    naming him; September's monthly pack, a draft."""
    Complaint.objects.filter(pk=week_data["complaint"].pk).update(
        content=f"业主张三（{MOBILE}）反映售楼处接待人员态度冷淡"
    )
    weekly = services.generate_pack(
        Kind.WEEKLY, company_id=company.pk, project=project, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20)
    )
    weekly = services.submit_pack(
        weekly,
        actor=service,
        summary="本周认购1套、签约1套；张三对接待不满，已致歉",
        next_focus="跟进李四的交房准备",
        now=cst(9, 28, 9),
    )
    monthly = services.generate_pack(
        Kind.MONTHLY,
        company_id=company.pk,
        project=project,
        first=MONDAY.replace(day=1),
        last=MONDAY.replace(day=30),
        now=cst(10, 1, 9),
    )
    return {"weekly": weekly, "monthly": monthly}


def test_the_snapshot_holds_the_customer_before_the_erasure(week_data, packs):
    weekly = packs["weekly"]
    zhang = week_data["zhang"]
    text = everything(weekly)
    assert zhang.number in text
    assert "张三" in text  # the complaint's content and the author's summary
    assert MASKED in text  # the visit's opinion, masked when the pack was built
    assert [r for r in rows_with(weekly, zhang.number) if "张*" in r]


def test_erasure_removes_the_customer_from_every_pack_and_keeps_the_others(week_data, packs, director):
    zhang, li = week_data["zhang"], week_data["li"]
    weekly_li_rows = rows_with(packs["weekly"], li.number)
    complaint_number = week_data["complaint"].number
    assert weekly_li_rows

    outcome = erasure.anonymise_customer(zhang, actor=director, reason="客户申请", now=ERASED_AT)

    for pack in ReportPack.objects.filter(pk__in=[p.pk for p in packs.values()]):
        text = everything(pack)
        for trace in (zhang.number, "张三", "张*", MOBILE, MASKED):
            assert trace not in text, (pack.kind, trace)
        assert ERASED_NUMBER in text
        assert pack.erasure_count == 1
        assert pack.erased_at == ERASED_AT
    weekly = ReportPack.objects.get(pk=packs["weekly"].pk)
    assert weekly.status == ReportPack.Status.SUBMITTED
    assert weekly.submitted_at == cst(9, 28, 9)
    # Other customers' rows are as they were; the complaint row stays with its number.
    assert rows_with(weekly, li.number) == weekly_li_rows
    (complaint_row,) = rows_with(weekly, complaint_number)
    assert REMOVED in complaint_row
    assert weekly.summary == REMOVED
    assert weekly.next_focus == "跟进李四的交房准备"
    # The ledger counts the packs; the packs' audit rows name nobody.
    assert outcome.record.rows["reports.reportpack"] == 2
    pack_rows = AuditLog.objects.filter(target_type="reports.reportpack", summary__startswith="删除客户个人信息")
    assert pack_rows.count() == 2
    for row in pack_rows:
        assert row.customer_id is None
        assert zhang.number not in row.summary + row.target_label


def test_a_pack_generated_after_the_erasure_holds_no_trace_either(week_data, packs, director, company, project):
    zhang, li = week_data["zhang"], week_data["li"]
    erasure.anonymise_customer(zhang, actor=director, reason="客户申请", now=ERASED_AT)

    # The monthly draft is generated again in place; the week's submitted pack gets a version 2.
    monthly = packs["monthly"]
    again = services.generate_pack(
        Kind.MONTHLY,
        company_id=company.pk,
        project=project,
        first=monthly.period_start,
        last=monthly.period_end,
        now=cst(11, 17),
    )
    assert again.pk == monthly.pk
    text = everything(again)
    for trace in (zhang.number, "张三", "张*", MOBILE, MASKED):
        assert trace not in text, trace
    assert ERASED_NUMBER in text
    assert li.number in text


def test_a_second_erasure_changes_nothing_more(week_data, packs, director):
    zhang = week_data["zhang"]
    needles = needles_for(zhang.number, zhang.name, [MOBILE], [week_data["complaint"].number])
    erasure.anonymise_customer(zhang, actor=director, reason="客户申请", now=ERASED_AT)
    after = {p.pk: (p.data, p.summary, p.erasure_count, p.erased_at) for p in ReportPack.objects.all()}

    erasure.anonymise_customer(zhang, actor=director, reason="再次申请", now=cst(11, 20))
    zhang.refresh_from_db()
    # The reports' eraser itself, run again with what it found the first time.
    assert (
        erasure.registered_erasers()["reports.reportpack"](
            erasure.Subject(zhang, [], {}), actor=director, now=cst(11, 21)
        )
        == 0
    )
    for pack in ReportPack.objects.all():
        assert not erase_from_snapshot(copy.deepcopy(pack.data), needles)
    assert {p.pk: (p.data, p.summary, p.erasure_count, p.erased_at) for p in ReportPack.objects.all()} == after
    assert ErasureRecord.objects.filter(customer_pk=zhang.pk).count() == 1


def test_the_page_and_exports_after_an_erasure_show_no_trace_of_the_customer(
    week_data, packs, director, manager, login
):
    from pypdf import PdfReader

    zhang = week_data["zhang"]
    erasure.anonymise_customer(zhang, actor=director, reason="客户申请", now=ERASED_AT)
    pack = ReportPack.objects.get(pk=packs["weekly"].pk)

    export = exporting.export_excel(pack, manager, now=cst(11, 17))
    workbook = load_workbook(export.file)
    cells = [
        str(c.value) for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row if c.value is not None
    ]
    workbook.close()
    export.file.close()
    pdf = PdfReader(io.BytesIO(exporting.render_pdf(pack, manager, now=cst(11, 17))))
    pdf_text = "".join(page.extract_text() for page in pdf.pages)
    for text in ("\n".join(cells), pdf_text):
        for trace in (zhang.number, "张三", "张*", MOBILE, MASKED):
            assert trace not in text, trace
        assert ERASED_NUMBER in text
        assert "应客户个人信息删除要求修改 1 次" in text
    assert week_data["li"].number in pdf_text
    detail = api(manager).get(f"/api/reports/{pack.pk}/").json()
    assert (detail["erasure_count"], detail["erased_at"][:16]) == (1, "2026-11-16T10:00")
    assert zhang.number not in json.dumps(detail, ensure_ascii=False)
    page = login(manager).get(reverse("reports:pack_detail", args=[pack.pk])).content.decode()
    assert "应客户个人信息删除要求修改 1 次" in page
    for trace in (zhang.number, "张三", "张*", MASKED):
        assert trace not in page, trace


def test_only_the_customers_rows_and_quotes_change_in_a_snapshot():
    data: dict[str, Any] = {
        "sections": [
            {
                "figures": [{"label": "巡查人", "value": "刘客服", "unit": ""}],
                "tables": [
                    {
                        "columns": ["客户编号", "客户", "客户意见"],
                        "rows": [
                            ["KH0001", "张*", "很满意"],
                            ["KH00012", "张*", "张三的邻居，满意"],
                            ["KH0002", "李*", f"同意，回电 {MASKED}"],
                            ["KH0003", "王*", "一般"],
                        ],
                    },
                    {"columns": ["投诉编号", "投诉内容"], "rows": [["TS1", "漏水"], ["TS2", "噪音"]]},
                ],
            }
        ]
    }
    needles = needles_for("KH0001", "张三", [MOBILE], ["TS1"])

    assert erase_from_snapshot(data, needles)

    first, second = data["sections"][0]["tables"]
    assert first["rows"] == [
        [ERASED_NUMBER, REMOVED, REMOVED],
        # Another customer whose masked name is the same: only the text quoting 张三 goes.
        ["KH00012", "张*", REMOVED],
        ["KH0002", "李*", REMOVED],
        ["KH0003", "王*", "一般"],
    ]
    assert second["rows"] == [["TS1", REMOVED], ["TS2", "噪音"]]
    assert data["sections"][0]["figures"][0]["value"] == "刘客服"
    assert not erase_from_snapshot(data, needles)
