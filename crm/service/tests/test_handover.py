"""Roster, duty log, handover (四不接, both logins) and the director's spot checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.models import TimelineEvent
from crm.service import selectors, services
from crm.service.models import DutyCheck, Handover, HandoverEvent, HandoverItem

from .conftest import HOLIDAY_8AM, WORKDAY_8AM

Status = Handover.Status
pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the roster


def test_a_workday_shift_needs_no_manager(make_shift, duty):
    shift = make_shift()
    assert shift.is_holiday is False
    assert shift.officer == duty


def test_a_holiday_shift_without_a_mid_level_manager_is_refused(make_shift):
    with pytest.raises(DomainError, match="节假日班次须安排中级以上管理人员值班") as exc:
        make_shift(start=HOLIDAY_8AM)
    assert exc.value.field == "manager"


def test_a_holiday_shift_with_a_manager_is_marked_holiday(make_shift, manager):
    shift = make_shift(start=HOLIDAY_8AM, manager=manager)
    assert shift.is_holiday is True
    assert shift.manager == manager


def test_a_duty_officer_is_not_a_mid_level_manager(make_shift, duty2):
    with pytest.raises(DomainError, match="不是中级以上管理人员"):
        make_shift(start=HOLIDAY_8AM, manager=duty2)


def test_a_night_shift_running_into_the_holiday_needs_a_manager(make_shift):
    with pytest.raises(DomainError, match="节假日"):
        make_shift(start=HOLIDAY_8AM - timedelta(days=1, hours=-12), hours=12)  # 09-30 20:00 → 10-01 08:00


def test_an_unknown_calendar_year_is_refused_not_guessed(make_shift):
    with pytest.raises(DomainError, match="2027年的工作日历尚未录入"):
        make_shift(start=WORKDAY_8AM.replace(year=2027))


def test_an_officer_is_not_on_two_shifts_at_once(make_shift):
    make_shift()
    with pytest.raises(DomainError, match="已有班次"):
        make_shift(start=WORKDAY_8AM + timedelta(hours=6))


@pytest.mark.parametrize(("hours", "message"), [(0, "结束时间须晚于开始时间"), (25, "最长 24 小时")])
def test_shift_length_is_checked(make_shift, hours, message):
    with pytest.raises(DomainError, match=message):
        make_shift(hours=hours)


def test_only_the_director_plans_and_only_duty_staff_of_the_project_are_planned(duty, duty_b, project, calendar):
    with pytest.raises(NotAllowed):
        services.plan_shift(
            actor=duty, project=project, officer=duty, starts_at=WORKDAY_8AM, ends_at=WORKDAY_8AM + timedelta(hours=8)
        )


def test_an_officer_of_another_project_cannot_be_planned(make_shift, duty_b):
    with pytest.raises(DomainError, match="不属于楼盘"):
        make_shift(officer=duty_b)


# ---------------------------------------------------------------- the duty log


def test_a_call_about_a_customer_goes_on_the_timeline(make_shift, duty, customer):
    shift = make_shift()
    services.log_duty(shift, actor=duty, kind="call", content="询问交房时间", customer=customer, at=WORKDAY_8AM)
    event = TimelineEvent.objects.get(customer=customer, kind=TimelineEvent.Kind.CALL)
    assert "询问交房时间" in event.summary


def test_only_the_officer_on_the_shift_keeps_its_log(make_shift, duty2):
    shift = make_shift()
    with pytest.raises(NotAllowed):
        services.log_duty(shift, actor=duty2, kind="call", content="x")


def test_an_empty_log_entry_is_refused(make_shift, duty):
    with pytest.raises(DomainError, match="请填写记录内容"):
        services.log_duty(make_shift(), actor=duty, kind="call", content="  ")


# ---------------------------------------------------------------- the handover


def test_a_handover_copies_the_default_checklist(handover):
    assert list(handover.items.values_list("name", flat=True)) == list(services.DEFAULT_DUTY_ITEMS)
    assert handover.status == Status.OPEN


def test_a_ready_handover_is_accepted_by_the_incoming_officer(ready_handover, duty2):
    services.accept_handover(ready_handover, actor=duty2, log_clear=True, area_clean=True)
    ready_handover.refresh_from_db()
    assert ready_handover.status == Status.ACCEPTED
    assert ready_handover.accepted_at is not None
    assert ready_handover.submitted_at is not None


def test_each_officer_signs_with_their_own_login(handover, ready_handover, duty, duty2, director):
    with pytest.raises(NotAllowed):
        services.accept_handover(ready_handover, actor=duty, log_clear=True, area_clean=True)
    with pytest.raises(NotAllowed):
        services.accept_handover(ready_handover, actor=director, log_clear=True, area_clean=True)
    assert Handover.objects.get(pk=ready_handover.pk).status == Status.SUBMITTED


def test_the_incoming_officer_cannot_sign_for_the_outgoing_one(handover, duty2):
    with pytest.raises(NotAllowed):
        services.submit_handover(handover, actor=duty2)


def test_accepting_before_the_outgoing_officer_signs_is_refused(handover, duty2):
    with pytest.raises(services.IllegalMove):
        services.accept_handover(handover, actor=duty2, log_clear=True, area_clean=True)


def _refused(handover, duty2, **checks):
    kwargs = {"log_clear": True, "area_clean": True} | checks
    with pytest.raises(services.HandoverRefused) as exc:
        services.accept_handover(handover, actor=duty2, **kwargs)
    handover.refresh_from_db()
    assert handover.status == Status.SUBMITTED
    assert handover.refused_at is not None
    assert HandoverEvent.objects.filter(handover=handover, kind=HandoverEvent.Kind.REFUSED).exists()
    return exc.value.reasons


def test_refusal_one_an_empty_log(handover, duty, duty2):
    services.submit_handover(handover, actor=duty)  # nothing written
    reasons = _refused(handover, duty2)
    assert len(reasons) == 1
    assert reasons[0].startswith("记录不清")


def test_refusal_one_the_incoming_officer_finds_the_log_unclear(ready_handover, duty2):
    reasons = _refused(ready_handover, duty2, log_clear=False)
    assert len(reasons) == 1
    assert reasons[0].startswith("记录不清")


def test_refusal_two_the_area_is_not_confirmed_clean(ready_handover, duty2):
    reasons = _refused(ready_handover, duty2, area_clean=False)
    assert len(reasons) == 1
    assert reasons[0].startswith("卫生不洁")
    assert ready_handover.refusal_reasons == "卫生不洁不接"


def test_refusal_three_an_unexplained_missing_item_then_explained(ready_handover, duty, duty2):
    keys = ready_handover.items.get(name="钥匙")
    services.check_item(keys, actor=duty2, state=HandoverItem.State.MISSING)
    reasons = _refused(ready_handover, duty2)
    assert reasons == ["公物缺失不接：钥匙 损坏或缺失，交班人须说明原因"]
    with pytest.raises(DomainError, match="须由交班人说明"):
        services.check_item(keys, actor=duty2, state=HandoverItem.State.MISSING, explanation="我来写")
    services.check_item(keys, actor=duty, state=HandoverItem.State.MISSING, explanation="钥匙交物业前台保管")
    services.accept_handover(ready_handover, actor=duty2, log_clear=True, area_clean=True)
    assert Handover.objects.get(pk=ready_handover.pk).status == Status.ACCEPTED


def test_refusal_four_a_major_repair_still_open(handover, duty, duty2):
    with pytest.raises(DomainError, match="请说明未完成的重大维修"):
        services.update_handover(
            handover, actor=duty, log_summary="x", open_matters="", major_repair_open=True, major_repair_note=""
        )
    services.update_handover(
        handover, actor=duty, log_summary="平安", open_matters="", major_repair_open=True, major_repair_note="空调漏水"
    )
    services.submit_handover(handover, actor=duty)
    reasons = _refused(handover, duty2)
    assert len(reasons) == 1
    assert reasons[0].startswith("重大维修未完")
    services.finish_repair(handover, actor=duty2, note="工程部已修好")
    services.accept_handover(handover, actor=duty2, log_clear=True, area_clean=True)
    assert Handover.objects.get(pk=handover.pk).status == Status.ACCEPTED


def test_all_four_refusals_are_listed_together(handover, duty, duty2):
    services.update_handover(
        handover, actor=duty, log_summary="", open_matters="", major_repair_open=True, major_repair_note="门禁坏"
    )
    services.check_item(handover.items.get(name="电脑"), actor=duty, state=HandoverItem.State.DAMAGED)
    services.submit_handover(handover, actor=duty)
    reasons = _refused(handover, duty2, log_clear=False, area_clean=False)
    assert [r[:4] for r in reasons] == ["记录不清", "卫生不洁", "公物缺失", "重大维修"]


def test_a_returned_handover_goes_back_to_the_outgoing_officer(ready_handover, duty, duty2):
    with pytest.raises(DomainError, match="请说明退回原因"):
        services.return_handover(ready_handover, actor=duty2, note="")
    services.return_handover(ready_handover, actor=duty2, note="记录缺少 14:00 来访")
    ready_handover.refresh_from_db()
    assert ready_handover.status == Status.OPEN
    assert ready_handover.submitted_at is None
    services.update_handover(
        ready_handover,
        actor=duty,
        log_summary="补充来访",
        open_matters="",
        major_repair_open=False,
        major_repair_note="",
    )


def test_an_accepted_handover_cannot_change(ready_handover, duty, duty2):
    services.accept_handover(ready_handover, actor=duty2, log_clear=True, area_clean=True)
    with pytest.raises(DomainError):
        services.check_item(ready_handover.items.first(), actor=duty, state=HandoverItem.State.MISSING)
    with pytest.raises(services.IllegalMove):
        services.return_handover(ready_handover, actor=duty2, note="x")


def test_the_lifecycle_table_is_what_the_mover_enforces(handover, duty):
    for frm in Status:
        for to in Status:
            Handover.objects.filter(pk=handover.pk).update(status=frm)
            allowed = to in Handover.ALLOWED_MOVES[frm]
            if allowed:
                services.move(handover, to, actor=duty)
                assert Handover.objects.get(pk=handover.pk).status == to
            else:
                with pytest.raises(services.IllegalMove):
                    services.move(handover, to, actor=duty)


def test_the_director_sees_open_and_refused_handovers(ready_handover, duty2, director, duty_b):
    _refused(ready_handover, duty2, area_clean=False)
    open_ = selectors.handovers_visible_to(director).filter(selectors.handover_state_q("open", user=director))
    refused = selectors.handovers_visible_to(director).filter(selectors.handover_state_q("refused", user=director))
    assert list(open_) == [ready_handover]
    assert list(refused) == [ready_handover]
    assert not selectors.handovers_visible_to(duty_b).exists()  # another project's officer


def test_the_incoming_officer_sees_what_waits_for_them(ready_handover, duty2, duty):
    assert (
        selectors.handovers_visible_to(duty2).filter(selectors.handover_state_q("waiting_me", user=duty2)).count() == 1
    )
    assert selectors.handovers_visible_to(duty).filter(selectors.handover_state_q("waiting_me", user=duty)).count() == 0


def test_the_incoming_officer_must_be_duty_staff_of_the_project(make_shift, duty, duty_b, consultant):
    shift = make_shift()
    for other in (duty_b, consultant, duty):
        with pytest.raises(DomainError):
            services.start_handover(shift, actor=duty, incoming=other)


# ---------------------------------------------------------------- spot checks


def test_the_director_records_a_spot_check(make_shift, director, duty):
    shift = make_shift()
    with pytest.raises(DomainError, match="发现问题时请填写检查情况"):
        services.record_spot_check(shift, actor=director, result=DutyCheck.Result.PROBLEM)
    check = services.record_spot_check(
        shift, actor=director, result=DutyCheck.Result.PROBLEM, note="值班人员未佩戴胸卡"
    )
    assert check.checked_by == director
    with pytest.raises(NotAllowed):
        services.record_spot_check(shift, actor=duty, result=DutyCheck.Result.OK)
