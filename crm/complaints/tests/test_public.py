"""The public complaint page and the status page: no login; the CAPTCHA (signed,
expiring, single-use); floods refused per IP and per mobile; images only; a linked
customer; the status page says the same for a wrong number and wrong digits and locks a
number after a few failures; stored text is escaped."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from crm.complaints import captcha, public, services
from crm.complaints.models import Category, Channel, Complaint, ComplaintAttachment
from crm.complaints.tests import images
from crm.customers.models import TimelineEvent
from crm.lib.dates import CHINA_TZ

pytestmark = pytest.mark.django_db
Status = Complaint.Status
FORM = reverse("public_complaints:form")
STATUS = reverse("public_complaints:status")
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def token_of(response) -> str:
    match = re.search(r'name="captcha_token" value="([^"]+)"', response.content.decode())
    assert match, "the page has a captcha token"
    return match.group(1)


def submit(client, project, *, ip="10.0.0.1", answer="7", token=None, **fields):
    if token is None:
        token = token_of(client.get(FORM, REMOTE_ADDR=ip))
    data = {
        "complainant_name": "林女士",
        "complainant_mobile": "13600001111",
        "project": project.pk,
        "content": "楼道灯坏了一个月没人修",
        "event_place": "3 栋大堂",
        "captcha_answer": answer,
        "captcha_token": token,
    } | fields
    return client.post(FORM, data, REMOTE_ADDR=ip)


def number_in(response) -> str:
    match = re.search(r"TS\d{12}", response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(0)


# ---------------------------------------------------------------- the page


def test_the_page_needs_no_login_and_shows_no_staff_menu(client, project, project_b):
    response = client.get(FORM)
    assert response.status_code == 200
    html = response.content.decode()
    assert "我要投诉" in html
    assert "sidebar" not in html
    assert "退出" not in html
    assert project.name in html
    assert project_b.name in html
    assert "<svg" in html
    assert 'name="captcha_token"' in html


def test_a_complaint_from_the_page_gets_a_number_and_waits_for_the_director(client, company, project, director):
    response = submit(client, project, unit_text="3 栋 502")
    assert response.status_code == 200
    complaint = Complaint.objects.get(number=number_in(response))
    assert "查询投诉进度" in response.content.decode()
    assert complaint.channel == Channel.WEBSITE
    assert complaint.registered_by is None
    assert complaint.unit_text == "3 栋 502"
    assert complaint.category.name == services.UNSORTED
    assert complaint.status == Status.REGISTERED  # 待分类 has no owner: the director dispatches
    assert complaint.events.get().note == "投诉人通过网上投诉页面提交"
    # 待分类 is not offered on the staff intake form.
    assert not Category.objects.filter(pk=complaint.category_id, is_active=True).exists()


def test_a_chosen_category_dispatches_to_its_owner(client, company, project, service):
    services.ensure_default_categories(company)
    category = Category.objects.get(company=company, name="售后")
    category.owner = service
    category.save()
    complaint = Complaint.objects.get(number=number_in(submit(client, project, category=category.pk)))
    assert (complaint.status, complaint.assignee) == (Status.DISPATCHED, service)


def test_a_complainant_whose_mobile_is_a_customers_is_linked(client, project, customer):
    complaint = Complaint.objects.get(number=number_in(submit(client, project, complainant_mobile="138 1234 5678")))
    assert complaint.customer == customer
    assert TimelineEvent.objects.filter(customer=customer, summary__contains=complaint.number).exists()


def test_missing_fields_are_named_in_chinese_and_what_was_typed_is_kept(client, project):
    response = submit(client, project, complainant_name="", content="物业费多收了")
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写您的姓名" in html
    assert "物业费多收了" in html
    assert not Complaint.objects.exists()


def test_a_bad_mobile_is_refused(client, project):
    response = submit(client, project, complainant_mobile="12345")
    assert response.status_code == 400
    assert "手机号" in response.content.decode()
    assert not Complaint.objects.exists()


# ---------------------------------------------------------------- the CAPTCHA


def test_a_wrong_answer_is_refused_and_the_form_keeps_the_text(client, project):
    response = submit(client, project, answer="8", content="售楼处承诺的车位没有兑现")
    assert response.status_code == 400
    html = response.content.decode()
    assert captcha.WRONG in html
    assert "售楼处承诺的车位没有兑现" in html
    assert not Complaint.objects.exists()


def test_a_token_is_used_once(client, project):
    token = token_of(client.get(FORM))
    assert submit(client, project, token=token).status_code == 200
    again = submit(client, project, token=token, complainant_mobile="13600002222")
    assert again.status_code == 400
    assert captcha.USED in again.content.decode()
    assert Complaint.objects.count() == 1


def test_a_wrong_guess_spends_the_token(client, project):
    token = token_of(client.get(FORM))
    assert submit(client, project, token=token, answer="1").status_code == 400
    response = submit(client, project, token=token, answer="7")
    assert captcha.USED in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_forged_token_is_refused(client, project):
    response = submit(client, project, token="eyJuIjoiYSJ9:forged")
    assert captcha.EXPIRED in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_token_expires():
    issued = captcha.issue(T0)
    with pytest.raises(captcha.CaptchaError) as exc:
        captcha.verify(issued.token, "7", T0 + timedelta(seconds=601))
    assert exc.value.message == captcha.EXPIRED
    fresh = captcha.issue(T0)
    captcha.verify(fresh.token, "7", T0 + timedelta(seconds=599))  # within 10 minutes: accepted


def test_the_token_does_not_contain_the_answer():
    issued = captcha.issue(T0)
    # Signed, not encrypted: anyone can read it, so it holds only an HMAC of the answer.
    data = signing.loads(issued.token, salt=captcha.SALT)
    assert set(data) == {"n", "t", "h"}
    assert 7 not in data.values()
    assert "7" not in data.values()
    assert "3+4" not in issued.svg
    assert ">7<" not in issued.svg


# ---------------------------------------------------------------- floods


@override_settings(COMPLAINT_PUBLIC_PER_IP_HOUR=2)
def test_a_flood_from_one_address_is_refused(client, project):
    for i in range(2):
        assert submit(client, project, complainant_mobile=f"1360000{i:04d}").status_code == 200
    response = submit(client, project, complainant_mobile="13600009999", content="第三次提交")
    assert response.status_code == 400
    html = response.content.decode()
    assert public.TOO_FAST in html
    assert "第三次提交" in html  # what was typed is kept
    assert Complaint.objects.count() == 2
    # Another address is not affected.
    assert submit(client, project, ip="10.0.0.2", complainant_mobile="13600009999").status_code == 200


@override_settings(COMPLAINT_PUBLIC_ATTEMPTS_PER_IP_HOUR=3)
def test_guessing_the_captcha_from_one_address_stops_at_the_limit(client, project):
    for guess in ("1", "2", "3"):
        assert captcha.WRONG in submit(client, project, answer=guess).content.decode()
    # The fourth attempt is refused even with the right answer; what was typed is kept.
    response = submit(client, project, answer="7", content="第四次")
    assert response.status_code == 400
    html = response.content.decode()
    assert public.TOO_FAST in html
    assert "第四次" in html
    assert not Complaint.objects.exists()
    assert submit(client, project, ip="10.0.0.5").status_code == 200


def test_the_production_challenge_has_many_answers():
    answers = {captcha.random_challenge().answer for _ in range(400)}
    assert len(answers) > 30
    assert min(answers) >= 11
    assert max(answers) <= 58


@override_settings(COMPLAINT_PUBLIC_PER_MOBILE_DAY=2)
def test_a_flood_for_one_mobile_is_refused(client, project):
    for i in range(2):
        assert submit(client, project, ip=f"10.0.1.{i}").status_code == 200
    response = submit(client, project, ip="10.0.1.9", complainant_mobile="+86 136 0000 1111")
    assert response.status_code == 400
    assert public.MOBILE_FULL in response.content.decode()
    assert Complaint.objects.count() == 2
    assert submit(client, project, ip="10.0.1.9", complainant_mobile="13600002222").status_code == 200


@override_settings(COMPLAINT_PUBLIC_PER_IP_HOUR=1, CLIENT_IP_HEADER="HTTP_X_REAL_IP")
def test_behind_a_proxy_the_header_names_the_client(client, project):
    def post(real_ip, mobile):
        token = token_of(client.get(FORM))
        data = {
            "complainant_name": "林女士",
            "complainant_mobile": mobile,
            "project": project.pk,
            "content": "投诉",
            "captcha_answer": "7",
            "captcha_token": token,
        }
        return client.post(FORM, data, REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=real_ip)

    assert post("203.0.113.1", "13600000001").status_code == 200
    assert post("203.0.113.2", "13600000002").status_code == 200
    assert post("203.0.113.1", "13600000003").status_code == 400


# ---------------------------------------------------------------- attachments


def test_images_are_stored_with_random_names(client, project, settings):
    files = [
        SimpleUploadedFile("现场.png", images.png(), content_type="image/png"),
        SimpleUploadedFile("墙面.webp", images.webp(), content_type="image/webp"),
    ]
    complaint = Complaint.objects.get(number=number_in(submit(client, project, attachments=files)))
    rows = list(complaint.attachments.order_by("id"))
    assert [r.content_type for r in rows] == ["image/png", "image/webp"]
    assert rows[0].original_name == "现场.png"
    assert (rows[0].width, rows[0].height) == (4, 3)
    assert rows[0].file.name.startswith("private/complaints/")
    assert rows[0].file.name.endswith(".png")
    assert "现场" not in rows[0].file.name
    with rows[0].file.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        assert (stored.format, stored.size, stored.getpixel((0, 0))) == ("PNG", (4, 3), images.RED)


def test_a_heic_photo_is_refused_with_advice_and_the_text_is_kept(client, project):
    photo = SimpleUploadedFile("IMG_0001.HEIC", images.heic(), content_type="image/heic")
    response = submit(client, project, attachments=[photo], content="附件测试")
    assert response.status_code == 400
    html = response.content.decode()
    assert "“IMG_0001.HEIC”是 HEIC 格式，暂不支持。请转成 JPG 后再上传" in html
    assert "附件测试" in html
    assert 'accept="image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"' in html
    assert not Complaint.objects.exists()


def test_a_decompression_bomb_is_refused_and_nothing_is_written(client, project):
    bomb = SimpleUploadedFile("bomb.png", images.bomb_png(), content_type="image/png")
    response = submit(client, project, attachments=[bomb], content="附件测试")
    assert response.status_code == 400
    assert "“bomb.png”的像素过大（超过 50 百万像素），请缩小后再上传" in response.content.decode()
    assert not Complaint.objects.exists()
    assert not ComplaintAttachment.objects.exists()


def test_a_truncated_photo_is_refused(client, project):
    cut = SimpleUploadedFile("IMG_0002.jpg", images.truncated_jpeg(), content_type="image/jpeg")
    response = submit(client, project, attachments=[cut])
    assert response.status_code == 400
    assert "“IMG_0002.jpg”不是图片或文件已损坏" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_non_image_is_refused_with_a_chinese_error(client, project):
    fake = SimpleUploadedFile("photo.jpg", b"<?php system($_GET['c']); ?>", content_type="image/jpeg")
    response = submit(client, project, attachments=[fake], content="附件测试")
    assert response.status_code == 400
    html = response.content.decode()
    assert "“photo.jpg”不是图片或文件已损坏，只能上传 JPG、PNG、WebP 照片" in html
    assert "附件测试" in html
    assert not Complaint.objects.exists()
    assert not ComplaintAttachment.objects.exists()


@override_settings(COMPLAINT_ATTACHMENT_MAX_BYTES=1024 * 1024)
def test_an_oversized_image_is_refused(client, project):
    big = SimpleUploadedFile("big.png", images.png(padding=1024 * 1024 + 1), content_type="image/png")
    response = submit(client, project, attachments=[big])
    assert response.status_code == 400
    assert "“big.png”超过 1 MB，请压缩后再上传" in response.content.decode()
    assert not Complaint.objects.exists()


@override_settings(COMPLAINT_ATTACHMENT_MAX_FILES=2)
def test_too_many_images_are_refused(client, project):
    files = [SimpleUploadedFile(f"{i}.png", images.png(), content_type="image/png") for i in range(3)]
    response = submit(client, project, attachments=files)
    assert "最多上传 2 张图片" in response.content.decode()
    assert not Complaint.objects.exists()


# ---------------------------------------------------------------- the status page


@pytest.fixture
def filed(client, project) -> Complaint:
    return Complaint.objects.get(number=number_in(submit(client, project, complainant_mobile="13600004321")))


def look(client, number, last4, ip="10.9.9.9"):
    return client.post(STATUS, {"number": number, "last4": last4}, REMOTE_ADDR=ip)


def refusal(response) -> str:
    match = re.search(r'<div class="msg error" role="alert">([^<]*)</div>', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


def test_the_right_number_and_digits_show_the_status_in_plain_chinese(client, filed, director, service):
    category = Category.objects.get(company=filed.company, name="合同")
    services.dispatch_complaint(
        filed, actor=director, assignee=service, note="派给刘客服处理（内部）", category=category
    )
    services.acknowledge_complaint(filed, actor=service)
    services.record_progress(filed, actor=service, note="内部备注：客户情绪激动")
    response = look(client, filed.number.lower(), "4321")
    assert response.status_code == 200
    html = response.content.decode()
    assert "处理中" in html
    assert "负责人已接手" in html
    assert "处理进展已更新" in html
    assert filed.number in html
    for secret in ("刘客服", "吴主任", "内部", "客户情绪激动", "13600004321", "林女士"):
        assert secret not in html


def test_a_wrong_number_and_wrong_digits_get_the_same_refusal(client, filed):
    other = filed.number[:-1] + ("9" if filed.number[-1] != "9" else "8")
    answers = [
        look(client, filed.number, "0000"),  # wrong digits
        look(client, other, "4321"),  # wrong number
        look(client, other, "0000"),  # both
        look(client, "NOPE", "4321"),
        look(client, filed.number, "432a"),
    ]
    assert {r.status_code for r in answers} == {400}
    assert {refusal(r) for r in answers} == {public.NOT_FOUND}
    bodies = {
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|value="[^"]*"', "", r.content.decode()) for r in answers
    }
    assert len(bodies) == 1  # nothing else on the page differs


@override_settings(COMPLAINT_STATUS_FAILURES_PER_NUMBER=3)
def test_a_number_is_locked_after_a_few_wrong_digits(client, filed):
    for guess in ("0000", "0001", "0002"):
        assert refusal(look(client, filed.number, guess, ip=f"10.8.0.{guess[-1]}")) == public.NOT_FOUND
    # Now even the right digits, from a fresh address, are refused: 4 digits cannot be guessed.
    assert refusal(look(client, filed.number, "4321", ip="10.8.1.1")) == public.LOOKUPS_FULL
    # A number that does not exist is locked the same way (the lock reveals nothing).
    for guess in ("0000", "0001", "0002"):
        look(client, "TS202612079999", guess)
    assert refusal(look(client, "TS202612079999", "4321")) == public.LOOKUPS_FULL


@override_settings(COMPLAINT_STATUS_PER_IP_HOUR=3)
def test_look_ups_per_address_are_limited(client, filed):
    for _ in range(3):
        assert look(client, filed.number, "4321", ip="10.7.0.1").status_code == 200
    assert refusal(look(client, filed.number, "4321", ip="10.7.0.1")) == public.LOOKUPS_FULL
    assert look(client, filed.number, "4321", ip="10.7.0.2").status_code == 200


def test_the_done_page_links_to_the_status_page_with_the_number(client, project):
    response = submit(client, project)
    number = number_in(response)
    assert f"{STATUS}?number={number}" in response.content.decode()
    assert f'value="{number}"' in client.get(f"{STATUS}?number={number}").content.decode()


# ---------------------------------------------------------------- escaping


def test_script_in_stored_text_shows_as_text(client, project, director, service):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = submit(
        client, project, complainant_name=attack[:50], content=attack, event_place=attack, unit_text=attack[:50]
    )
    assert "<script>alert" not in response.content.decode()
    complaint = Complaint.objects.get(number=number_in(response))
    assert complaint.content == attack  # stored as typed, escaped when shown
    client.force_login(director)
    for url in (reverse("complaints:detail", args=[complaint.pk]), reverse("complaints:list")):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert" in html
    client.logout()
    status = look(client, complaint.number, "1111").content.decode()
    assert "<script>alert" not in status
    assert "<img src=x" not in status


def test_the_page_is_closed_without_a_company(client, db):
    response = client.get(FORM)
    assert response.status_code == 404
    assert "网上投诉暂未开放" in response.content.decode()


def test_the_director_classifies_an_unsorted_complaint_when_dispatching(client, company, project, director, service):
    complaint = Complaint.objects.get(number=number_in(submit(client, project)))
    client.force_login(director)
    url = reverse("complaints:act", args=[complaint.pk, "dispatch"])
    response = client.post(url, {"assignee": service.pk})
    assert response.status_code == 400
    assert "请先选择投诉类别" in response.content.decode()
    category = Category.objects.get(company=company, name="售后")
    assert client.post(url, {"assignee": service.pk, "category": category.pk}).status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.category, complaint.assignee) == (Status.DISPATCHED, category, service)


def test_the_directors_card_counts_unsorted_complaints_and_links_to_them(
    client, company, project, director, service, make_complaint
):
    from crm.complaints.cards import workbench_cards

    first = Complaint.objects.get(number=number_in(submit(client, project, ip="10.0.9.1")))
    Complaint.objects.get(number=number_in(submit(client, project, ip="10.0.9.2", complainant_mobile="13600002222")))
    make_complaint()  # staff chose a category: dispatched at once, not waiting
    stats = {s.key: s for s in workbench_cards(director, today=timezone.localdate())[0].stats}
    assert stats["complaints_unsorted"].label == "待分类"
    assert stats["complaints_unsorted"].value == 2
    assert stats["complaints_unsorted"].warn
    assert "complaints_unsorted" not in {s.key for s in workbench_cards(service, today=timezone.localdate())[0].stats}
    client.force_login(director)
    listed = client.get(stats["complaints_unsorted"].url).content.decode()
    assert first.number in listed
    staff_number = Complaint.objects.exclude(channel=Channel.WEBSITE).get().number
    assert staff_number not in listed
    category = Category.objects.get(company=company, name="售后")
    dispatch = reverse("complaints:act", args=[first.pk, "dispatch"])
    assert client.post(dispatch, {"assignee": service.pk, "category": category.pk}).status_code == 302
    stats = {s.key: s for s in workbench_cards(director, today=timezone.localdate())[0].stats}
    assert stats["complaints_unsorted"].value == 1


def test_a_photo_is_stored_without_its_gps_position(client, project):
    photo = SimpleUploadedFile("IMG_0001.JPG", images.jpeg_with_exif(), content_type="image/jpeg")
    complaint = Complaint.objects.get(number=number_in(submit(client, project, attachments=[photo])))
    row = complaint.attachments.get()
    with row.file.open("rb") as handle:
        stored = handle.read()
    assert b"GPS" not in stored
    assert b"SecretPhone" not in stored
    assert row.size == len(stored)
    assert (row.width, row.height) == (640, 480)
    image = Image.open(io.BytesIO(stored))
    assert len(image.getexif()) == 0
    assert image.size == (640, 480)


def test_a_sideways_phone_photo_is_stored_upright(client, project):
    photo = SimpleUploadedFile("IMG_0003.JPG", images.jpeg_sideways(40, 20), content_type="image/jpeg")
    complaint = Complaint.objects.get(number=number_in(submit(client, project, attachments=[photo])))
    row = complaint.attachments.get()
    assert (row.width, row.height) == (20, 40)
    with row.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read())).convert("RGB")
    assert image.size == (20, 40)
    assert image.getpixel((10, 5)) == pytest.approx(images.RED, abs=30)
