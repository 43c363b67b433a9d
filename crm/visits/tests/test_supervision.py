"""Supervision of visit records (issue 12, item 6): the review list in scope, a reproducible
sample, a flag the visitor answers (closing it), accepted or re-opened by the supervisor;
the forbidden phrases of seed 004 and the company's list flag a record on save."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.visits import cards, selectors, services, supervision
from crm.visits.models import FlagEvent, ForbiddenPhrase, ReviewFlag
from crm.visits.tests.conftest import cst

pytestmark = pytest.mark.django_db
NOW = cst(2026, 9, 28, 10, 30)
Flag = ReviewFlag.Status


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def done(task, actor, opinions="", score=4):
    scores = dict.fromkeys(task.questions, score)
    return services.record_outcome(task, actor=actor, reached=True, channel="phone", scores=scores, opinions=opinions)


@pytest.fixture
def record(make_task, customer, consultant):
    return done(make_task(customer), consultant, opinions="客户对售楼处环境满意")


# ---------------------------------------------------------------- forbidden phrases


@pytest.mark.parametrize(
    ("opinions", "phrase"),
    [
        ("客户问车位，我说我不知道，让他问物业", "我不知道"),
        ("告诉客户 这事情 不归我管", "这事情不归我管"),
    ],
)
def test_a_seed_phrase_in_the_notes_flags_the_record(make_task, customer, consultant, opinions, phrase):
    task = done(make_task(customer), consultant, opinions=opinions)
    flag = ReviewFlag.objects.get(task=task)
    assert flag.source == ReviewFlag.Source.PHRASE
    assert flag.phrase == phrase
    assert flag.status == Flag.OPEN
    assert flag.visitor == consultant
    assert phrase in flag.comment
    assert FlagEvent.objects.filter(flag=flag, kind=FlagEvent.Kind.FLAGGED, actor=None).count() == 1


def test_the_companys_own_phrases_are_checked_and_clean_notes_are_not_flagged(
    make_task, customer, consultant, company, make_customer
):
    clean = done(make_task(customer), consultant, opinions="客户很满意，表示会介绍朋友")
    assert not ReviewFlag.objects.filter(task=clean).exists()
    ForbiddenPhrase.objects.create(company=company, phrase="你自己去问")
    ForbiddenPhrase.objects.create(company=company, phrase="关我什么事", is_active=False)
    other = make_customer("李四")
    task = done(make_task(other), consultant, opinions="回复客户：你自己去问销售，关我什么事")
    assert list(ReviewFlag.objects.filter(task=task).values_list("phrase", flat=True)) == ["你自己去问"]


def test_an_unreached_call_with_a_phrase_is_flagged_once(make_task, customer, consultant):
    task = make_task(customer)
    for _ in range(2):
        services.record_outcome(
            task, actor=consultant, reached=False, channel="phone", opinions="家属说我不知道他去哪了"
        )
        task.refresh_from_db()
    assert ReviewFlag.objects.filter(task=task, status=Flag.OPEN).count() == 1


# ---------------------------------------------------------------- flag, answer, accept, re-open


def test_the_flow_flag_answer_reopen_answer_accept(record, supervisor, consultant, teammate):
    flag = supervision.flag_record(record, actor=supervisor, comment="满意度 4 分但意见栏很简单，请补充客户的具体意见")
    assert flag.visitor == consultant
    assert list(selectors.open_flags_for_visitor(consultant)) == [flag]
    with pytest.raises(NotAllowed):
        supervision.answer_flag(flag, actor=teammate, answer="代答")
    with pytest.raises(DomainError, match="请填写答复"):
        supervision.answer_flag(flag, actor=consultant, answer="  ")
    with pytest.raises(DomainError, match="待答复"):
        supervision.accept_flag(flag, actor=supervisor)
    flag = supervision.answer_flag(flag, actor=consultant, answer="客户还提到希望增加车位")
    assert flag.status == Flag.ANSWERED
    assert not selectors.open_flags_for_visitor(consultant).exists()
    with pytest.raises(NotAllowed):
        supervision.reopen_flag(flag, actor=consultant, comment="x")
    with pytest.raises(DomainError, match="补充说明"):
        supervision.reopen_flag(flag, actor=supervisor, comment="")
    flag = supervision.reopen_flag(flag, actor=supervisor, comment="车位的诉求请登记为回访问题")
    assert flag.status == Flag.OPEN
    assert flag.comment == "车位的诉求请登记为回访问题"
    flag = supervision.answer_flag(flag, actor=consultant, answer="已补登记")
    flag = supervision.accept_flag(flag, actor=supervisor)
    assert flag.status == Flag.ACCEPTED
    kinds = list(FlagEvent.objects.filter(flag=flag).values_list("kind", flat=True))
    assert kinds == ["flagged", "answered", "reopened", "answered", "accepted"]


def test_only_ended_records_are_flagged_with_a_comment(make_task, customer, record, supervisor):
    with pytest.raises(DomainError, match="已结束"):
        supervision.flag_record(make_task(customer), actor=supervisor, comment="x")
    with pytest.raises(DomainError, match="请填写督查意见"):
        supervision.flag_record(record, actor=supervisor, comment=" ")


@pytest.mark.parametrize("who", ["consultant", "leader", "outsider", "service"])
def test_who_is_not_a_supervisor_cannot_flag(record, who, request):
    with pytest.raises(NotAllowed):
        supervision.flag_record(record, actor=request.getfixturevalue(who), comment="x")


def test_the_director_flags_too(record, director):
    assert supervision.flag_record(record, actor=director, comment="请说明").status == Flag.OPEN


# ---------------------------------------------------------------- pages


def test_the_review_page_filters_and_samples_reproducibly(
    client, make_task, make_customer, consultant, teammate, supervisor, project
):
    for i in range(6):
        visitor = consultant if i % 2 else teammate
        done(make_task(make_customer(f"客户{i}", owner=visitor)), visitor, score=3 if i < 2 else 5)
    client.force_login(supervisor)
    url = reverse("visits:review")
    page = client.get(url).content.decode()
    assert page.count('data-task="') == 6
    low = client.get(url, {"score": "low"}).content.decode()
    assert low.count('data-task="') == 2
    mine = client.get(url, {"visitor": consultant.pk}).content.decode()
    assert mine.count('data-task="') == 3
    drawn = client.get(url, {"size": "3"})
    assert drawn.status_code == 302
    assert "seed=" in drawn.url
    first = client.get(drawn.url).content.decode()
    again = client.get(drawn.url).content.decode()
    assert first.count('data-task="') == 3
    rows = [line for line in first.splitlines() if 'data-task="' in line]
    assert rows == [line for line in again.splitlines() if 'data-task="' in line]
    assert "抽样种子" in first
    refused = client.get(url, {"size": "0"}).content.decode()
    assert "抽取条数应为 1–200 的整数" in refused


def test_the_outsider_and_the_consultant_cannot_review_or_flag(client, record, outsider, consultant):
    client.force_login(outsider)
    assert client.get(reverse("visits:review")).status_code == 403
    assert client.post(reverse("visits:flag", args=[record.pk]), {"comment": "x"}).status_code == 403
    client.force_login(consultant)
    assert client.get(reverse("visits:review")).status_code == 403
    assert client.post(reverse("visits:flag", args=[record.pk]), {"comment": "x"}).status_code == 403
    assert not ReviewFlag.objects.exists()


def test_a_supervisor_out_of_scope_gets_a_404(client, record, make_staff, project_b):
    from crm.accounts.roles import Role

    other_director = make_staff("director_b", Role.DIRECTOR, projects=(project_b,))
    client.force_login(other_director)
    assert client.post(reverse("visits:flag", args=[record.pk]), {"comment": "x"}).status_code == 404
    assert client.get(reverse("visits:review")).content.decode().count('data-task="') == 0


def test_the_pages_flag_answer_and_accept(client, record, supervisor, consultant):
    client.force_login(supervisor)
    refused = client.post(reverse("visits:flag", args=[record.pk]), {"comment": ""})
    assert refused.status_code == 400
    assert "请填写督查意见" in refused.content.decode()
    client.post(reverse("visits:flag", args=[record.pk]), {"comment": "请补充<script>意见</script>"})
    flag = ReviewFlag.objects.get()
    client.force_login(consultant)
    today_cards = [c.key for c in cards.workbench_cards(consultant, today=NOW.date())]
    assert "visit_flags_answer" in today_cards
    page = client.get(reverse("visits:detail", args=[record.pk])).content.decode()
    assert "请补充&lt;script&gt;意见&lt;/script&gt;" in page
    assert "flag-answer-form" in page
    empty = client.post(reverse("visits:flag_act", args=[flag.pk, "answer"]), {"answer": ""})
    assert empty.status_code == 400
    assert "请填写答复" in empty.content.decode()
    client.post(reverse("visits:flag_act", args=[flag.pk, "answer"]), {"answer": "已补充"})
    flag.refresh_from_db()
    assert flag.status == Flag.ANSWERED
    assert "visit_flags_answer" not in [c.key for c in cards.workbench_cards(consultant, today=NOW.date())]
    # The visitor cannot accept their own answer.
    assert client.post(reverse("visits:flag_act", args=[flag.pk, "accept"])).status_code == 403
    client.force_login(supervisor)
    client.post(reverse("visits:flag_act", args=[flag.pk, "accept"]))
    flag.refresh_from_db()
    assert flag.status == Flag.ACCEPTED


def test_the_api_lists_and_answers_flags_in_the_same_scope(record, supervisor, consultant, outsider):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def api(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    flag = supervision.flag_record(record, actor=supervisor, comment="请补充")
    mine = api(consultant).get("/api/visits/flags/?mine=1").json()
    assert [row["id"] for row in mine["results"]] == [flag.pk]
    assert api(outsider).get("/api/visits/flags/").json()["results"] == []
    assert api(outsider).post(f"/api/visits/flags/{flag.pk}/answer/", {"answer": "x"}).status_code == 404
    refused = api(consultant).post(f"/api/visits/flags/{flag.pk}/answer/", {"answer": ""}, format="json")
    assert refused.status_code == 400
    assert "请填写答复" in refused.content.decode()
    answered = api(consultant).post(f"/api/visits/flags/{flag.pk}/answer/", {"answer": "已补充"}, format="json")
    assert answered.json()["status"] == "answered"
    assert api(consultant).post(f"/api/visits/flags/{flag.pk}/accept/").status_code == 403
    assert api(supervisor).post(f"/api/visits/flags/{flag.pk}/accept/").json()["status"] == "accepted"


def test_the_review_export_lists_the_filtered_records_with_their_flags(
    client, make_task, customer, consultant, supervisor, outsider
):
    from io import BytesIO

    from openpyxl import load_workbook

    done(make_task(customer), consultant, opinions="我不知道")
    done(make_task(customer), consultant, opinions="很好")
    client.force_login(supervisor)
    response = client.get(reverse("visits:review_export"), {"flagged": "phrase"})
    rows = list(
        load_workbook(BytesIO(b"".join(response.streaming_content))).active.iter_rows(min_row=3, values_only=True)
    )
    assert len(rows) == 1
    assert rows[0][8] == "我不知道"
    assert rows[0][9:] == (1, 1, "我不知道")
    client.force_login(outsider)
    assert client.get(reverse("visits:review_export")).status_code == 403


def test_the_admin_keeps_the_companys_phrase_list(client, admin_user, company, make_task, customer, consultant):
    client.force_login(admin_user)
    response = client.post(reverse("admin:visits_forbiddenphrase_add"), {"phrase": "找 别人 去", "is_active": "on"})
    assert response.status_code == 302
    row = ForbiddenPhrase.objects.get()
    assert (row.company_id, row.phrase) == (company.pk, "找别人去")
    assert "找别人去" in client.get(reverse("admin:visits_forbiddenphrase_changelist")).content.decode()
    task = done(make_task(customer), consultant, opinions="这个问题你找别人去")
    assert ReviewFlag.objects.get(task=task).phrase == "找别人去"
