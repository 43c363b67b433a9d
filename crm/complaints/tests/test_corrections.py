"""What real offices get wrong at registration and put right afterwards: the unit typed as
free text ("3#1502") linked to the project's unit, 更正登记信息 (project, unit, category) by
the director with the reason kept, and a held mail registered from its own text
(按此邮件登记投诉) so it is linked and never left held."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from crm.complaints import services
from crm.complaints.mail_intake import MailboxConfig, intake_mail, register_held_mail
from crm.complaints.models import Category, Channel, Complaint, ComplaintEvent, InboundMail
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.lib.dates import CHINA_TZ
from crm.projects.models import Building, Unit
from crm.projects.selectors import match_unit

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def unit_1502(project) -> Unit:
    building = Building.objects.create(project=project, name="3号楼", floors=18)
    Unit.objects.create(project=project, building=building, number="1501")
    return Unit.objects.create(project=project, building=building, number="1502")


@pytest.mark.parametrize(
    "text", ["3号楼1502", "3栋1502室", "3-1502", "3#1502", "３号楼 １５０２", "3幢2单元1502", " 3号楼-1502 "]
)
def test_what_people_type_for_a_unit_finds_it(project, unit_1502, text):
    assert match_unit(project.pk, text) == unit_1502


@pytest.mark.parametrize("text", ["", "1502", "4号楼1502", "3号楼1503", "三号楼1502", "3号楼1502; DROP"])
def test_text_that_names_no_single_unit_finds_none(project, unit_1502, text):
    assert match_unit(project.pk, text) is None


def test_two_buildings_that_both_fit_leave_the_choice_to_staff(project, unit_1502):
    other = Building.objects.create(project=project, name="3栋", floors=18)
    Unit.objects.create(project=project, building=other, number="1502")
    assert match_unit(project.pk, "3-1502") is None
    # The other project's unit of the same label is never found.
    assert match_unit(project.pk + 999, "3号楼1502") is None


def test_a_public_complaint_with_a_typed_unit_is_linked_to_it(company, project, category, unit_1502):
    intake = services.Intake(
        channel=Channel.WEBSITE,
        complainant_name="王先生",
        complainant_mobile="13900002222",
        content="3号楼电梯经常停运",
        project=project,
        category=category,
        unit_text="3#1502",
    )
    complaint = services.register_external_complaint(intake, company=company, source="官网", now=NOW)
    assert complaint.unit == unit_1502
    assert complaint.unit_text == "3#1502"  # what they typed is kept beside the link
    unmatched = services.register_external_complaint(
        intake.__class__(**{**intake.__dict__, "unit_text": "9号楼101", "complainant_mobile": "13900003333"}),
        company=company,
        source="官网",
        now=NOW,
    )
    assert unmatched.unit is None
    assert unmatched.unit_text == "9号楼101"


@pytest.fixture
def complaint(make_complaint) -> Complaint:
    return make_complaint(now=NOW)


def test_the_director_corrects_project_unit_and_category_with_the_reason_kept(complaint, director, project_b, company):
    building = Building.objects.create(project=project_b, name="1号楼", floors=10)
    unit = Unit.objects.create(project=project_b, building=building, number="802")
    contract = Category.objects.get(company=company, name="合同")
    assignee, status = complaint.assignee, complaint.status
    services.correct_complaint(
        complaint, actor=director, project=project_b, unit=unit, category=contract, note="登记时选错楼盘", now=NOW
    )
    complaint.refresh_from_db()
    assert (complaint.project, complaint.unit, complaint.category) == (project_b, unit, contract)
    # Owner and status do not move by themselves.
    assert (complaint.assignee, complaint.status) == (assignee, status)
    event = complaint.events.get(kind=ComplaintEvent.Kind.CORRECTED)
    assert event.actor == director
    assert event.note == (
        "更正登记信息：楼盘：锦华苑 → 滨江御府；房号：空 → 1号楼-802；类别：服务质量 → 合同。原因：登记时选错楼盘"
    )


def test_a_correction_is_refused_without_the_right_reason_or_change(
    complaint, director, service, project, project_b, category, unit_1502
):
    with pytest.raises(NotAllowed):
        services.correct_complaint(
            complaint, actor=service, project=project_b, unit=None, category=category, note="x", now=NOW
        )
    with pytest.raises(DomainError, match="请填写更正原因"):
        services.correct_complaint(
            complaint, actor=director, project=project_b, unit=None, category=category, note=" ", now=NOW
        )
    with pytest.raises(DomainError, match="房号不属于所选楼盘"):
        services.correct_complaint(
            complaint, actor=director, project=project_b, unit=unit_1502, category=category, note="改", now=NOW
        )
    with pytest.raises(DomainError, match="没有需要更正的内容"):
        services.correct_complaint(
            complaint, actor=director, project=project, unit=None, category=category, note="改", now=NOW
        )
    services.cancel_complaint(complaint, actor=director, note="投诉人撤回", now=NOW)
    with pytest.raises(DomainError, match="已归档或已撤销"):
        services.correct_complaint(
            complaint, actor=director, project=project_b, unit=None, category=category, note="改", now=NOW
        )
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.CORRECTED).exists()


def test_the_correction_form_on_the_detail_page(client, complaint, director, service, project_b, category):
    url = reverse("complaints:correct", args=[complaint.pk])
    client.force_login(service)
    assert "更正登记信息" not in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert client.post(url, {"project": project_b.pk, "category": category.pk, "note": "x"}).status_code == 403
    client.force_login(director)
    assert "更正登记信息" in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    response = client.post(url, {"project": project_b.pk, "category": category.pk, "note": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "请填写更正原因" in page
    assert f'<option value="{project_b.pk}" selected>' in page  # what was chosen is kept
    assert client.post(url, {"project": project_b.pk, "category": category.pk, "note": "选错楼盘"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.project == project_b
    assert "楼盘：锦华苑 → 滨江御府" in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()


HELD_MAIL = (
    "From: =?utf-8?b?5p2O5aWz5aOr?= <li@example.com>\r\nSubject: =?utf-8?b?5ryP5rC0?=\r\n"
    "Message-ID: <held-register@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "卫生间漏水两周无人处理，电话 138 0000 5555。\r\n"
).encode()


@pytest.fixture
def held(duty, category) -> InboundMail:
    """Names no project while no default project is set: held for the director."""
    mail = intake_mail(HELD_MAIL, actor=duty, config=MailboxConfig("h", 1, "u", "p", actor="duty"), now=NOW)
    assert mail.status == InboundMail.Status.HELD
    return mail


def test_the_director_registers_a_held_mail_from_its_own_text(client, held, director, project, category):
    client.force_login(director)
    mail_page = client.get(reverse("complaints:mail", args=[held.pk])).content.decode()
    assert f"?mail={held.pk}" in mail_page
    form_url = reverse("complaints:new") + f"?mail={held.pk}"
    page = client.get(form_url).content.decode()
    assert 'value="li@example.com"' in page
    assert 'value="13800005555"' in page  # the mobile written in the mail
    assert "卫生间漏水两周无人处理" in page
    assert f'action="{form_url}"' in page
    data = {
        "channel": Channel.EMAIL,
        "complainant_name": "李女士",
        "complainant_mobile": "13800005555",
        "complainant_email": "li@example.com",
        "project": project.pk,
        "category": category.pk,
        "content": "漏水：卫生间漏水两周无人处理",
    }
    assert client.post(form_url, data).status_code == 302
    complaint = Complaint.objects.get()
    held.refresh_from_db()
    assert held.status == InboundMail.Status.REGISTERED
    assert held.complaint == complaint
    assert held.handled_by == director
    assert bytes(held.raw) == b""
    assert held.reason.endswith(f"；已人工登记为投诉 {complaint.number}")
    # The mail is no longer offered for registration; nothing is registered twice.
    assert client.get(form_url).status_code == 404
    with pytest.raises(DomainError, match="这封邮件已处理"):
        register_held_mail(
            held, services.Intake(**{**data, "project": project, "category": category}), actor=director, now=NOW
        )
    assert Complaint.objects.count() == 1


def test_a_failed_registration_leaves_the_mail_held(client, held, director, project):
    client.force_login(director)
    form_url = reverse("complaints:new") + f"?mail={held.pk}"
    response = client.post(form_url, {"channel": Channel.EMAIL, "complainant_name": "李女士", "project": project.pk})
    assert response.status_code == 200
    assert "请选择投诉类别" in response.content.decode()
    held.refresh_from_db()
    assert held.status == InboundMail.Status.HELD
    assert Complaint.objects.count() == 0


def test_only_the_director_registers_from_a_held_mail(client, held, service, duty):
    for user in (service, duty):
        client.force_login(user)
        assert client.get(reverse("complaints:new") + f"?mail={held.pk}").status_code == 403
    client.force_login(duty)
    assert client.get(reverse("complaints:new") + "?mail=abc").status_code in (403, 404)
