"""Excel import: every bad row reported by line and reason; nothing half-done."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.accounts.roles import Role
from crm.core.models import AuditLog, Counter
from crm.customers import importing
from crm.customers.importing import validating, writing
from crm.customers.models import (
    ConsentRecord,
    Customer,
    CustomerProfile,
    Deal,
    ImportJob,
    Stage,
    Tag,
    TimelineEvent,
)
from crm.customers.tests.excel import (
    CUSTOMER_HEADERS,
    DEAL_HEADERS,
    build_xlsx,
    customer_row,
    deal_row,
    read_xlsx,
    response_bytes,
    sheet_names,
)
from crm.lib.mobile import InvalidMobile, normalize_mobile
from crm.projects.models import Unit

IMPORT_URL = reverse("customers:import")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def mobile_error(raw):
    with pytest.raises(InvalidMobile) as info:
        normalize_mobile(raw)
    return info.value.message


def validate(tmp_path, user, rows, *, kind=importing.CUSTOMERS, headers=None, above=()):
    headers = headers or (CUSTOMER_HEADERS if kind == importing.CUSTOMERS else DEAL_HEADERS)
    path = tmp_path / "upload.xlsx"
    path.write_bytes(build_xlsx(rows, headers, above=above))
    return importing.validate_file(path, kind, user=user, filename="upload.xlsx")


def errors_of(validation):
    return [(e.line, e.field, e.message) for e in validation.report.errors]


def upload(client, content, *, name="客户.xlsx", kind="customers"):
    return client.post(IMPORT_URL, {"kind": kind, "file": SimpleUploadedFile(name, content)})


def uploaded_files(media):
    folder = Path(media) / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------- validation of customer rows


def test_every_bad_customer_row_is_reported_with_its_excel_line_and_reason(tmp_path, consultant, customer, project):
    rows = [
        customer_row(姓名="好客户", 手机号="13900000001"),  # line 2
        customer_row(姓名="坏号码", 手机号="1234"),  # line 3
        customer_row(姓名="文件内重复", 手机号="139 0000 0001"),  # line 4
        customer_row(姓名="库里已有", 手机号="13812345678"),  # line 5
        customer_row(姓名="未知楼盘", 手机号="13900000005", 意向楼盘="不存在的楼盘"),  # line 6
        customer_row(姓名="未知顾问", 手机号="13900000006", 置业顾问="nobody"),  # line 7
        customer_row(姓名="坏日期", 手机号="13900000007", 生日="2026-13-45"),  # line 8
        customer_row(姓名=None, 手机号="13900000008"),  # line 9
        customer_row(姓名="坏阶段", 手机号="13900000009", 客户阶段="很想买"),  # line 10
        customer_row(姓名="坏等级", 手机号="13900000010", 客户等级="D"),  # line 11
        customer_row(姓名="坏渠道", 手机号="13900000011", 来源渠道="抖音"),  # line 12
        customer_row(姓名="没渠道", 手机号="13900000012", 来源渠道=None),  # line 13
    ]
    validation = validate(tmp_path, consultant, rows)

    assert errors_of(validation) == [
        (3, "手机号", mobile_error("1234")),
        (4, "手机号", "手机号 13900000001 与第 2 行重复"),
        (5, "手机号", f"手机号已存在：客户 张三（{customer.number}），不能重复登记"),
        (6, "意向楼盘", "楼盘不存在：不存在的楼盘（请填写本公司楼盘的名称或编码）"),
        (7, "置业顾问", "置业顾问不存在：nobody（请填写本公司在职员工的用户名或姓名）"),
        (8, "生日", "2026-13-45 不是有效日期"),
        (9, "姓名", "姓名不能为空"),
        (10, "客户阶段", "无法识别：很想买（可填：潜在客户、意向客户、成交客户）"),
        (11, "客户等级", "无法识别：D（可填：A、B、C）"),
        (
            12,
            "来源渠道",
            "无法识别：抖音（可填：来电、来访、官网、微信公众号、合作平台、售楼处登记、活动现场、老带新）",
        ),
        (13, "来源渠道", "来源渠道不能为空"),
    ]
    report = validation.report
    assert (report.total, report.valid, report.invalid) == (12, 1, 11)
    assert [row.line for row in validation.rows] == [2]


def test_a_duplicate_of_a_backup_mobile_in_the_database_is_reported(tmp_path, consultant, make_customer):
    make_customer("王五", mobile="13900000020", mobile2="13900000021")
    validation = validate(tmp_path, consultant, [customer_row(手机号="13900000021")])
    assert errors_of(validation) == [(2, "手机号", "手机号已存在：客户 王五（KH00000001），不能重复登记")]


def test_a_backup_mobile_repeating_an_earlier_line_is_a_duplicate(tmp_path, consultant):
    rows = [customer_row(手机号="13900000001"), customer_row(手机号="13900000002", 备用手机号="13900000001")]
    validation = validate(tmp_path, consultant, rows)
    assert errors_of(validation) == [(3, "备用手机号", "手机号 13900000001 与第 2 行重复")]


def test_a_duplicate_of_another_teams_customer_does_not_reveal_whose_it_is(
    tmp_path, consultant, outsider, make_customer, project_b
):
    make_customer("外组客户", owner=outsider, project=project_b, mobile="13900000030")
    validation = validate(tmp_path, consultant, [customer_row(手机号="13900000030")])
    [(line, field, message)] = errors_of(validation)
    assert (line, field) == (2, "手机号")
    assert "外组客户" not in message
    assert "KH" not in message
    assert message == "手机号 139****0030 已存在，请联系主管"


def test_a_merged_duplicate_points_at_the_record_that_stays(tmp_path, admin_user, make_customer):
    from crm.customers.services import merge_customers

    target = make_customer("留下的", mobile="13900000040")
    source = make_customer("被合并的", mobile="13900000041")
    merge_customers(target, source, actor=admin_user)
    validation = validate(tmp_path, admin_user, [customer_row(手机号="13900000041")])
    assert errors_of(validation) == [(2, "手机号", f"手机号已存在：客户 留下的（{target.number}），不能重复登记")]

    final = make_customer("最终的", mobile="13900000042")
    merge_customers(final, target, actor=admin_user)
    validation = validate(tmp_path, admin_user, [customer_row(手机号="13900000041")])
    assert errors_of(validation) == [(2, "手机号", f"手机号已存在：客户 最终的（{final.number}），不能重复登记")]


@pytest.fixture(params=[None, 2], ids=["one-lookup", "chunks-of-2"])
def lookup_chunk(request, monkeypatch):
    """The mobile lookups as configured, and split into chunks of two numbers."""
    if request.param:
        monkeypatch.setattr(validating, "MOBILE_ARRAY_CHUNK", request.param)
        monkeypatch.setattr(validating, "LOOKUP_CHUNK", request.param)
    return request.param


@pytest.fixture
def holders(admin_user, outsider, make_customer, project_b):
    """Customers holding numbers 13900000101-109 in every way a number can be taken."""
    from crm.customers.models import ArchiveReason
    from crm.customers.services import archive_customer, merge_customers

    found = {
        "both": make_customer("双号", mobile="13900000101", mobile2="13900000102"),
        "archived": make_customer("已归档", mobile="13900000103"),
        "stays": make_customer("留下的", mobile="13900000104", mobile2="13900000199"),
        "merged": make_customer("被合并的", mobile="13900000105"),
        "foreign": make_customer(
            "外组", owner=outsider, project=project_b, mobile="13900000106", mobile2="13900000107"
        ),
        "old": make_customer("旧档", mobile="13900000108"),
        "newer": make_customer("新档", mobile="13900000109"),
    }
    archive_customer(found["archived"], actor=admin_user, reason=ArchiveReason.LOST)
    # The stayer keeps its own backup mobile: the merged number is held by the merged record only.
    merge_customers(found["stays"], found["merged"], actor=admin_user)
    archive_customer(found["old"], actor=admin_user, reason=ArchiveReason.LOST)
    # Older data: an archived customer's number also a current customer's backup mobile.
    Customer.objects.filter(pk=found["newer"].pk).update(mobile2="13900000108")
    for customer in found.values():
        customer.refresh_from_db()
    return found


def taken(holder):
    state = "已归档客户" if holder.is_archived else "客户"
    return f"手机号已存在：{state} {holder.name}（{holder.number}），不能重复登记"


def hidden(masked):
    return f"手机号 {masked} 已存在，请联系主管"


def test_every_duplicate_is_reported_whichever_column_and_holder(tmp_path, consultant, holders, lookup_chunk):
    rows = [
        customer_row(手机号="13900000101"),  # 2 someone's main mobile
        customer_row(手机号="13900000201", 备用手机号="13900000102"),  # 3 someone's backup mobile
        customer_row(手机号="139 0000 0103"),  # 4 an archived customer's
        customer_row(手机号="13900000105"),  # 5 a merged record's: names the one that stays
        customer_row(手机号="13900000202", 备用手机号="13900000107"),  # 6 another team's customer
        customer_row(手机号="13900000108"),  # 7 archived main, current backup: the current one
        customer_row(手机号="13900000203"),  # 8 new
        customer_row(手机号="13900000204", 备用手机号="13900000203"),  # 9 repeats line 8
        customer_row(手机号="13900000106", 备用手机号="13900000199"),  # 10 both numbers taken
        customer_row(手机号="13900000205", 备用手机号="13900000206"),  # 11 new
    ]
    validation = validate(tmp_path, consultant, rows)
    assert errors_of(validation) == [
        (2, "手机号", taken(holders["both"])),
        (3, "备用手机号", taken(holders["both"])),
        (4, "手机号", taken(holders["archived"])),
        (5, "手机号", taken(holders["stays"])),
        (6, "备用手机号", hidden("139****0107")),
        (7, "手机号", taken(holders["newer"])),
        (9, "备用手机号", "手机号 13900000203 与第 8 行重复"),
        (10, "手机号", hidden("139****0106")),
        (10, "备用手机号", taken(holders["stays"])),
    ]
    assert [row.line for row in validation.rows] == [8, 11]


def test_the_confirm_step_finds_numbers_taken_since_validation(
    tmp_path, consultant, admin_user, make_customer, lookup_chunk
):
    from crm.customers.models import ArchiveReason
    from crm.customers.services import archive_customer

    numbers = [f"139000003{i:02d}" for i in range(1, 8)]
    validation = validate(
        tmp_path,
        consultant,
        [customer_row(手机号=numbers[i], 备用手机号=numbers[i + 1]) for i in range(0, 6, 2)]
        + [customer_row(手机号=numbers[6])],
    )
    assert not validation.report.errors
    main = make_customer("抢先登记", mobile=numbers[0])
    backup = make_customer("备用号", mobile="13900000399", mobile2=numbers[3])
    archived = archive_customer(make_customer("已归档", mobile=numbers[4]), actor=admin_user, reason=ArchiveReason.LOST)

    fresh = importing.recheck_customers(validation, user=consultant)
    assert errors_of(fresh) == [
        (2, "手机号", taken(main)),
        (3, "备用手机号", taken(backup)),
        (4, "手机号", taken(archived)),
    ]
    assert [row.line for row in fresh.rows] == [5]


def test_a_large_file_is_checked_in_few_queries(consultant, make_customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    held = make_customer("库里已有", mobile="13900009999", mobile2="13900000000")
    numbers = [f"1390000{i:04d}" for i in range(10_000)]
    with CaptureQueriesContext(connection) as queries:
        found = validating._existing_mobiles(consultant, numbers)
    assert found == {"13900009999": taken(held), "13900000000": taken(held)}
    lookups = [q["sql"] for q in queries if "customers_customer" in q["sql"]]
    # PostgreSQL: one query per column; SQLite: one per column and 900 numbers; then one to name the holder.
    expected = 2 if connection.vendor == "postgresql" else 2 * 12
    assert len(lookups) == expected + 1, lookups


@pytest.mark.needs_postgres
def test_the_lookup_leaves_the_sessions_jit_setting_as_it_was(consultant):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on")
        validating._existing_mobiles(consultant, ["13900000001"])
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("on",)


def test_repeated_cell_values_are_judged_alike_on_every_line(tmp_path, consultant):
    rows = [
        customer_row(手机号="13900000501", 性别=True, VIP=True, 意向楼盘="不存在的楼盘"),  # 2
        customer_row(手机号="13900000502", 性别=1, VIP=1, 意向楼盘="不存在的楼盘"),  # 3: 1 == True, read apart
        customer_row(手机号="13900000503", 性别="男", VIP="是", 置业顾问="nobody"),  # 4
        customer_row(手机号="13900000504", 性别="男", VIP="否", 置业顾问="nobody"),  # 5
        customer_row(手机号="13900000505", 性别=True, VIP="maybe"),  # 6
    ]
    validation = validate(tmp_path, consultant, rows)
    unknown_project = "楼盘不存在：不存在的楼盘（请填写本公司楼盘的名称或编码）"
    unknown_owner = "置业顾问不存在：nobody（请填写本公司在职员工的用户名或姓名）"
    assert errors_of(validation) == [
        (2, "性别", "无法识别：是（可填：男、女）"),
        (2, "意向楼盘", unknown_project),
        (3, "性别", "无法识别：1（可填：男、女）"),
        (3, "意向楼盘", unknown_project),
        (4, "置业顾问", unknown_owner),
        (5, "置业顾问", unknown_owner),
        (6, "性别", "无法识别：是（可填：男、女）"),
        (6, "VIP", "无法识别：maybe（请填“是”或“否”）"),
    ]


def test_dates_are_accepted_as_excel_dates_and_in_the_usual_chinese_forms(tmp_path, consultant):
    forms = [date(1985, 3, 5), "1985-03-05", "1985/3/5", "1985年3月5日", "1985.3.5", "19850305"]
    rows = [customer_row(手机号=f"139000001{i:02d}", 生日=value) for i, value in enumerate(forms)]
    validation = validate(tmp_path, consultant, rows)
    assert validation.report.errors == []
    assert {row.birthday_on for row in validation.rows} == {date(1985, 3, 5)}


def test_a_birthday_in_the_future_is_refused(tmp_path, consultant):
    validation = validate(tmp_path, consultant, [customer_row(手机号="13900000001", 生日="2099-01-01")])
    assert errors_of(validation) == [(2, "生日", "生日不能晚于今天")]


def test_chinese_labels_codes_and_display_names_are_understood(tmp_path, consultant, project):
    row = customer_row(
        手机号="13900000001",
        性别="女",
        客户阶段="意向客户",
        客户等级="A级",
        VIP="是",
        意向楼盘="jhy",
        来源渠道="来访",
        置业顾问="王顾问",
        同意关怀短信="是",
    )
    validation = validate(
        tmp_path, consultant, [row, customer_row(手机号="13900000002", 客户等级="b", 置业顾问="consultant")]
    )
    assert validation.report.errors == []
    first, second = validation.rows
    assert (first.gender, first.stage, first.grade, first.is_vip, first.source_channel) == (
        "F",
        "interested",
        "A",
        True,
        "visit",
    )
    assert (first.project_id, first.owner_id, first.consent_care) == (project.pk, consultant.pk, True)
    assert (second.grade, second.owner_id, second.stage) == ("B", consultant.pk, "prospect")


def test_a_consultant_may_only_name_themselves_as_owner(tmp_path, consultant, teammate):
    validation = validate(tmp_path, consultant, [customer_row(手机号="13900000001", 置业顾问="teammate")])
    assert errors_of(validation) == [(2, "置业顾问", "无权把客户分配给 李同组：置业顾问只能填写您本人")]


def test_a_team_leader_may_assign_a_teammate_but_not_another_team(tmp_path, leader, teammate, outsider):
    rows = [
        customer_row(手机号="13900000001", 置业顾问="teammate"),
        customer_row(手机号="13900000002", 置业顾问="陈外组"),
    ]
    validation = validate(tmp_path, leader, rows)
    assert errors_of(validation) == [(3, "置业顾问", "无权把客户分配给 陈外组（不在您可分配的范围内）")]
    assert validation.rows[0].owner_id == teammate.pk


def test_an_ambiguous_display_name_asks_for_the_username(tmp_path, admin_user, make_staff):
    make_staff("wang1", Role.CONSULTANT, display_name="小王")
    make_staff("wang2", Role.CONSULTANT, display_name="小王")
    validation = validate(tmp_path, admin_user, [customer_row(手机号="13900000001", 置业顾问="小王")])
    assert errors_of(validation) == [(2, "置业顾问", "有多名员工叫“小王”，请改填用户名")]


def test_line_numbers_count_title_lines_and_blank_rows_as_excel_does(tmp_path, consultant):
    rows = [customer_row(手机号="13900000001"), [None] * len(CUSTOMER_HEADERS), customer_row(手机号="bad")]
    validation = validate(tmp_path, consultant, rows, above=[["客户名单（2026年3月）"], []])
    # Title on line 1, blank line 2, header line 3, data on 4, blank 5, bad row on 6.
    assert errors_of(validation) == [(6, "手机号", mobile_error("bad"))]
    assert validation.report.total == 2


def test_the_template_example_row_is_skipped(tmp_path, consultant):
    rows = [customer_row(姓名="（示例）张三", 手机号="13800138000"), customer_row(手机号="13900000001")]
    validation = validate(tmp_path, consultant, rows)
    assert validation.report.total == 1
    assert validation.report.notes == ["第 2 行是模板中的示例行，已忽略"]


def test_headers_may_carry_a_star_and_spaces(tmp_path, consultant):
    headers = [f" {h}* " if h in {"姓名", "手机号"} else h for h in CUSTOMER_HEADERS]
    validation = validate(tmp_path, consultant, [customer_row(手机号="13900000001")], headers=headers)
    assert validation.report.errors == []


# ---------------------------------------------------------------- the upload page


def test_upload_shows_the_report_with_counts_and_bad_rows(login, consultant, customer, media):
    client = login(consultant)
    content = build_xlsx([customer_row(手机号="13900000001"), customer_row(手机号="13812345678")])
    response = upload(client, content)
    assert response.status_code == 302
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "导入校验结果" in html
    assert '<b id="count-total">2</b>' in html
    assert '<b id="count-valid">1</b>' in html
    assert '<b id="count-invalid">1</b>' in html
    assert "第 3 行" in html
    assert "手机号已存在" in html
    assert "仅导入有效行" in html
    assert len([name for name in uploaded_files(media) if name.endswith(".upload")]) == 1
    assert Customer.objects.count() == 1


def test_a_file_with_errors_imports_nothing(login, consultant, media):
    client = login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001"), customer_row(手机号="bad")]))
    result = client.post(response.url, {"action": "import"})
    assert result.status_code == 302
    assert Customer.objects.count() == 0
    assert not AuditLog.objects.filter(action=AuditLog.Action.IMPORT).exists()
    page = client.get(result.url)
    assert "未导入任何数据" in page.content.decode()


def test_only_valid_rows_imports_exactly_those(login, consultant, customer, media):
    client = login(consultant)
    rows = [
        customer_row(姓名="甲", 手机号="13900000001"),
        customer_row(姓名="乙", 手机号="13812345678"),
        customer_row(姓名="丙", 手机号="13900000003"),
        customer_row(姓名="丁", 手机号="13900000001"),
    ]
    response = upload(client, build_xlsx(rows))
    result = client.post(response.url, {"action": "import_valid"})
    assert result.url == IMPORT_URL
    imported = Customer.objects.exclude(pk=customer.pk)
    assert sorted(imported.values_list("name", flat=True)) == ["丙", "甲"]
    log = AuditLog.objects.get(action=AuditLog.Action.IMPORT)
    assert (log.changes["imported"], log.changes["skipped"], log.changes["only_valid"]) == (2, 2, True)
    assert uploaded_files(media) == []
    assert "有问题的 2 行未导入" in client.get(result.url).content.decode()


def test_a_clean_import_creates_numbered_customers_with_tags_consent_timeline_and_one_audit_row(
    login, consultant, project, media
):
    client = login(consultant)
    rows = [
        customer_row(姓名="甲", 手机号="13900000001", 生日=date(1985, 3, 5), 标签="学区,改善", 同意关怀短信="是"),
        customer_row(姓名="乙", 手机号="+86 139-0000-0002", 备用手机号="13900000012", 标签="学区", 客户阶段="意向客户"),
    ]
    response = upload(client, build_xlsx(rows, above=[]), name="三月客户.xlsx")
    page = client.get(response.url).content.decode()
    assert "确认导入 2 条" in page
    result = client.post(response.url, {"action": "import"})
    assert result.status_code == 302

    first, second = Customer.objects.order_by("number")
    assert [first.number, second.number] == ["KH00000001", "KH00000002"]
    assert (first.name, first.mobile, first.birth_mmdd, first.owner, first.project) == (
        "甲",
        "13900000001",
        "0305",
        consultant,
        project,
    )
    assert (second.mobile, second.mobile2, second.stage) == ("13900000002", "13900000012", Stage.INTERESTED)
    assert first.created_by == consultant
    assert sorted(first.tags.values_list("name", flat=True)) == ["学区", "改善"]
    assert Tag.objects.count() == 2
    assert CustomerProfile.objects.count() == 0  # archives are written with their first item
    assert first.consent_care
    assert first.consent_at is not None
    assert first.consent_source == "Excel导入"
    assert ConsentRecord.objects.filter(customer=first, purpose="care", is_granted=True).count() == 1
    assert not ConsentRecord.objects.filter(customer=second).exists()
    events = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.IMPORTED)
    assert sorted(events.values_list("customer_id", flat=True)) == [first.pk, second.pk]
    assert events.get(customer=first).data["line"] == 2
    log = AuditLog.objects.get(action=AuditLog.Action.IMPORT)
    assert log.actor == consultant
    assert log.changes["numbers"] == ["KH00000001", "KH00000002"]
    assert log.changes["file"] == "三月客户.xlsx"
    assert "导入客户资料 2 条" in log.summary
    assert AuditLog.objects.exclude(action=AuditLog.Action.LOGIN).count() == 1
    assert uploaded_files(media) == []
    assert "已导入客户资料 2 条（客户编号 KH00000001 – KH00000002）" in client.get(result.url).content.decode()


def test_archives_consents_and_events_are_written_as_the_orm_would(tmp_path, consultant):
    path = tmp_path / "upload.xlsx"
    rows = [
        customer_row(姓名="甲", 手机号="13900000001", 同意关怀短信="是", 来源渠道="来电"),
        customer_row(姓名="乙", 手机号="13900000002", 来源渠道="老带新"),
        customer_row(姓名="丙", 手机号="13900000003", 同意关怀短信="是", 来源渠道="活动现场"),
    ]
    path.write_bytes(build_xlsx(rows))
    batch = "0123456789abcdef" * 2
    importing.import_file(path, importing.CUSTOMERS, user=consultant, filename="x.xlsx", batch=batch)

    customers = list(Customer.objects.order_by("number"))
    assert [c.name for c in customers] == ["甲", "乙", "丙"]
    # As services.create_customer: no empty archive rows (written with the first item recorded).
    assert not CustomerProfile.objects.filter(customer__in=customers).exists()
    consents = ConsentRecord.objects.order_by("customer__number")
    assert [
        (r.customer_id, r.purpose, r.is_granted, r.source, r.recorded_by_id, r.notice_version, r.recorded_at)
        for r in consents
    ] == [
        (c.pk, "care", True, "Excel导入", consultant.pk, ConsentRecord().notice_version, c.created_at)
        for c in (customers[0], customers[2])
    ]
    events = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.IMPORTED).order_by("customer__number")
    assert [(e.customer_id, e.summary, e.data, e.actor_id, e.occurred_at) for e in events] == [
        (
            c.pk,
            f"{consultant} 通过Excel导入客户（{label}）",
            {"batch": batch, "line": line},
            consultant.pk,
            c.created_at,
        )
        for c, label, line in zip(customers, ["来电", "老带新", "活动现场"], [2, 3, 4], strict=True)
    ]


def test_customer_numbers_continue_after_existing_customers(login, consultant, customer):
    client = login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001")]))
    client.post(response.url, {"action": "import"})
    assert Customer.objects.get(mobile="13900000001").number == "KH00000002"


def test_a_crash_mid_import_rolls_back_everything(tmp_path, consultant, customer, monkeypatch):
    path = tmp_path / "big.xlsx"
    rows = [customer_row(姓名=f"客户{i}", 手机号=f"1390000{i:04d}", 标签="新标签") for i in range(5)]
    path.write_bytes(build_xlsx(rows))
    counter_before = Counter.objects.get(key=f"customer:{consultant.company_id}").value
    calls = []
    real_chunk = writing._write_customer_chunk

    def crash_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(writing, "WRITE_CHUNK", 2)
    monkeypatch.setattr(writing, "_write_customer_chunk", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        importing.import_file(path, importing.CUSTOMERS, user=consultant, filename="big.xlsx", batch="b" * 32)

    assert len(calls) == 2  # the first chunk had been written before the crash
    assert list(Customer.objects.all()) == [customer]
    assert not Tag.objects.exists()
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.IMPORTED).exists()
    assert not AuditLog.objects.filter(action=AuditLog.Action.IMPORT).exists()
    assert Counter.objects.get(key=f"customer:{consultant.company_id}").value == counter_before


def test_a_mobile_registered_after_validation_blocks_the_import(login, consultant, make_customer):
    client = login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001")]))
    make_customer("抢先登记", mobile="13900000001")
    result = client.post(response.url, {"action": "import"})
    assert Customer.objects.count() == 1
    page = client.get(result.url).content.decode()
    assert "未导入任何数据" in page
    assert "手机号已存在：客户 抢先登记" in page


def test_an_owner_who_left_after_validation_blocks_the_import(login, leader, teammate):
    client = login(leader)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001", 置业顾问="teammate")]))
    assert "确认导入 1 条" in client.get(response.url).content.decode()
    teammate.is_active = False
    teammate.save()
    result = client.post(response.url, {"action": "import"})
    assert Customer.objects.count() == 0
    page = client.get(result.url).content.decode()
    assert "该置业顾问已停用或您已无权分配，请重新上传" in page


def test_confirming_reuses_the_uploads_validation_without_reading_the_file_again(login, consultant, monkeypatch):
    client = login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001", 生日="1985/3/5")]))

    def unread(*args, **kwargs):
        raise AssertionError("the file was parsed again")

    monkeypatch.setattr(validating, "read_sheet", unread)
    client.post(response.url, {"action": "import"})
    assert Customer.objects.get().birthday_on == date(1985, 3, 5)


def test_a_second_confirmation_while_importing_is_refused(login, consultant, media):
    client = login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001")]))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORTING)
    result = client.post(response.url, {"action": "import"})
    assert Customer.objects.count() == 0
    assert "该文件正在导入，请稍候，不要重复提交" in client.get(result.url).content.decode()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.REVIEW)
    client.post(response.url, {"action": "import"})
    assert Customer.objects.count() == 1


def test_the_review_page_belongs_to_the_uploader(login, client, consultant, teammate):
    login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001")]))
    review_url = response.url
    client.force_login(teammate)
    result = client.post(review_url, {"action": "import"})
    assert result.status_code == 302
    assert result.url == IMPORT_URL
    assert Customer.objects.count() == 0


def test_cancel_deletes_the_uploaded_file(login, consultant, media):
    client = login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="13900000001")]))
    assert uploaded_files(media)
    client.post(response.url, {"action": "cancel"})
    assert uploaded_files(media) == []
    assert client.get(response.url).url == IMPORT_URL


def test_the_problem_list_downloads_as_excel(login, consultant):
    client = login(consultant)
    response = upload(client, build_xlsx([customer_row(手机号="bad")]))
    download = client.get(response.url + "?download=problems")
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx(response_bytes(download))
    assert rows[1] == ["行号", "字段", "内容", "原因"]
    assert rows[2] == [2, "手机号", "bad", mobile_error("bad")]


def test_files_left_without_an_upload_row_are_purged_after_the_keeping_time(media, db):
    folder = Path(media) / "imports"
    folder.mkdir(parents=True)
    old, fresh = folder / ("a" * 32 + ".upload"), folder / ("b" * 32 + ".upload")
    for path in (old, fresh):
        path.write_bytes(b"x")
    now = datetime.now(tz=UTC)
    os.utime(old, (now.timestamp() - 25 * 3600, now.timestamp() - 25 * 3600))
    assert importing.purge_stale_uploads(now=now) == 1
    assert not old.exists()
    assert fresh.exists()


# ---------------------------------------------------------------- files refused without a 500


def assert_refused(response, message, media):
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="upload-error"' in html
    assert message in html
    assert uploaded_files(media) == []
    assert Customer.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(login, consultant, settings, media):
    settings.IMPORT_MAX_BYTES = 2 * 1024 * 1024
    content = build_xlsx([customer_row(手机号="13900000001")]) + b"\0" * (2 * 1024 * 1024)
    response = upload(login(consultant), content)
    assert_refused(response, "单个文件不能超过 2 MB", media)


def test_a_text_without_a_table_is_refused(login, consultant, media):
    response = upload(login(consultant), "这不是表格，只是一段文字".encode(), name="名单.xlsx")
    assert_refused(response, "找不到表头行", media)


def test_a_csv_named_xlsx_is_read_as_the_csv_it_is(login, consultant, project, media):
    content = "姓名,手机号,意向楼盘,来源渠道\n李四,13900000001,锦华苑,来电\n".encode("gb18030")
    client = login(consultant)
    response = upload(client, content, name="名单.xlsx")
    html = client.get(response.url).content.decode()
    assert "文本表格（逗号分隔）" in html
    assert "确认导入 1 条" in html


def test_a_binary_file_renamed_to_xlsx_is_refused(login, consultant, media):
    response = upload(login(consultant), bytes(range(256)) * 4, name="名单.xlsx")
    assert_refused(response, "文件内容不是文本，也不是 Excel 工作簿", media)


def test_a_word_file_renamed_to_xlsx_is_refused(login, consultant, media):
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    response = upload(login(consultant), out.getvalue(), name="名单.xlsx")
    assert_refused(response, "文件内容不是 Excel 工作簿（可能是 Word 等其他文件改了扩展名）", media)


def test_another_extension_is_refused(login, consultant, media):
    response = upload(login(consultant), b"a,b\n1,2\n", name="名单.docx")
    assert_refused(response, "只支持 Excel 工作簿（.xlsx、.xls）或 CSV、文本文件", media)


def test_an_empty_workbook_is_refused(login, consultant, media):
    response = upload(login(consultant), build_xlsx([], headers=None))
    assert_refused(response, "工作表是空的", media)


def test_a_header_without_data_is_refused(login, consultant, media):
    response = upload(login(consultant), build_xlsx([]))
    assert_refused(response, "表格中没有数据行（只有表头）", media)


def test_a_file_without_project_and_channel_asks_for_them_for_the_whole_file(login, consultant, media):
    client = login(consultant)
    response = upload(client, build_xlsx([["李四", "13900000001"]], headers=["姓名", "手机号"]))
    html = client.get(response.url).content.decode()
    assert "文件中没有填写 <b>意向楼盘、来源渠道</b>" in html
    assert "确认导入" not in html
    assert client.post(response.url, {"action": "import"}).status_code == 302
    assert Customer.objects.count() == 0


def test_a_file_without_a_name_column_says_so(login, consultant, media):
    client = login(consultant)
    response = upload(
        client, build_xlsx([["13900000001", "锦华苑", "来电"]], headers=["手机号", "意向楼盘", "来源渠道"])
    )
    html = client.get(response.url).content.decode()
    assert "文件缺少必填列 <b>姓名</b>" in html
    assert "确认导入" not in html


def test_a_sheet_without_any_known_header_is_refused(login, consultant, media):
    response = upload(login(consultant), build_xlsx([["a", "b"]], headers=["列1", "列2"]))
    assert_refused(response, "找不到表头行", media)


def test_a_deal_file_without_customer_columns_names_them(login, consultant, media):
    headers = [h for h in DEAL_HEADERS if h not in {"客户编号", "手机号"}]
    client = login(consultant)
    response = upload(client, build_xlsx([["锦华苑"]], headers=headers), kind="deals")
    assert "文件缺少必填列 <b>客户编号或手机号（至少一列）</b>" in client.get(response.url).content.decode()


def test_no_file_is_a_form_error(login, consultant):
    response = login(consultant).post(IMPORT_URL, {"kind": "customers"})
    assert response.status_code == 200
    assert "请选择要上传的 Excel 或 CSV 文件" in response.content.decode()


# ---------------------------------------------------------------- permissions and templates


def test_import_needs_the_import_permission(login, supervisor):
    client = login(supervisor)
    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(reverse("customers:import_template", args=["customers"])).status_code == 403


def test_the_import_page_offers_both_templates(login, consultant):
    html = login(consultant).get(IMPORT_URL).content.decode()
    assert reverse("customers:import_template", args=["customers"]) in html
    assert reverse("customers:import_template", args=["deals"]) in html
    assert "上传并校验" in html


@pytest.mark.parametrize(
    ("kind", "first_headers"),
    [("customers", ["姓名*", "手机号*", "备用手机号"]), ("deals", ["客户编号", "手机号", "楼盘*"])],
)
def test_templates_have_chinese_headers_an_example_and_instructions(login, consultant, project, kind, first_headers):
    response = login(consultant).get(reverse("customers:import_template", args=[kind]))
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    content = response_bytes(response)
    rows = read_xlsx(content)
    assert rows[0][:3] == first_headers
    assert str(rows[1][0]).startswith("（示例）")
    assert sheet_names(content)[1] == "填写说明"


def test_an_untouched_template_imports_nothing_and_says_so(login, consultant, project, media):
    client = login(consultant)
    template = response_bytes(client.get(reverse("customers:import_template", args=["customers"])))
    response = upload(client, template)
    assert_refused(response, "表格中没有数据行", media)


def test_a_filled_in_template_validates(login, consultant, project):
    client = login(consultant)
    template = read_xlsx(response_bytes(client.get(reverse("customers:import_template", args=["customers"]))))
    header, example = template[0], template[1]
    mine = list(example)
    mine[0], mine[1] = "赵六", "13900000009"
    response = upload(client, build_xlsx([example, mine], headers=header))
    html = client.get(response.url).content.decode()
    assert "确认导入 1 条" in html
    assert "第 2 行是模板中的示例行，已忽略" in html


def test_the_templates_example_tags_are_the_companys_own_so_importing_it_creates_none(
    login, consultant, project, company
):
    for name in ("改善型", "首置", "学区需求"):
        Tag.objects.create(company=company, name=name)
    client = login(consultant)
    template = read_xlsx(response_bytes(client.get(reverse("customers:import_template", args=["customers"]))))
    header, example = template[0], template[1]
    tags = example[header.index("标签")]
    assert tags == "学区需求,改善型"
    mine = list(example)
    mine[0], mine[1] = "赵六", "13900000009"
    response = upload(client, build_xlsx([mine], headers=header))
    client.post(response.url, {"action": "import"})
    assert sorted(Customer.objects.get().tags.values_list("name", flat=True)) == ["学区需求", "改善型"]
    assert Tag.objects.count() == 3


def test_an_unknown_template_kind_is_404(login, consultant):
    assert login(consultant).get(reverse("customers:import_template", args=["gifts"])).status_code == 404


# ---------------------------------------------------------------- deals


@pytest.fixture
def units(make_unit):
    return {str(n): make_unit(number=str(n)) for n in range(1801, 1816)}


def test_deal_import_sets_unit_status_and_owner_stage(login, consultant, customer, make_customer, units, project):
    other = make_customer("李四", mobile="13900000050")
    client = login(consultant)
    rows = [
        deal_row(客户编号=customer.number, 房号="1801", 认购日期="2025-03-05"),
        deal_row(手机号="13900000050", 房号=1802, 认购日期="2025/3/5", 签约日期="2025年3月10日", 成交总价="1,350,000"),
        deal_row(
            客户编号=customer.number,
            楼栋="1",
            房号="1803",
            认购日期=date(2025, 1, 5),
            签约日期=date(2025, 1, 10),
            实际交房日期=date(2025, 6, 1),
            入住日期=date(2025, 6, 10),
            入住方式="集中",
        ),
    ]
    response = upload(client, build_xlsx(rows, DEAL_HEADERS), kind="deals")
    assert "确认导入 3 条" in client.get(response.url).content.decode()
    client.post(response.url, {"action": "import"})

    units_now = {u.number: u.status for u in Unit.objects.filter(number__in=["1801", "1802", "1803", "1804"])}
    assert units_now == {"1801": "reserved", "1802": "sold", "1803": "delivered", "1804": "available"}
    deal = Deal.objects.get(unit__number="1802")
    assert (deal.customer, deal.consultant, deal.price, deal.contracted_on) == (
        other,
        consultant,
        Decimal("1350000.00"),
        date(2025, 3, 10),
    )
    assert Deal.objects.get(unit__number="1801").price == Decimal("1200000.00")  # the unit's price
    assert Deal.objects.get(unit__number="1803").move_in_kind == "batch"
    customer.refresh_from_db()
    other.refresh_from_db()
    assert customer.stage == other.stage == Stage.OWNER
    kinds = list(TimelineEvent.objects.filter(customer=customer).values_list("kind", flat=True))
    assert sorted(kinds) == ["created", "deal", "deal", "milestone", "milestone", "milestone", "stage"]
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT, target_type="customers.deal").count() == 1


def test_every_bad_deal_row_is_reported_with_its_line(
    tmp_path, consultant, customer, outsider, make_customer, units, project_b
):
    from crm.customers.services import create_deal

    create_deal(actor=consultant, customer=customer, unit=units["1804"], subscribed_on=date(2025, 1, 1))
    foreign = make_customer("外组", owner=outsider, project=project_b, mobile="13900000060")
    make_customer("另一位", mobile="13900000070")
    mine = {"客户编号": customer.number, "认购日期": "2025-03-05"}
    rows = [
        deal_row(**mine, 房号="1801"),  # 2 ok
        deal_row(**{**mine, "客户编号": "KH99999999"}, 房号="1802"),  # 3 unknown customer
        deal_row(手机号="13900000099", 房号="1803", 认购日期="2025-03-05"),  # 4 unknown mobile
        deal_row(**{**mine, "客户编号": foreign.number}, 房号="1805"),  # 5 outside the user's scope
        deal_row(**mine, 房号="9999"),  # 6 unknown unit
        deal_row(**mine, 房号="1804"),  # 7 sold
        deal_row(**mine, 房号="1801"),  # 8 same unit as line 2
        deal_row(**mine, 房号="1806", 签约日期="2025-03-01"),  # 9 out of order
        deal_row(**mine, 房号="1807", 全款到账日期="2025-04-01"),  # 10 needs a contract first
        deal_row(**{**mine, "认购日期": "2025-02-30"}, 房号="1808"),  # 11 no such date
        deal_row(客户编号=customer.number, 房号="1809"),  # 12 no subscription date
        deal_row(**mine, 楼盘="无此楼盘", 房号="1810"),  # 13 unknown project
        deal_row(房号="1811", 认购日期="2025-03-05"),  # 14 no customer reference
        deal_row(**mine, 房号="1812", 成交总价="很贵"),  # 15 bad price
        deal_row(**mine, 房号="1813", 签约日期="2025-03-06", 实际交房日期="2025-04-01", 入住日期="2025-04-02"),  # 16
        deal_row(**mine, 手机号="13900000070", 房号="1814"),  # 17 number and mobile disagree
        deal_row(**mine, 房号="1815", 签约日期="2099-01-01"),  # 18 in the future
    ]
    validation = validate(tmp_path, consultant, rows, kind=importing.DEALS)
    assert errors_of(validation) == [
        (3, "客户编号", "客户不存在或无权操作：KH99999999"),
        (4, "手机号", "找不到手机号为 13900000099 的客户（或无权操作）"),
        (5, "客户编号", f"客户不存在或无权操作：{foreign.number}"),
        (6, "房号", "房源不存在：锦华苑 1号楼 9999"),
        (7, "房号", "房源 1号楼-1804 已售出（已有有效的成交记录）"),
        (8, "房号", "房源 1号楼-1801 与第 2 行重复"),
        (9, "签约日期", "签约日期不能早于认购日期"),
        (10, "全款到账日期", "尚未签约，不能登记全款到账"),
        (11, "认购日期", "2025-02-30 不是有效日期"),
        (12, "认购日期", "认购日期不能为空"),
        (13, "楼盘", "楼盘不存在：无此楼盘"),
        (14, "客户编号/手机号", "请填写客户编号或手机号"),
        (15, "成交总价", "成交总价格式不正确：很贵（填写金额，单位元）"),
        (16, "入住方式", "填写了入住日期，请填写入住方式（集中/零星）"),
        (17, "客户编号/手机号", f"客户编号 {customer.number} 与手机号不是同一位客户"),
        (18, "签约日期", "实际发生的日期不能晚于今天"),
    ]
    assert [row.line for row in validation.rows] == [2]


def test_deal_rows_find_customers_by_main_or_backup_mobile_within_the_users_scope(
    tmp_path, consultant, holders, make_customer, units, lookup_chunk
):
    mine = make_customer("我的", mobile="13900000401", mobile2="13900000402")
    rows = [
        deal_row(手机号="13900000401", 房号="1801", 认购日期="2025-03-05"),  # 2 main mobile
        deal_row(手机号="13900000402", 房号="1802", 认购日期="2025-03-05"),  # 3 backup mobile
        deal_row(手机号="13900000106", 房号="1803", 认购日期="2025-03-05"),  # 4 another team's customer
        deal_row(手机号="13900000103", 房号="1805", 认购日期="2025-03-05"),  # 5 archived
        deal_row(手机号="13900000102", 房号="1806", 认购日期="2025-03-05"),  # 6 backup of a visible one
        deal_row(手机号="13900000108", 房号="1807", 认购日期="2025-03-05"),  # 7 archived main, current backup
    ]
    validation = validate(tmp_path, consultant, rows, kind=importing.DEALS)
    assert errors_of(validation) == [
        (4, "手机号", "找不到手机号为 13900000106 的客户（或无权操作）"),
        (5, "手机号", "找不到手机号为 13900000103 的客户（或无权操作）"),
    ]
    assert [(row.line, row.customer_id) for row in validation.rows] == [
        (2, mine.pk),
        (3, mine.pk),
        (6, holders["both"].pk),
        (7, holders["newer"].pk),
    ]


def test_deal_import_accepts_prices_in_wan(tmp_path, consultant, customer, units):
    validation = validate(
        tmp_path,
        consultant,
        [deal_row(客户编号=customer.number, 房号="1801", 认购日期="2025-03-05", 成交总价="135.5万")],
        kind=importing.DEALS,
    )
    assert validation.rows[0].price == Decimal("1355000.00")


def test_deal_import_needs_the_add_deal_permission(login, make_staff, teams, project, customer, units):
    from django.contrib.auth.models import Permission

    clerk = make_staff("clerk", team=teams[0], projects=(project,))
    clerk.user_permissions.add(Permission.objects.get(codename="import_customers"))
    response = upload(
        login(clerk),
        build_xlsx([deal_row(客户编号=customer.number, 房号="1801", 认购日期="2025-03-05")], DEAL_HEADERS),
        kind="deals",
    )
    assert response.status_code == 200
    assert "您没有导入成交记录的权限" in response.content.decode()
