"""Importing customers in the browser: a bad row is shown with its line and reason; a CSV from
another system gets its project on the page; a large file shows its progress."""

import pytest
from django.utils import timezone

from crm.customers.jobs import run_import_jobs
from crm.customers.models import Customer
from crm.customers.tests.excel import build_csv, build_xlsx, customer_row
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_consultant_uploads_a_file_and_sees_the_bad_row_then_imports_the_valid_ones(page, sign_in, consultant, project):
    rows = [
        customer_row(姓名="周一", 手机号="13900000001", 客户阶段="意向客户", 客户等级="A级"),
        customer_row(姓名="吴二", 手机号="1390000000", 来源渠道="来访"),
        customer_row(姓名="郑三", 手机号="13900000003", 生日="1988年6月1日", 标签="学区,改善"),
    ]
    sign_in(page, consultant)
    page.goto("/customers/import/")
    assert page.locator("h1").first.inner_text() == "导入导出"
    page.set_input_files(
        "input[type=file]", files=[{"name": "三月来访客户.xlsx", "mimeType": XLSX, "buffer": build_xlsx(rows)}]
    )
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("text=导入校验结果")

    assert page.locator("#count-total").inner_text() == "3"
    assert page.locator("#count-valid").inner_text() == "2"
    assert page.locator("#count-invalid").inner_text() == "1"
    problem = page.locator("table.import-problems tbody tr")
    assert problem.count() == 1
    assert problem.first.inner_text().split("\t") == ["第 3 行", "手机号", "1390000000", "不是有效的手机号：1390000000"]
    screenshot(page, "import-review")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('仅导入有效行')")
    page.wait_for_selector(".msg.success")
    assert "已导入客户资料 2 条" in page.locator(".msg.success").inner_text()
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["周一", "郑三"]


def test_a_web_page_saved_as_xls_is_refused_on_the_form(page, sign_in, consultant):
    sign_in(page, consultant)
    page.goto("/customers/import/")
    html = "<html><body><table><tr><td>姓名</td><td>手机号</td></tr></table></body></html>".encode()
    page.set_input_files(
        "input[type=file]", files=[{"name": "名单.xls", "mimeType": "application/vnd.ms-excel", "buffer": html}]
    )
    page.click("button:has-text('上传并校验')")
    error = page.locator("#upload-error")
    assert "该文件实际是网页（HTML）格式" in error.inner_text()
    screenshot(page, "import-refused")


# ---------------------------------------------------------------- a file from another system

OTHER_SYSTEM_HEADERS = ["客户名称", "手机", "项目", "渠道", "出生日期", "备注"]
BAD = {6: "坏号码", 13: "坏日期", 24: "", 35: "重复"}


def other_systems_export():
    """40 customers as another CRM exports them: its own headers, GB18030, the project
    column empty, and four bad rows (lines 6, 13, 24 and 35)."""
    rows = []
    for line in range(2, 42):
        name, mobile, birthday = f"客户{line:02d}", f"1390000{line:04d}", "1985/3/5"
        if line == 6:
            name, mobile = "坏号码", "1234"
        elif line == 13:
            name, birthday = "坏日期", "1988-02-30"
        elif line == 24:
            name = ""
        elif line == 35:
            name, mobile = "重复", "13900000002"
        rows.append([name, mobile, "", "来访", birthday, "周末看房，关注三居"])
    return build_csv(rows, OTHER_SYSTEM_HEADERS, encoding="gb18030")


def test_a_gb18030_csv_from_another_system_gets_its_project_on_the_page(page, sign_in, consultant, project, project_b):
    sign_in(page, consultant)
    page.goto("/customers/import/")
    page.set_input_files(
        "input[type=file]", files=[{"name": "旧系统导出.csv", "mimeType": "text/csv", "buffer": other_systems_export()}]
    )
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("text=导入校验结果")
    assert "GB18030" in page.locator("#import-encoding").inner_text()
    assert "文件中没有填写 意向楼盘" in page.locator("#import-needs").inner_text()
    assert "客户02" in page.locator("#import-preview").inner_text()  # the names read right
    assert page.locator("text=确认导入").count() == 0
    screenshot(page, "import-needs-project")

    page.select_option("select[name=project]", "锦华苑")
    page.click("button:has-text('应用并重新校验')")
    page.wait_for_selector("#count-invalid")
    assert page.locator("#count-total").inner_text() == "40"
    assert page.locator("#count-valid").inner_text() == "36"
    assert page.locator("#count-invalid").inner_text() == "4"
    problems = [row.split("\t") for row in page.locator("table.import-problems tbody tr").all_inner_texts()]
    assert [(line, field, value) for line, field, value, _ in problems] == [
        ("第 6 行", "手机号", "1234"),
        ("第 13 行", "生日", "1988-02-30"),
        ("第 24 行", "姓名", ""),
        ("第 35 行", "手机号", "13900000002"),
    ]
    assert problems[1][3] == "1988-02-30 不是有效日期"
    assert problems[3][3] == "手机号 13900000002 与第 2 行重复"
    screenshot(page, "import-review-csv")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('仅导入有效行')")
    page.wait_for_selector(".msg.success")
    assert "已导入客户资料 36 条" in page.locator(".msg.success").inner_text()
    assert "有问题的 4 行未导入" in page.locator(".msg.success").inner_text()
    expected = {f"客户{line:02d}" for line in range(2, 42) if line not in BAD}
    assert set(Customer.objects.values_list("name", flat=True)) == expected
    assert set(Customer.objects.values_list("project__name", flat=True)) == {"锦华苑"}

    page.goto("/customers/?q=客户07")
    assert "客户07" in page.locator("table").first.inner_text()


def test_a_large_file_shows_its_progress_and_a_reload_finds_it(page, sign_in, consultant, project, settings):
    settings.IMPORT_INLINE_BYTES = 0  # every file goes to the job runner, as a large one does
    settings.IMPORT_INLINE_ROWS = 0
    sign_in(page, consultant)
    page.goto("/customers/import/")
    rows = [customer_row(姓名=f"客户{i}", 手机号=f"1390000{i:04d}") for i in range(1, 6)]
    page.set_input_files(
        "input[type=file]", files=[{"name": "大文件.xlsx", "mimeType": XLSX, "buffer": build_xlsx(rows)}]
    )
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("#import-progress")
    assert page.locator("#import-status").inner_text() == "等待校验"
    page.reload()
    assert page.locator("#import-status").inner_text() == "等待校验"
    screenshot(page, "import-progress")

    run_import_jobs(now=timezone.now())  # the runner checks it; the page reloads itself
    page.wait_for_selector("text=确认导入 5 条")
    page.click("button:has-text('确认导入 5 条')")
    page.wait_for_selector("#import-progress")
    run_import_jobs(now=timezone.now())
    page.wait_for_selector("#import-result")
    assert "已导入客户资料 5 条" in page.locator("#import-result").inner_text()
    assert Customer.objects.count() == 5
