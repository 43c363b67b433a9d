"""Importing customers from Excel in the browser: a bad row is shown with its line and reason."""

import pytest

from crm.customers.models import Customer
from crm.customers.tests.excel import build_xlsx, customer_row
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
    assert problem.first.inner_text().split("\t") == ["第 3 行", "手机号", "不是有效的手机号：1390000000"]
    screenshot(page, "import-review")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('仅导入有效行')")
    page.wait_for_selector(".msg.success")
    assert "已导入客户资料 2 条" in page.locator(".msg.success").inner_text()
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["周一", "郑三"]


def test_a_csv_renamed_to_xlsx_is_refused_on_the_form(page, sign_in, consultant):
    sign_in(page, consultant)
    page.goto("/customers/import/")
    csv = "姓名,手机号\n李四,13900000001\n".encode()
    page.set_input_files("input[type=file]", files=[{"name": "名单.xlsx", "mimeType": XLSX, "buffer": csv}])
    page.click("button:has-text('上传并校验')")
    error = page.locator("#upload-error")
    assert "CSV/文本文件" in error.inner_text()
    screenshot(page, "import-refused")
