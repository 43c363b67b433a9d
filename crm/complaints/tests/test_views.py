"""The complaint pages: scope (outsiders get 404), intake, list countdowns, actions, export."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm.complaints import selectors, services
from crm.complaints.models import Complaint

Status = Complaint.Status
pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


# ---------------------------------------------------------------- scope


def test_an_unlinked_complaint_is_seen_through_its_project_only(
    make_complaint, service, service_b, director, manager, outsider, consultant
):
    complaint = make_complaint(complainant_mobile="13900009999")
    assert complaint.customer is None
    assert list(selectors.complaints_visible_to(service)) == [complaint]
    assert list(selectors.complaints_visible_to(director)) == [complaint]
    assert list(selectors.complaints_visible_to(manager)) == [complaint]
    assert not selectors.complaints_visible_to(service_b).exists()
    assert not selectors.complaints_visible_to(outsider).exists()
    assert not selectors.complaints_visible_to(consultant).exists()  # no complaint permission


def test_a_linked_complaint_in_another_project_is_seen_by_that_projects_staff_only(
    make_complaint, make_customer, project_b, service, service_b, category, director
):
    make_customer("李四", project=project_b, mobile="13700001234")
    complaint = make_complaint(complainant_mobile="13700001234", project=project_b, assignee=service_b)
    assert complaint.customer is not None
    assert list(selectors.complaints_visible_to(service_b)) == [complaint]
    assert not selectors.complaints_visible_to(service).exists()
    assert selectors.complaints_visible_to(director).count() == 1


def test_the_outsider_gets_404_on_the_page_and_the_action(client, make_complaint, service_b):
    complaint = make_complaint()
    login(client, service_b)
    assert client.get(reverse("complaints:detail", args=[complaint.pk])).status_code == 404
    response = client.post(reverse("complaints:act", args=[complaint.pk, "acknowledge"]))
    assert response.status_code == 404
    complaint.refresh_from_db()
    assert complaint.status == Status.DISPATCHED


def test_a_consultant_has_no_complaint_pages(client, consultant, make_complaint):
    login(client, consultant)
    assert client.get(reverse("complaints:list")).status_code == 403


# ---------------------------------------------------------------- intake


def test_intake_registers_and_shows_the_number(client, duty, project, category, service):
    login(client, duty)
    assert client.get(reverse("complaints:new")).status_code == 200
    response = client.post(
        reverse("complaints:new"),
        {
            "channel": "walk_in",
            "complainant_name": "王五",
            "complainant_mobile": "13600002222",
            "project": project.pk,
            "category": category.pk,
            "content": "<script>alert(1)</script>样板间漏水",
        },
        follow=True,
    )
    complaint = Complaint.objects.get()
    assert complaint.registered_by == duty
    assert complaint.assignee == service
    assert f"投诉已登记，编号 {complaint.number}" in response.content.decode()
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_intake_keeps_what_was_typed_and_says_what_is_wrong_in_chinese(client, duty, project, category):
    login(client, duty)
    response = client.post(
        reverse("complaints:new"),
        {
            "channel": "phone",
            "complainant_name": "王五",
            "complainant_mobile": "123",
            "project": project.pk,
            "category": category.pk,
            "content": "车位划线不清",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "车位划线不清" in body
    assert "王五" in body
    assert not Complaint.objects.exists()
    response = client.post(reverse("complaints:new"), {"channel": "phone"})
    body = response.content.decode()
    assert "请填写投诉人姓名" in body
    assert "请填写投诉内容" in body


def test_intake_refuses_a_project_outside_the_users_projects(client, duty, project_b, category):
    login(client, duty)
    response = client.post(
        reverse("complaints:new"),
        {
            "channel": "phone",
            "complainant_name": "王五",
            "complainant_mobile": "13600002222",
            "project": project_b.pk,
            "category": category.pk,
            "content": "x",
        },
    )
    assert response.status_code == 200
    assert not Complaint.objects.exists()


# ---------------------------------------------------------------- list and detail


def test_the_list_shows_countdowns_and_overdue_rows(client, service, make_complaint):
    now = timezone.now()
    late = make_complaint(now=now - timedelta(days=30))
    fresh = make_complaint(now=now)
    login(client, service)
    body = client.get(reverse("complaints:list")).content.decode()
    assert late.number in body
    assert fresh.number in body
    assert 'class="overdue"' in body
    assert "剩余" in body
    body = client.get(reverse("complaints:list"), {"state": "breached"}).content.decode()
    assert late.number in body
    assert fresh.number not in body


def test_the_detail_page_offers_only_the_allowed_actions(client, service, director, make_complaint):
    complaint = make_complaint()
    login(client, service)
    body = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "确认接收" in body
    assert "批准方案" not in body
    assert "撤销投诉" not in body
    client.logout()
    login(client, director)
    assert "撤销投诉" in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()


def test_acting_through_the_page_moves_it_and_shows_errors(client, service, make_complaint):
    complaint = make_complaint()
    login(client, service)
    response = client.post(reverse("complaints:act", args=[complaint.pk, "acknowledge"]), {"note": "已接收"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.ACKNOWLEDGED
    response = client.post(reverse("complaints:act", args=[complaint.pk, "resolve"]), {"note": "已处理"})
    assert response.status_code == 400
    assert "投诉状态不能从“已接收”改为“已处理待确认”" in response.content.decode()
    response = client.post(reverse("complaints:act", args=[complaint.pk, "approve"]))
    assert response.status_code == 403


def test_the_export_has_the_filtered_rows_with_masked_mobiles(client, service, make_complaint):
    complaint = make_complaint(complainant_mobile="13812340000")
    login(client, service)
    response = client.get(reverse("complaints:export"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "投诉编号"
    assert rows[2][0] == complaint.number
    assert rows[2][4] == "138****0000"


def test_the_workbench_card_counts_the_queue(service, make_complaint):
    from crm.complaints.cards import workbench_cards

    make_complaint(now=timezone.now() - timedelta(days=30))
    make_complaint(now=timezone.now())
    cards = workbench_cards(service, today=timezone.localdate())
    stats = {s.key: s for s in cards[0].stats}
    assert stats["complaints_open"].value == 2
    assert stats["complaints_breached"].value == 1
    assert stats["complaints_breached"].warn
    assert stats["complaints_mine"].value == 2
    assert "state=breached" in stats["complaints_breached"].url


def test_services_are_the_same_for_the_verbs_on_the_page():
    assert set(services.VERBS) >= {"acknowledge", "approve", "reject", "resolve", "confirm", "reopen", "cancel"}


def test_a_refused_action_keeps_its_box_open_with_the_error_on_the_field(client, service, make_complaint):
    complaint = make_complaint()
    login(client, service)
    client.post(reverse("complaints:act", args=[complaint.pk, "acknowledge"]))
    client.post(reverse("complaints:act", args=[complaint.pk, "investigate"]))
    response = client.post(reverse("complaints:act", args=[complaint.pk, "propose"]), {"plan": " "})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写处理方案（措施和预计完成时间）" in body
    assert 'id="id_propose_plan"' in body
    assert body.count('id="id_wait_note"') == 1


def test_staff_link_a_repeat_complaint_by_the_earlier_number(client, duty, project, category, make_complaint):
    earlier = make_complaint()
    login(client, duty)
    data = {
        "channel": "phone",
        "complainant_name": "张三",
        "complainant_mobile": "13800001111",
        "project": project.pk,
        "category": category.pk,
        "content": "问题仍未解决",
    }
    response = client.post(reverse("complaints:new"), data | {"repeat_of": "TS000"})
    assert "没有找到这个投诉编号" in response.content.decode()
    client.post(reverse("complaints:new"), data | {"repeat_of": earlier.number.lower()})
    repeat = Complaint.objects.exclude(pk=earlier.pk).get()
    assert repeat.is_repeat
    assert repeat.repeat_of == earlier


def test_the_list_reads_a_constant_number_of_queries(client, service, make_complaint, django_assert_num_queries):
    """Session, user, the page and the bell, whether the page is the last one (its total
    follows from its rows) or not (the total is fetched afterwards, complaint_list_count)."""
    make_complaint()
    login(client, service)
    client.get(reverse("complaints:list"))  # the user's roles and the work calendar, read once
    with django_assert_num_queries(4):
        body = client.get(reverse("complaints:list")).content.decode()
    assert "共 1 条" in body
    assert "hx-get" not in body.split('id="list-total"')[1].split(">")[0]
    for _ in range(30):
        make_complaint()
    with django_assert_num_queries(4):
        body = client.get(reverse("complaints:list")).content.decode()
    assert 'id="list-total" hx-get="/complaints/count/"' in body
    assert '<span id="pager-total"></span>' in body
    assert "下一页" in body


def test_the_total_reads_a_constant_number_of_queries(client, service, make_complaint, django_assert_num_queries):
    """Session, user and the capped count, however many complaints there are."""
    make_complaint()
    login(client, service)
    client.get(reverse("complaints:list"))
    with django_assert_num_queries(3):
        total = client.get(reverse("complaints:list_count")).content.decode()
    assert "共 1 条" in total
    for _ in range(30):
        make_complaint()
    with django_assert_num_queries(3):
        total = client.get(reverse("complaints:list_count")).content.decode()
    assert "共 31 条" in total
    assert 'id="pager-total" hx-swap-oob="true"> / 2' in total


def test_the_total_keeps_the_filters_and_the_scope(client, service, service_b, project_b, make_complaint, monkeypatch):
    from crm.customers.views import CappedPaginator

    for _ in range(3):
        make_complaint(channel="email")
    make_complaint()
    for _ in range(5):
        make_complaint(project=project_b, assignee=service_b)
    count = reverse("complaints:list_count")
    login(client, service)
    assert "共 4 条" in client.get(count).content.decode()
    assert "共 3 条" in client.get(f"{count}?channel=email&page=7").content.decode()
    monkeypatch.setattr(CappedPaginator, "CAP", 2)
    capped = client.get(count).content.decode()
    assert "共 2+ 条" in capped
    assert "超过 2 条时列表只显示“2+”，以便快速打开；请用筛选条件缩小范围" in capped
    monkeypatch.undo()
    assert "共 5 条" in login(client, service_b).get(count).content.decode()
    assert "共 0 条" in client.get(f"{count}?channel=email").content.decode()


def test_the_category_and_project_options_are_fetched_when_wanted(
    client, service, service_b, category, project, project_b, django_assert_num_queries
):
    login(client, service)
    client.get(reverse("complaints:list"))
    body = client.get(reverse("complaints:list")).content.decode()
    assert f'hx-get="{reverse("complaints:list_options", args=["category"])}"' in body
    assert "服务质量" not in body  # only the empty option until the dropdown is reached for
    body = client.get(reverse("complaints:list"), {"category": category.pk}).content.decode()
    assert f'<option value="{category.pk}" selected>服务质量</option>' in body
    options = client.get(reverse("complaints:list_options", args=["category"]), {"category": category.pk})
    assert f'<option value="{category.pk}" selected>服务质量</option>' in options.content.decode()
    projects = client.get(reverse("complaints:list_options", args=["project"])).content.decode()
    assert f'<option value="{project.pk}">{project.name}</option>' in projects
    assert f'value="{project_b.pk}"' not in projects  # the filter offers the user's projects only
    assert client.get(reverse("complaints:list_options", args=["assignee"])).status_code == 404


def test_the_export_never_carries_a_live_formula(client, service, make_complaint):
    make_complaint(complainant_name='=HYPERLINK("http://x","y")', content="=1+1")
    login(client, service)
    response = client.get(reverse("complaints:export"))
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    row = next(sheet.iter_rows(min_row=3, max_row=3))
    assert row[3].value == '\'=HYPERLINK("http://x","y")'
    assert row[3].data_type == "s"
    assert row[13].value == "'=1+1"


def test_the_list_reads_four_queries_and_escapes_what_was_typed(
    client, service, make_complaint, django_assert_num_queries
):
    """Session, user, the page and the bell, whatever the rows: the total comes from the last
    page or afterwards, the work calendar from the cache, the category and project options
    when the dropdown is opened; a director also reads the held mails' count
    (docs/performance.md, the complaint list 2026-12-06)."""
    now = timezone.now()
    make_complaint(now=now - timedelta(days=30))
    make_complaint(now=now, complainant_name="<b>李四</b>", is_special=True)
    login(client, service)
    client.get(reverse("complaints:list"))  # the first request reads the roles and the calendar once
    with django_assert_num_queries(4):
        body = client.get(reverse("complaints:list")).content.decode()
    assert "&lt;b&gt;李四&lt;/b&gt;" in body
    assert "<b>李四</b>" not in body
    assert '<span class="badge b">特殊</span>' in body
    assert body.count('class="overdue"') == 1
