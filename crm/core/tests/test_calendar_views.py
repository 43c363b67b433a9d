"""The 工作日历 page: administrators see the year, click days, paste the notice, review, save."""

from datetime import date
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from crm.accounts.roles import Role
from crm.core.calendar import work_calendar
from crm.core.models import AuditLog, CalendarDay, CalendarYear

NOTICES = Path(__file__).resolve().parents[2] / "lib" / "tests" / "notices"
YEAR_2027 = reverse("core:calendar_year", args=[2027])


def notice_text(name: str) -> str:
    return (NOTICES / f"{name}.txt").read_text(encoding="utf-8")


def kinds(response) -> dict[str, int]:
    body = response.content.decode()
    return {kind: body.count(f'data-kind="{kind}"') for kind in ("work", "rest", "holiday", "makeup")}


# ---------------------------------------------------------------- who may use it


def test_an_administrator_sees_an_unknown_year_with_weekends_as_rest_days(login, admin_user):
    response = login(admin_user).get(YEAR_2027)
    assert response.status_code == 200
    body = response.content.decode()
    assert "2027年的法定节假日安排尚未录入" in body
    assert [m.month for m in response.context["months"]] == list(range(1, 13))
    assert kinds(response) == {"work": 261, "rest": 104, "holiday": 0, "makeup": 0}


def test_a_member_of_the_administrator_role_may_use_it_without_being_superuser(login, make_staff):
    administrator = make_staff("role-admin", Role.ADMIN, is_staff=True)
    assert login(administrator).get(YEAR_2027).status_code == 200


def test_a_consultant_is_refused_in_chinese_and_changes_nothing(login, consultant):
    client = login(consultant)
    response = client.get(YEAR_2027)
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()
    assert client.post(reverse("core:calendar_toggle", args=[2027]), {"day": "2027-02-08"}).status_code == 403
    response = client.post(reverse("core:calendar_notice_save", args=[2027]), {"text": notice_text("2027-example")})
    assert response.status_code == 403
    assert not CalendarDay.objects.exists()
    assert not CalendarYear.objects.exists()


def test_the_menu_offers_the_calendar_to_administrators_only(login, admin_user, consultant):
    labels = [item["label"] for item in login(admin_user).get("/").context["menu"]]
    assert labels.index("工作日历") == labels.index("审计日志") + 1
    assert "工作日历" not in [item["label"] for item in login(consultant).get("/").context["menu"]]


@pytest.mark.parametrize(("today", "year"), [("2026-10-31", 2026), ("2026-11-01", 2027)])
def test_the_calendar_opens_on_next_year_from_november(login, admin_user, today, year):
    with time_machine.travel(f"{today} 09:00 +0800", tick=False):
        response = login(admin_user).get(reverse("core:calendar"))
    assert response.url == reverse("core:calendar_year", args=[year])


def test_a_year_out_of_range_is_not_found(login, admin_user):
    assert login(admin_user).get("/settings/calendar/1999/").status_code == 404


def test_a_library_year_is_shown_as_chinese_calendar_has_it(login, admin_user):
    response = login(admin_user).get(reverse("core:calendar_year", args=[2026]))
    body = response.content.decode()
    assert "系统已内置" in body
    assert kinds(response)["makeup"] == 6
    assert 'id="d20260217" class="day holiday"' in body


# ---------------------------------------------------------------- a click on a day


