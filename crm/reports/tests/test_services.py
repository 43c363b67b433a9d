"""Generation, versions, the author's text and the immutability of a submitted pack."""

from __future__ import annotations

from typing import Any

import pytest

from crm.core.errors import DomainError
from crm.core.models import AuditLog
from crm.reports import services
from crm.reports.models import Kind, ReportPack
from crm.service.models import GiftIssue

from .conftest import MONDAY, SUNDAY, cst


def gift_quantity(pack: ReportPack) -> Any:
    section = next(s for s in pack.data["sections"] if s["key"] == "gifts")
    return {f["label"]: f["value"] for f in section["figures"]}["发放数量"]


def generate(company: Any, project: Any, **kw: Any) -> ReportPack:
    return services.generate_pack(
        Kind.WEEKLY,
        company_id=company.pk,
        project=project,
        first=MONDAY,
        last=SUNDAY,
        now=kw.pop("now", cst(9, 27, 20)),
        **kw,
    )


def test_regenerating_a_draft_replaces_it_and_keeps_the_authors_text(week_data, company, project, service):
    pack = generate(company, project, actor=service)
    services.save_text(pack, actor=service, summary="本周完成回访", next_focus="")
    GiftIssue.objects.filter(quantity=2).update(quantity=4)
    again = generate(company, project, actor=service, now=cst(9, 28, 9))
    assert again.pk == pack.pk
    assert again.version == 1
    assert gift_quantity(again) == 5
    assert again.summary == "本周完成回访"
    assert ReportPack.objects.count() == 1


def test_a_submitted_pack_keeps_its_numbers_when_the_data_changes(week_data, company, project, service):
    pack = generate(company, project, actor=service)
    services.submit_pack(pack, actor=service, summary="总结", next_focus="下周重点", now=cst(9, 27, 21))
    GiftIssue.objects.filter(quantity=2).update(quantity=40)
    pack.refresh_from_db()
    assert gift_quantity(pack) == 3
    new = generate(company, project, actor=service, now=cst(9, 28, 9))
    assert (new.version, new.status) == (2, ReportPack.Status.DRAFT)
    assert gift_quantity(new) == 41
    pack.refresh_from_db()
    assert (pack.status, gift_quantity(pack), pack.summary) == (ReportPack.Status.SUBMITTED, 3, "总结")


def test_regenerating_over_unchanged_data_gives_the_same_numbers_as_the_submitted_version(
    week_data, company, project, service
):
    first = generate(company, project, actor=service)
    services.submit_pack(first, actor=service, summary="总结", next_focus="", now=cst(9, 27, 21))
    second = generate(company, project, actor=service, now=cst(10, 3, 9))
    assert second.version == 2
    assert second.data == first.data


def test_a_submitted_pack_refuses_new_text_and_a_second_submission(company, project, service):
    pack = generate(company, project, actor=service)
    services.submit_pack(pack, actor=service, summary="总结", next_focus="", now=cst(9, 27, 21))
    with pytest.raises(DomainError, match="已提交"):
        services.save_text(pack, actor=service, summary="改", next_focus="")
    with pytest.raises(DomainError, match="已提交"):
        services.submit_pack(pack, actor=service, summary="改", next_focus="", now=cst(9, 28))
    pack.refresh_from_db()
    assert pack.summary == "总结"


def test_a_weekly_pack_needs_its_summary_to_be_submitted(company, project, service):
    pack = generate(company, project, actor=service)
    with pytest.raises(DomainError, match="本周工作总结"):
        services.submit_pack(pack, actor=service, summary="  ", next_focus="", now=cst(9, 27, 21))
    pack.refresh_from_db()
    assert pack.status == ReportPack.Status.DRAFT


def test_generation_and_submission_are_audited(company, project, service):
    pack = generate(company, project, actor=service)
    services.submit_pack(pack, actor=service, summary="总结", next_focus="", now=cst(9, 27, 21))
    summaries = list(AuditLog.objects.filter(target_type="reports.reportpack").values_list("summary", flat=True))
    assert "生成周报（第1版）" in summaries
    assert "提交报告" in summaries


def test_packs_of_all_projects_and_of_one_project_are_separate(company, project):
    generate(company, project)
    generate(company, None)
    generate(company, None)
    assert ReportPack.objects.filter(project__isnull=True).count() == 1
    assert ReportPack.objects.count() == 2
