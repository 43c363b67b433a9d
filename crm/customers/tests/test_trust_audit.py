"""The audit log protects and reads well: company and role scope, masking at write time
and on display, logins, failures, permission changes, erasures, retention, filters by
name and staff, and its Excel export (itself audited)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from crm.accounts.models import Company
from crm.accounts.roles import Role, group_name
from crm.accounts.services import create_staff
from crm.core import audit
from crm.core.audit_display import describe
from crm.core.jobs import purge_old_audit_rows
from crm.core.models import AuditLog
from crm.customers import services
from crm.customers.models import Channel
from crm.customers.tests.excel import read_xlsx, response_bytes
from crm.projects.models import Project

AUDIT = reverse("audit_log")
PASSWORD = "Zz-trust-test-2026"


@pytest.fixture
def other_company(db):
    company = Company.objects.create(name="第二置业")
    project = Project.objects.create(company=company, name="二号盘", code="EHP", city="洛阳")
    supervisor = create_staff(
        "sup2", company=company, roles=[Role.SUPERVISOR], password=PASSWORD, display_name="孙主管"
    )
    consultant = create_staff(
        "con2", company=company, roles=[Role.CONSULTANT], password=PASSWORD, projects=[project], display_name="钱顾问"
    )
    other = services.create_customer(
        actor=consultant, name="赵二", mobile="13700001111", source_channel=Channel.VISIT, project_id=project.pk
    )
    return {"company": company, "supervisor": supervisor, "consultant": consultant, "customer": other}


def lines_on_page(response) -> list[str]:
    return [line.text for line in response.context["lines"]]


# ---------------------------------------------------------------- scope


def test_a_second_companys_supervisor_sees_none_of_the_first_companys_rows(login, customer, other_company):
    response = login(other_company["supervisor"]).get(AUDIT)
    assert response.status_code == 200
    body = response.content.decode()
    assert "张三" not in body
    assert {line.row.company_id for line in response.context["lines"]} == {other_company["company"].pk}
    texts = lines_on_page(response)
    assert texts  # its own company's rows are there
    assert any("赵二" in text for text in texts)
    assert "员工 孙主管 · 孙主管 登录" in texts


def test_every_row_records_its_company(customer, other_company):
    assert set(AuditLog.objects.filter(customer_id=customer.pk).values_list("company_id", flat=True)) == {
        customer.company_id
    }
    other = other_company["customer"]
    assert AuditLog.objects.get(customer_id=other.pk).company_id == other_company["company"].pk


def test_a_director_reads_only_rows_of_customers_in_scope(
    login, director, customer, make_customer, outsider, project_b
):
    director.projects.set([customer.project])  # not project_b
    make_customer("外盘客户", owner=outsider, project=project_b)
    director.user_permissions.add(
        *Group.objects.get(name=group_name(Role.SUPERVISOR)).permissions.filter(codename="view_audit")
    )
    texts = " ".join(lines_on_page(login(director).get(AUDIT)))
    assert "张三" in texts
    assert "外盘客户" not in texts


def test_security_rows_are_only_for_supervisors_and_administrators(login, make_staff, supervisor, consultant, client):
    client.post(reverse("login"), {"username": "consultant", "password": "wrong"})
    management = make_staff("boss", Role.MANAGEMENT, display_name="钱总")
    assert not login(management).get(AUDIT, {"action": "login_failed"}).context["lines"]
    assert login(supervisor).get(AUDIT, {"action": "login_failed"}).context["lines"]


def test_consultants_cannot_open_the_audit_log(login, consultant):
    assert login(consultant).get(AUDIT).status_code == 403


def test_there_is_no_way_to_edit_or_delete_audit_rows(login, admin_user, customer):
    row = AuditLog.objects.filter(customer_id=customer.pk).first()
    client = login(admin_user)
    change = reverse("admin:core_auditlog_change", args=[row.pk])
    assert client.post(change, {"summary": "改掉"}).status_code == 403
    assert client.post(reverse("admin:core_auditlog_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.summary != "改掉"


# ---------------------------------------------------------------- masking


def test_a_changed_mobile_is_masked_in_the_stored_row_and_on_the_page(login, consultant, supervisor, customer):
    services.update_customer(customer, actor=consultant, mobile="13911112222")
    row = AuditLog.objects.get(action=AuditLog.Action.UPDATE, customer_id=customer.pk)
    assert "13812345678" not in str(row.changes)
    assert "13911112222" not in str(row.changes)
    assert row.changes["mobile"] == ["138****5678", "139****2222"]
    body = login(supervisor).get(AUDIT).content.decode()
    assert "13911112222" not in body
    assert "手机号: 138****5678 → 139****2222" in body


def test_rows_written_before_masking_are_masked_on_display(login, supervisor, customer):
    old = AuditLog.objects.create(
        action=AuditLog.Action.UPDATE,
        target_type="customers.customer",
        target_id=str(customer.pk),
        customer_id=customer.pk,
        company_id=customer.company_id,
        changes={"mobile": ["13812345678", "13911112222"]},
        summary="身份证 11010519491231002X",
    )
    body = login(supervisor).get(AUDIT).content.decode()
    assert "13911112222" not in body
    assert "11010519491231002X" not in body
    line = describe([old])[0]
    assert line.changes == ["手机号: 138****5678 → 139****2222"]


def test_redact_masks_mobiles_with_prefixes_and_id_numbers_but_not_customer_numbers():
    text = audit.redact("+86 13812345678 / 008613912345678 / 11010519491231002x / KH00002101 / 2026-12-06")
    assert text == "138****5678 / 139****5678 / 1101**********002X / KH00002101 / 2026-12-06"


def test_a_search_filter_with_a_full_mobile_is_never_stored(customer, consultant):
    audit.log(AuditLog.Action.EXPORT, actor=consultant, changes={"filters": {"q": "13812345678"}})
    assert "13812345678" not in str(AuditLog.objects.latest("pk").changes)


# ---------------------------------------------------------------- reads in Chinese


def test_a_deal_change_reads_as_customer_field_old_and_new(customer, consultant, make_unit, login, supervisor):
    deal = services.create_deal(actor=consultant, customer=customer, unit=make_unit(), subscribed_on=date(2026, 11, 1))
    services.update_deal(
        deal,
        actor=consultant,
        contracted_on=date(2026, 11, 5),
        delivered_on=date(2026, 12, 1),
        moved_in_on=date(2026, 12, 6),
        move_in_kind="individual",
    )
    row = AuditLog.objects.filter(action=AuditLog.Action.UPDATE, target_type="customers.deal").latest("pk")
    text = describe([row])[0].text
    assert text.startswith(f"客户 张三（{customer.number}）")
    assert "入住日期: 空 → 2026-12-06" in text
    assert "入住方式: 空 → 零星入住" in text
    body = login(supervisor).get(AUDIT).content.decode()
    assert "customers.deal#" not in body
    assert "moved_in_on" not in body


def test_an_owner_change_names_the_consultants(customer, consultant, teammate):
    services.update_customer(customer, actor=consultant, owner_id=teammate.pk)
    row = AuditLog.objects.filter(action=AuditLog.Action.UPDATE).latest("pk")
    assert "置业顾问: 王顾问 → 李同组" in describe([row])[0].changes


# ---------------------------------------------------------------- what is recorded


def test_logins_and_failed_logins_are_recorded_with_the_company(client, consultant):
    client.post(reverse("login"), {"username": "consultant", "password": "wrong-one"})
    failed = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED)
    assert failed.company_id == consultant.company_id
    assert failed.actor_id is None
    assert "consultant" in failed.summary
    client.post(reverse("login"), {"username": "consultant", "password": "Zz-wrong"})
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED).count() == 2


def test_a_failed_login_typed_as_a_mobile_is_masked(client, db):
    client.post(reverse("login"), {"username": "13812345678", "password": "x"})
    row = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED)
    assert "13812345678" not in row.summary + row.target_label
    assert row.company_id is None


def test_a_role_change_in_the_admin_is_recorded(login, admin_user, consultant):
    client = login(admin_user)
    url = reverse("admin:accounts_user_change", args=[consultant.pk])
    page = client.get(url)
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data.update(
        username="consultant",
        groups=[Group.objects.get(name=group_name(Role.TEAM_LEADER)).pk],
        projects=[p.pk for p in consultant.projects.all()],
        user_permissions=[],
        company=consultant.company_id,
        team=consultant.team_id or "",
        department=consultant.department_id or "",
        is_active="on",
        date_joined_0=timezone.localtime(consultant.date_joined).strftime("%Y-%m-%d"),
        date_joined_1=timezone.localtime(consultant.date_joined).strftime("%H:%M:%S"),
        last_login_0="",
        last_login_1="",
    )
    for key in ("password", "last_login", "date_joined", "is_staff", "is_superuser"):
        data.pop(key, None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    row = AuditLog.objects.get(action=AuditLog.Action.PERMISSION)
    assert row.actor_id == admin_user.pk
    assert row.company_id == consultant.company_id
    assert row.changes["groups"] == ["置业顾问", "销售组长"]
    assert "角色: 置业顾问 → 销售组长" in describe([row])[0].changes


def test_an_erasure_is_recorded_with_the_label_it_had(consultant, customer):
    label = audit.label_of(customer)
    row = audit.record_erasure(
        actor=consultant,
        company_id=customer.company_id,
        target_type="customers.customer",
        target_id=customer.pk,
        target_label=label,
        customer_id=customer.pk,
        reason="客户申请删除 13812345678",
    )
    assert row.action == AuditLog.Action.ERASE
    assert row.target_label == f"客户 张三（{customer.number}）"
    assert "13812345678" not in row.reason
    assert describe([row])[0].label == row.target_label


def test_reveals_exports_and_imports_are_actions_of_their_own():
    assert {"reveal", "export", "import", "login", "login_failed", "permission", "erase"} <= set(AuditLog.Action.values)


# ---------------------------------------------------------------- retention


def test_the_purge_never_deletes_rows_younger_than_six_months(customer, settings):
    settings.AUDIT_RETENTION_DAYS = 30  # below the floor: raised to 183
    now = timezone.now()
    young = AuditLog.objects.create(action="update", target_type="x", company_id=customer.company_id)
    old = AuditLog.objects.create(action="update", target_type="x", company_id=customer.company_id)
    AuditLog.objects.filter(pk=young.pk).update(at=now - timedelta(days=150))
    AuditLog.objects.filter(pk=old.pk).update(at=now - timedelta(days=200))
    assert purge_old_audit_rows(now=now) == 1
    assert AuditLog.objects.filter(pk=young.pk).exists()
    assert not AuditLog.objects.filter(pk=old.pk).exists()
    assert AuditLog.objects.filter(action="delete", target_type="core.auditlog").exists()
    assert purge_old_audit_rows(now=now) == 0


def test_the_purge_keeps_rows_within_a_longer_retention(customer, settings):
    settings.AUDIT_RETENTION_DAYS = 400
    now = timezone.now()
    row = AuditLog.objects.create(action="update", target_type="x")
    AuditLog.objects.filter(pk=row.pk).update(at=now - timedelta(days=300))
    assert purge_old_audit_rows(now=now) == 0


# ---------------------------------------------------------------- filters and export


def test_filters_by_customer_name_or_number_and_by_staff(login, supervisor, make_customer, teammate, customer):
    make_customer("李四", owner=teammate)
    client = login(supervisor)
    assert all("张三" in t for t in lines_on_page(client.get(AUDIT, {"customer": "张"})))
    by_number = lines_on_page(client.get(AUDIT, {"customer": customer.number}))
    assert by_number
    assert all(customer.number in t for t in by_number)
    by_staff = client.get(AUDIT, {"staff": "李同组"}).context["lines"]
    assert by_staff
    assert all(line.row.actor_id == teammate.pk for line in by_staff)
    assert not client.get(AUDIT, {"customer": "不存在的人"}).context["lines"]


def test_a_reversed_date_range_is_a_chinese_error(login, supervisor, customer):
    response = login(supervisor).get(AUDIT, {"start": "2026-12-06", "end": "2026-12-01"})
    assert "截止日期不能早于起始日期" in response.content.decode()


def test_the_filtered_log_exports_to_excel_masked_and_the_export_is_audited(login, supervisor, consultant, customer):
    services.update_customer(customer, actor=consultant, mobile="13911112222")
    response = login(supervisor).get(AUDIT, {"customer": "张三", "download": "xlsx"})
    assert response.status_code == 200
    rows = read_xlsx(response_bytes(response))
    text = str(rows)
    assert "13911112222" not in text
    assert "139****2222" in text
    assert rows[1][:4] == ["时间", "操作人", "操作", "对象"]
    export_row = AuditLog.objects.filter(action=AuditLog.Action.EXPORT, target_type="core.auditlog").get()
    assert export_row.actor_id == supervisor.pk
    assert export_row.changes["filters"] == {"customer": "张三"}
    assert export_row.changes["count"] == len(rows) - 2


def test_an_import_row_reads_as_the_import_not_as_an_internal_id(consultant):
    row = audit.log(
        AuditLog.Action.IMPORT,
        actor=consultant,
        target_type="customers.customer",
        target_id="abc123token",
        summary="Excel导入客户资料 3 条（名单.xlsx）",
        changes={"file": "名单.xlsx", "imported": 3, "only_valid": True},
    )
    line = describe([row])[0]
    assert line.label == "客户"
    assert line.changes == ["文件: 名单.xlsx", "导入: 3", "仅导入有效行: 是"]
    assert row.company_id == consultant.company_id


def test_a_consultant_who_is_also_supervisor_reads_the_whole_company(
    login, make_staff, teams, project, make_customer, outsider, project_b
):
    both = make_staff("both", Role.CONSULTANT, Role.SUPERVISOR, team=teams[0], projects=(project,))
    make_customer("外组客户", owner=outsider, project=project_b)
    texts = " ".join(lines_on_page(login(both).get(AUDIT)))
    assert "外组客户" in texts


def test_a_consultant_who_is_also_a_director_reads_only_their_scope(
    login, make_staff, teams, project, make_customer, outsider, project_b
):
    both = make_staff("both", Role.CONSULTANT, Role.DIRECTOR, team=teams[0], projects=(project,))
    both.user_permissions.add(
        *Group.objects.get(name=group_name(Role.SUPERVISOR)).permissions.filter(codename="view_audit")
    )
    mine = make_customer("自己的客户", owner=both)
    make_customer("外组客户", owner=outsider, project=project_b)
    texts = " ".join(lines_on_page(login(both).get(AUDIT)))
    assert mine.name in texts
    assert "外组客户" not in texts