def test_an_htmx_click_returns_the_days_cell(login, admin_user):
    response = login(admin_user).post(
        reverse("core:calendar_toggle", args=[2027]), {"day": "2027-02-08"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    cell = response.content.decode().strip()
    assert cell.startswith('<button type="submit" name="day" value="2027-02-08" id="d20270208"')
    assert 'class="day holiday override"' in cell
    assert CalendarDay.objects.get().is_working_day is False
    assert AuditLog.objects.get(action=AuditLog.Action.CALENDAR).actor == admin_user


def test_a_click_without_javascript_returns_to_the_month(login, admin_user):
    client = login(admin_user)
    response = client.post(reverse("core:calendar_toggle", args=[2027]), {"day": "2027-02-20"})
    assert response.url == f"{YEAR_2027}#m2"
    assert CalendarDay.objects.get(day=date(2027, 2, 20)).is_working_day is True
    assert "2月20日已改为上班" in client.get(YEAR_2027).content.decode()


def test_a_day_of_another_year_is_refused(login, admin_user):
    response = login(admin_user).post(reverse("core:calendar_toggle", args=[2027]), {"day": "2028-02-08"})
    assert response.status_code == 400
    assert not CalendarDay.objects.exists()


def test_a_year_entered_by_hand_is_marked_complete(login, admin_user):
    client = login(admin_user)
    response = client.post(reverse("core:calendar_complete", args=[2027]))
    assert response.url == YEAR_2027
    assert CalendarYear.objects.get().source == "手工逐日录入"
    assert "已录入" in client.get(YEAR_2027).content.decode()


# ---------------------------------------------------------------- the notice


def test_a_pasted_notice_is_reviewed_then_saved_and_the_year_is_known(login, admin_user):
    client = login(admin_user)
    review = client.post(reverse("core:calendar_notice", args=[2027]), {"text": notice_text("2027-example")})
    assert review.status_code == 200
    body = review.content.decode()
    assert "国务院办公厅关于2027年部分节假日安排的通知" in body
    assert "2月5日 至 2月12日" in body
    assert "未能识别" not in body
    assert review.context["new_days"] == 33
    assert not CalendarDay.objects.exists()  # nothing saved before 保存

    saved = client.post(reverse("core:calendar_notice_save", args=[2027]), {"text": notice_text("2027-example")})
    assert saved.url == YEAR_2027
    assert work_calendar().knows(2027)
    assert CalendarYear.objects.get().source == "国务院办公厅关于2027年部分节假日安排的通知"

    page = client.get(YEAR_2027)
    body = page.content.decode()
    assert "新增33天，修改0天" in body
    assert 'id="d20270208" class="day holiday override"' in body
    # 28 holidays: 18 weekdays and 10 weekend days inside the ranges; 5 make-up weekend days.
    assert kinds(page) == {"work": 261 - 18, "rest": 104 - 10 - 5, "holiday": 28, "makeup": 5}


def test_unread_lines_are_shown_in_red_and_must_be_acknowledged(login, admin_user):
    client = login(admin_user)
    text = notice_text("2027-example").replace("三、清明节：4月3日（周六）至5日（周一）", "三、清明节：4月3日前后")
    review = client.post(reverse("core:calendar_notice", args=[2027]), {"text": text})
    body = review.content.decode()
    assert 'class="card problems"' in body
    assert "三、清明节：4月3日前后放假，共3天。" in body

    refused = client.post(reverse("core:calendar_notice_save", args=[2027]), {"text": text})
    assert refused.status_code == 200
    assert "请核对后勾选确认" in refused.content.decode()
    assert not CalendarYear.objects.exists()

    saved = client.post(
        reverse("core:calendar_notice_save", args=[2027]), {"text": text, "problems_acknowledged": "on"}
    )
    assert saved.status_code == 302
    assert not CalendarDay.objects.filter(day=date(2027, 4, 5)).exists()
    assert CalendarDay.objects.filter(day=date(2027, 2, 8), is_working_day=False).exists()


def test_an_empty_paste_asks_for_the_notice(login, admin_user):
    response = login(admin_user).post(reverse("core:calendar_notice", args=[2027]), {"text": "  "})
    assert response.status_code == 200
    assert "请粘贴通知全文" in response.content.decode()


def test_last_years_notice_for_next_year_cannot_be_saved(login, admin_user):
    response = login(admin_user).post(reverse("core:calendar_notice", args=[2027]), {"text": notice_text("2026")})
    body = response.content.decode()
    assert "这是2026年的通知，不是2027年的" in body
    assert "disabled" in body  # 保存 is off: nothing was read


def test_a_notice_for_a_library_year_is_compared_with_the_library(login, admin_user):
    response = login(admin_user).post(reverse("core:calendar_notice", args=[2026]), {"text": notice_text("2026")})
    assert "与系统内置的2026年安排逐日一致" in response.content.decode()
