"""Complaints by email against a local IMAP server (tests/fake_imap.py): decoding, linking
the customer, exactly once across duplicates and crashes, held and skipped mails, a
mailbox that is down."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

import pytest
from PIL import Image

from crm.complaints import jobs
from crm.complaints.mail_intake import MailboxConfig, parse_mail, poll_mailbox
from crm.complaints.models import Channel, Complaint, ComplaintEvent, InboundMail, MailboxState
from crm.complaints.tests import images
from crm.complaints.tests.fake_imap import FakeImapServer
from crm.lib.dates import CHINA_TZ

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def imap():
    server = FakeImapServer().start()
    yield server
    server.stop()


@pytest.fixture
def config(imap, duty, category, project) -> MailboxConfig:
    return MailboxConfig(
        host="127.0.0.1",
        port=imap.port,
        user=imap.user,
        password=imap.password,
        use_ssl=False,
        timeout=5,
        actor=duty.username,
        project=project.code,
    )


def mail(
    *,
    subject: str = "投诉：售楼处接待态度差",
    body: str = "上周六在售楼处无人接待，等了一个小时。",
    charset: str = "utf-8",
    sender: tuple[str, str] = ("李女士", "li@example.com"),
    message_id: str | None = "<m1@example.com>",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = MIMEText(body, "plain", charset)
    message["Subject"] = Header(subject, charset).encode()
    message["From"] = formataddr((str(Header(sender[0], charset).encode()), sender[1]))
    message["To"] = "ts@example.com"
    message["Date"] = "Mon, 23 Nov 2026 09:30:00 +0800"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    return message.as_bytes()


def only_complaint() -> Complaint:
    assert Complaint.objects.count() == 1
    return Complaint.objects.get()


# ---------------------------------------------------------------- decoding


def test_a_gbk_mail_becomes_an_email_complaint_with_its_text_decoded(imap, config, service):
    uid = imap.deliver(
        mail(subject="物业维修投诉：镕鑫花园漏水", body="我家卫生间漏水，镕字测试，已报修三次。", charset="gbk")
    )
    assert poll_mailbox(now=NOW, config=config) == 1
    complaint = only_complaint()
    assert complaint.channel == Channel.EMAIL
    assert complaint.complainant_name == "李女士"
    assert complaint.complainant_email == "li@example.com"
    assert complaint.complainant_mobile == ""
    assert complaint.customer is None  # an email-only complainant is an unlinked contact
    assert "物业维修投诉：镕鑫花园漏水" in complaint.content
    assert "我家卫生间漏水，镕字测试，已报修三次。" in complaint.content
    assert complaint.assignee == service  # dispatched to the category's owner
    assert "\\Seen" in imap.flags(uid)
    record = InboundMail.objects.get()
    assert (record.status, record.complaint) == (InboundMail.Status.REGISTERED, complaint)
    assert record.raw == b""  # the complaint holds the content; the raw mail is not kept


def test_gb2312_labelled_gbk_text_and_raw_8bit_headers_are_read():
    body = "镕".encode("gbk") + "先生投诉".encode("gbk")
    raw = (
        b"From: =?gb2312?B?" + __import__("base64").b64encode("王镕".encode("gbk")) + b"?= <w@example.com>\r\n"
        b"Subject: " + "楼盘投诉".encode("gbk") + b"\r\n"
        b"Message-ID: <gb@example.com>\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.sender_name == "王镕"
    assert parsed.subject == "楼盘投诉"
    assert parsed.body == "镕先生投诉"


def test_an_html_only_mail_is_turned_into_text_without_its_scripts():
    message = MIMEText(
        "<html><head><style>p{color:red}</style></head><body><p>大门&amp;道闸坏了</p>"
        "<script>alert('x')</script><div>请尽快处理</div></body></html>",
        "html",
        "utf-8",
    )
    message["From"] = "a@example.com"
    message["Subject"] = "道闸"
    parsed = parse_mail(message.as_bytes())
    assert parsed.body == "大门&道闸坏了\n\n请尽快处理"
    assert "alert" not in parsed.body
    assert parsed.message_key.startswith("sha256:")  # no Message-ID: the hash of the mail


def test_image_attachments_are_stored_with_the_complaint_and_every_attachment_is_listed(imap, config):
    message = MIMEMultipart()
    message["From"] = "zhao@example.com"
    message["Subject"] = str(Header("墙面开裂", "utf-8").encode())
    message["Message-ID"] = "<att@example.com>"
    message.attach(MIMEText("见附件照片", "plain", "utf-8"))
    image = MIMEImage(images.jpeg_with_exif(64, 48), "jpeg")
    image.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "客厅裂缝.jpg"))
    message.attach(image)
    fake = MIMEImage(PNG, "png")  # says PNG, is not one
    fake.add_header("Content-Disposition", "attachment", filename="broken.png")
    message.attach(fake)
    message.attach(MIMEApplication(b"%PDF-1.4", Name="a.pdf"))
    imap.deliver(message.as_bytes())
    assert poll_mailbox(now=NOW, config=config) == 1
    complaint = only_complaint()
    content = complaint.content
    assert "见附件照片" in content
    assert "客厅裂缝.jpg（image/jpeg" in content
    assert "已保存为投诉附件" in content
    assert "broken.png" in content
    assert "不是图片或文件已损坏" in content
    assert "a.pdf" in content
    assert "不是图片，仅保留在原邮件中" in content
    stored = list(complaint.attachments.all())
    assert [(row.original_name, row.content_type, row.width) for row in stored] == [("客厅裂缝.jpg", "image/jpeg", 64)]
    with stored[0].file.open("rb") as handle, Image.open(handle) as kept:
        assert not kept.getexif()  # re-encoded: the GPS of the phone photo is gone


# ---------------------------------------------------------------- linking


def test_a_mobile_of_an_existing_customer_in_the_body_links_the_customer(imap, config, make_customer):
    customer = make_customer("周先生", mobile="13812345678")
    imap.deliver(mail(body="我的电话 138-1234-5678，房子漏水一直没人修。"))
    assert poll_mailbox(now=NOW, config=config) == 1
    complaint = only_complaint()
    assert complaint.customer == customer
    assert complaint.complainant_mobile == "13812345678"
    assert customer.events.filter(kind="complaint").exists()  # on the customer's timeline


def test_a_project_named_in_the_mail_is_the_complaints_project(imap, config, project_b):
    imap.deliver(mail(subject="滨江御府 车位问题"))
    poll_mailbox(now=NOW, config=config)
    assert only_complaint().project == project_b


def test_the_category_named_in_the_subject_is_used(imap, config):
    imap.deliver(mail(subject="【合同】条款与宣传不符"))
    poll_mailbox(now=NOW, config=config)
    assert only_complaint().category.name == "合同"


# ---------------------------------------------------------------- exactly once


def test_the_same_mail_delivered_twice_makes_one_complaint(imap, config):
    first = imap.deliver(mail())
    second = imap.deliver(mail())
    assert poll_mailbox(now=NOW, config=config) == 2
    assert Complaint.objects.count() == 1
    assert InboundMail.objects.count() == 1
    assert "\\Seen" in imap.flags(first)
    assert "\\Seen" in imap.flags(second)


def test_a_crash_before_the_flag_makes_no_second_complaint_on_the_next_run(imap, config):
    uid = imap.deliver(mail())
    imap.fail_store = True
    assert poll_mailbox(now=NOW, config=config) == 0
    assert Complaint.objects.count() == 1  # committed before the flag failed
    assert "\\Seen" not in imap.flags(uid)
    state = MailboxState.objects.get()
    assert state.failures == 1
    assert "标记邮件" in state.last_error

    imap.fail_store = False
    assert poll_mailbox(now=NOW + timedelta(minutes=1), config=config) == 1
    assert Complaint.objects.count() == 1
    assert "\\Seen" in imap.flags(uid)
    state.refresh_from_db()
    assert (state.failures, state.last_error) == (0, "")


def test_mails_already_read_are_left_alone(imap, config):
    imap.deliver(mail())
    poll_mailbox(now=NOW, config=config)
    assert poll_mailbox(now=NOW + timedelta(minutes=1), config=config) == 0
    assert Complaint.objects.count() == 1
    assert not any(c.startswith("UID FETCH") for c in imap.commands[-3:])


# ---------------------------------------------------------------- held and skipped


def test_an_unparsable_mail_is_held_with_a_reason_and_flagged(imap, config):
    uid = imap.deliver(b"this is not a mail at all\r\n\r\n")
    assert poll_mailbox(now=NOW, config=config) == 1
    assert Complaint.objects.count() == 0
    record = InboundMail.objects.get()
    assert record.status == InboundMail.Status.HELD
    assert record.reason == "邮件没有邮件头，无法识别"
    assert bytes(record.raw).startswith(b"this is not a mail")  # kept for the director
    assert "\\Seen" in imap.flags(uid)
    assert poll_mailbox(now=NOW, config=config) == 0  # not read again


def test_a_mail_without_subject_or_text_is_held(imap, config):
    imap.deliver(mail(subject="", body=""))
    poll_mailbox(now=NOW, config=config)
    assert InboundMail.objects.get().reason == "邮件没有主题也没有正文"


def test_a_mail_that_cannot_be_placed_in_a_project_is_held(imap, duty, category, project):
    server_config = MailboxConfig(
        host="127.0.0.1", port=imap.port, user=imap.user, password=imap.password, use_ssl=False, actor=duty.username
    )
    imap.deliver(mail())
    poll_mailbox(now=NOW, config=server_config)
    record = InboundMail.objects.get()
    assert record.status == InboundMail.Status.HELD
    assert record.reason.startswith("无法登记为投诉：无法确定楼盘")
    assert record.sender_email == "li@example.com"
    assert Complaint.objects.count() == 0


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, ("", "li@example.com"), "自动回复邮件"),
        ({"X-Autoreply": "yes"}, ("", "li@example.com"), "自动回复邮件"),
        ({}, ("Mail Delivery System", "MAILER-DAEMON@example.com"), "退信"),
    ],
)
def test_auto_replies_and_bounces_are_skipped_with_a_record(imap, config, headers, sender, reason):
    imap.deliver(mail(headers=headers, sender=sender))
    assert poll_mailbox(now=NOW, config=config) == 1
    assert Complaint.objects.count() == 0
    record = InboundMail.objects.get()
    assert record.status == InboundMail.Status.SKIPPED
    assert record.reason.startswith(reason)


# ---------------------------------------------------------------- the mailbox


def test_a_mailbox_that_is_down_records_the_error_and_the_next_run_reads_it(imap, duty, category, project, settings):
    port = imap.port
    imap.deliver(mail())
    imap.stop()
    settings.COMPLAINT_IMAP_HOST = "127.0.0.1"
    settings.COMPLAINT_IMAP_PORT = port
    settings.COMPLAINT_IMAP_SSL = False
    settings.COMPLAINT_IMAP_USER = imap.user
    settings.COMPLAINT_IMAP_PASSWORD = imap.password
    settings.COMPLAINT_IMAP_ACTOR = duty.username
    settings.COMPLAINT_IMAP_PROJECT = project.code
    assert jobs.poll_complaint_mailbox(now=NOW) == 0
    state = MailboxState.objects.get()
    assert state.last_error == f"无法读取投诉邮箱 127.0.0.1:{port}：连接被拒绝，下次运行时重试"
    assert state.failures == 1

    imap.start(port=port)
    assert jobs.poll_complaint_mailbox(now=NOW + timedelta(minutes=1)) == 1
    assert Complaint.objects.count() == 1
    state.refresh_from_db()
    assert state.failures == 0
    assert state.last_success_at == NOW + timedelta(minutes=1)


def test_a_wrong_password_is_recorded_in_chinese(imap, config):
    imap.fail_login = True
    imap.deliver(mail())
    assert poll_mailbox(now=NOW, config=config) == 0
    assert MailboxState.objects.get().last_error.startswith("投诉邮箱登录失败")
    assert Complaint.objects.count() == 0


def test_an_actor_without_the_permission_stops_the_poll_before_reading(imap, config, consultant):
    imap.deliver(mail())
    bad = MailboxConfig(**{**config.__dict__, "actor": consultant.username})
    assert poll_mailbox(now=NOW, config=bad) == 0
    assert MailboxState.objects.get().last_error == f"员工账号“{consultant.username}”没有登记投诉的权限"
    assert imap.commands == []


def test_no_host_means_intake_by_email_is_off(settings):
    settings.COMPLAINT_IMAP_HOST = ""
    assert jobs.poll_complaint_mailbox(now=NOW) == 0
    assert not MailboxState.objects.exists()


def test_the_registration_event_is_written_by_the_intake_account(imap, config, duty):
    imap.deliver(mail())
    poll_mailbox(now=NOW, config=config)
    complaint = only_complaint()
    assert complaint.registered_by == duty
    assert complaint.registered_at == NOW
    assert complaint.events.filter(kind=ComplaintEvent.Kind.MOVE, to_status="registered").exists()


def test_a_mail_that_trips_a_bug_is_held_and_the_next_mail_still_goes_through(imap, config, monkeypatch):
    from crm.complaints import services

    real = services.register_complaint

    def broken_for_one(intake, **kw):
        if "触发" in intake.content:
            raise ValueError("bug")
        return real(intake, **kw)

    monkeypatch.setattr(services, "register_complaint", broken_for_one)
    imap.deliver(mail(subject="触发", message_id="<bug@example.com>"))
    imap.deliver(mail(message_id="<ok@example.com>"))
    assert poll_mailbox(now=NOW, config=config) == 2
    held = InboundMail.objects.get(status=InboundMail.Status.HELD)
    assert held.reason == "登记时出错（ValueError），请人工处理"
    assert Complaint.objects.count() == 1


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 and its key, written as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake imap")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=36500))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_imap_over_ssl_verifies_the_servers_certificate(tmp_path, duty, category, project):
    import ssl

    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = FakeImapServer(ssl_context=context).start()
    try:
        server.deliver(mail())
        base = {"host": "127.0.0.1", "port": server.port, "user": server.user, "password": server.password}
        untrusted = MailboxConfig(**base, actor=duty.username, project=project.code)
        assert poll_mailbox(now=NOW, config=untrusted) == 0
        assert "SSL 错误" in MailboxState.objects.get().last_error
        assert Complaint.objects.count() == 0

        trusted = MailboxConfig(**base, actor=duty.username, project=project.code, ca_file=str(cert_file))
        assert poll_mailbox(now=NOW, config=trusted) == 1
        assert Complaint.objects.count() == 1
    finally:
        server.stop()


def test_a_sender_address_too_long_for_any_mailbox_is_held_not_a_database_error(imap, config):
    imap.deliver(mail(sender=("", "a" * 300 + "@example.com")))
    assert poll_mailbox(now=NOW, config=config) == 1
    assert InboundMail.objects.get().reason == "无法识别发件人邮箱地址"
