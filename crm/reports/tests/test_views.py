"""The 报告 pages: scope, generation on demand, the author's text, Excel and PDF exports."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.core.models import AuditLog
from crm.reports import exporting, services
from crm.reports.models import Kind, ReportPack

from .conftest import MONDAY, SUNDAY, cst


def make(company: Any, project: Any, kind: str = Kind.WEEKLY, **kw: Any) -> ReportPack:
    return services.generate_pack(
        kind, company_id=company.pk, project=project, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20), **kw
    )


@pytest.fixture
def packs(company, project, project_b) -> dict[str, ReportPack]:
    return {"a": make(company, project), "b": make(company, project_b), "all": make(company, None)}


def listed(client: Any) -> list[str]:
    body = client.get(reverse("reports:pack_list")).content.decode()
    return [name for name in ("锦华苑", "滨江御府", "全部楼盘") if f"<td>{name}</td>" in body]


def test_each_role_sees_the_packs_of_its_scope(packs, login, service, director, manager, consultant):
    assert listed(login(service)) == ["锦华苑"]
    assert listed(login(director)) == ["锦华苑", "滨江御府"]
    assert listed(login(manager)) == ["锦华苑", "滨江御府", "全部楼盘"]
    assert login(consultant).get(reverse("reports:pack_list")).status_code == 403


def test_a_pack_outside_the_scope_is_a_404(packs, login, service_b, director):
    client = login(service_b)
    assert client.get(reverse("reports:pack_detail", args=[packs["a"].pk])).status_code == 404
    assert client.get(reverse("reports:pack_export_xlsx", args=[packs["a"].pk])).status_code == 404
    assert login(director).get(reverse("reports:pack_detail", args=[packs["all"].pk])).status_code == 404


def test_generate_on_demand_for_any_week(week_data, login, service, project):
    client = login(service)
    response = client.post(
        reverse("reports:pack_generate"), {"kind": Kind.WEEKLY, "scope": str(project.pk), "day": "2026-09-23"}
    )
    pack = ReportPack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:pack_detail", args=[pack.pk])
    assert (pack.period_start, pack.period_end, pack.author) == (MONDAY, SUNDAY, service)
    page = client.get(response["Location"]).content.decode()
    assert "1. 本周礼品发放情况" in page
    assert "9. 客户面访情况记录" in page


def test_a_project_specialist_cannot_generate_for_all_projects(login, service, project_b):
    client = login(service)
    response = client.post(reverse("reports:pack_generate"), {"kind": Kind.WEEKLY, "scope": "all", "day": "2026-09-23"})
    assert response.status_code == 200
    response = client.post(
        reverse("reports:pack_generate"), {"kind": Kind.WEEKLY, "scope": str(project_b.pk), "day": "2026-09-23"}
    )
    assert response.status_code == 200
    assert not ReportPack.objects.exists()


def test_monthly_generation_takes_the_calendar_month(login, analyst):
    login(analyst).post(reverse("reports:pack_generate"), {"kind": Kind.MONTHLY, "scope": "all", "day": "2026-02-14"})
    pack = ReportPack.objects.get()
    assert (str(pack.period_start), str(pack.period_end), pack.project) == ("2026-02-01", "2026-02-28", None)


def test_the_author_saves_then_submits_and_the_pack_locks(packs, login, service):
    client = login(service)
    url = reverse("reports:pack_detail", args=[packs["a"].pk])
    client.post(url, {"summary": "本周回访2户", "next_focus": "跟进渗水", "action": "save"})
    packs["a"].refresh_from_db()
    assert (packs["a"].summary, packs["a"].status) == ("本周回访2户", "draft")
    client.post(url, {"summary": "本周回访2户", "next_focus": "跟进渗水", "action": "submit"})
    packs["a"].refresh_from_db()
    assert packs["a"].status == "submitted"
    client.post(url, {"summary": "改掉", "next_focus": "", "action": "save"})
    packs["a"].refresh_from_db()
    assert packs["a"].summary == "本周回访2户"
    page = client.get(url).content.decode()
    assert 'id="text-form"' not in page
    assert "跟进渗水" in page


def test_the_forms_label_their_fields_without_an_english_colon(packs, login, service):
    """The author's text and the generate form use the project's field markup: a label, then the box."""
    client = login(service)
    page = client.get(reverse("reports:pack_detail", args=[packs["a"].pk])).content.decode()
    assert 'data-field="summary"' in page
    assert 'data-field="next_focus"' in page
    generate = client.get(reverse("reports:pack_generate")).content.decode()
    for body in (page, generate):
        assert ":</label>" not in body
    assert '<label for="id_day">期间内任一天<span class="req"' in generate


def test_excel_export_has_one_sheet_per_section_and_is_audited(week_data, packs, login, manager):
    pack = packs["a"]
    response = login(manager).get(reverse("reports:pack_export_xlsx", args=[pack.pk]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames[0] == "封面"
    assert len(workbook.sheetnames) == 1 + len(pack.data["sections"])
    assert "1. 本周礼品发放情况" in workbook.sheetnames
    gifts = workbook["1. 本周礼品发放情况"]
    values = [tuple(c.value for c in row) for row in gifts.iter_rows()]
    assert ("礼品", "场合", "发放次数", "数量", "单位") in [v[:5] for v in values]
    assert ("定制雨伞", "认购礼品", 2, 3, "把") in [v[:5] for v in values]
    assert AuditLog.objects.filter(action="export", target_type="reports.reportpack", target_id=str(pack.pk)).exists()


def test_pdf_export_contains_the_chinese_section_titles(week_data, packs, login, manager):
    from pypdf import PdfReader

    pack = packs["a"]
    response = login(manager).get(reverse("reports:pack_export_pdf", args=[pack.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    text = "".join(page.extract_text() for page in reader.pages)
    for title in ("本周礼品发放情况", "本周客户投诉情况汇报", "客户面访情况记录", "本周认购、签约客户台帐"):
        assert title in text
    assert AuditLog.objects.filter(summary__startswith="导出报告 PDF").count() == 1


def test_pdf_falls_back_to_the_builtin_cid_font(packs, manager, monkeypatch):
    monkeypatch.setattr(exporting, "TRUETYPE_CANDIDATES", ("/nonexistent.ttf",))
    from reportlab.pdfbase import pdfmetrics

    registered = pdfmetrics.getRegisteredFontNames()
    if exporting.EMBEDDED_FONT not in registered:
        assert exporting.chinese_font() == exporting.CID_FONT
    content = exporting.render_pdf(packs["a"], manager, now=cst(9, 28), font=exporting.CID_FONT)
    assert content.startswith(b"%PDF")
    assert b"STSong-Light" in content


def test_only_exporters_export(packs, login, make_staff, project):
    from crm.accounts.roles import Role

    duty = make_staff("duty", Role.DUTY, projects=(project,))
    assert login(duty).get(reverse("reports:pack_export_pdf", args=[packs["a"].pk])).status_code == 403


def test_workbench_card_counts_the_drafts_waiting_for_my_summary(packs, service):
    from datetime import date

    from crm.reports.cards import workbench_cards

    cards = workbench_cards(service, today=date(2026, 9, 28))
    assert cards[0].stats[0].value == 1
    services.submit_pack(packs["a"], actor=service, summary="总结", next_focus="", now=cst(9, 28))
    assert workbench_cards(service, today=date(2026, 9, 28))[0].stats[0].value == 0


@pytest.mark.parametrize("kind", list(Kind))
def test_the_detail_page_of_every_kind_shows_its_sections(week_data, company, project, login, director, kind):
    pack = services.generate_pack(
        kind, company_id=company.pk, project=project, first=MONDAY, last=SUNDAY, now=cst(9, 27, 20)
    )
    page = login(director).get(reverse("reports:pack_detail", args=[pack.pk])).content.decode()
    assert pack.data["sections"]
    for section in pack.data["sections"]:
        assert section["title"] in page
