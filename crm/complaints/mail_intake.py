"""Complaints by email: read the complaint mailbox over IMAP and register each new mail.

The job ``jobs.poll_complaint_mailbox`` calls ``poll_mailbox`` (config/schedule.py). Rules:

1. The mailbox is read with ``UID SEARCH UNSEEN`` and ``BODY.PEEK[]`` (reading does not
   mark a mail read); a mail is flagged ``\\Seen`` only after the transaction that recorded
   it has committed.
2. Each mail is recorded once, as an ``InboundMail`` row keyed by its Message-ID (or the
   SHA-256 of the raw mail when it has none; the key is unique). The row and the complaint
   are written in one transaction, so a crash before the flag, or the same mail delivered
   twice, finds the row on the next run and makes no second complaint.
3. A mail becomes a complaint (channel 邮件) through ``services.register_complaint``: the
   sender's name and address are the complainant; a mobile found in the text links the
   customer holding it; subject and text are the content. Image attachments that pass the
   public page's checks (crm.complaints.attachments) are stored with the complaint,
   re-encoded; every attachment is listed in the content, with why one was not kept (the
   original stays in the mailbox).
4. An auto-reply or a bounce is recorded as skipped; a mail that cannot be read or
   registered is held with a Chinese reason (and its raw bytes) for the director, who
   reads it on the page 投诉邮件 and marks it handled. Nothing is dropped silently.
5. A mailbox that cannot be reached records a Chinese error on ``MailboxState`` and the
   next run tries again; nothing is flagged.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header, decode_header
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from crm.complaints import alerts, attachments, services
from crm.complaints.models import Category, Channel, Complaint, InboundMail, MailboxState
from crm.core.errors import DomainError
from crm.core.errors import PermissionDenied as NotAllowed
from crm.customers.services import find_by_mobile
from crm.lib.mobile import InvalidMobile, normalize_mobile
from crm.projects.models import Project

if TYPE_CHECKING:
    from crm.accounts.models import User

logger = logging.getLogger("crm.complaints.mail")

MAX_BODY_CHARS = 20000
HELD_RAW_BYTES = 1024 * 1024  # what an oversized held mail keeps of itself
# Chinese mail clients often label GBK (or GB18030) text as gb2312; GB18030 is a superset
# of both, so it reads all three.
_GB_CHARSETS = {"gb2312", "gbk", "x-gbk", "cp936", "gb18030", "euc-cn", "x-euc-cn"}
_MOBILE_IN_TEXT = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?![\d])")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")


class Unparsable(Exception):
    """A mail that cannot be read; ``reason`` is in Chinese, for the director."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MailboxError(Exception):
    """The mailbox or the intake settings failed; ``reason`` in Chinese (MailboxState)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    use_ssl: bool = True
    timeout: float = 30.0
    actor: str = ""  # username of the staff account that registers the complaints
    project: str = ""  # project code when the mail names none
    category: str = "服务质量"  # category name when the subject names none
    batch: int = 50
    max_bytes: int = 25 * 1024 * 1024
    ca_file: str = ""  # a private CA's certificate (intranet mail servers); empty: the system's

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"[:255]

    @classmethod
    def from_settings(cls) -> MailboxConfig | None:
        """The configured mailbox; None when no host is set (intake by email is off)."""
        if not settings.COMPLAINT_IMAP_HOST:
            return None
        return cls(
            host=settings.COMPLAINT_IMAP_HOST,
            port=settings.COMPLAINT_IMAP_PORT,
            user=settings.COMPLAINT_IMAP_USER,
            password=settings.COMPLAINT_IMAP_PASSWORD,
            folder=settings.COMPLAINT_IMAP_FOLDER,
            use_ssl=settings.COMPLAINT_IMAP_SSL,
            timeout=float(settings.COMPLAINT_IMAP_TIMEOUT_SECONDS),
            actor=settings.COMPLAINT_IMAP_ACTOR,
            project=settings.COMPLAINT_IMAP_PROJECT,
            category=settings.COMPLAINT_IMAP_CATEGORY,
            batch=settings.COMPLAINT_IMAP_BATCH,
            max_bytes=settings.COMPLAINT_IMAP_MAX_BYTES,
            ca_file=settings.COMPLAINT_IMAP_CA_FILE,
        )


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int
    # The bytes of an image attachment (kept to store it with the complaint); empty for
    # other files, which stay in the mailbox only.
    data: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class ParsedMail:
    message_key: str
    sender_email: str
    sender_name: str
    subject: str
    body: str
    sent_at: datetime | None = None
    attachments: list[Attachment] = field(default_factory=list)
    skip_reason: str = ""  # an auto-reply or a bounce


def raw_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def message_key(message_id: str, raw: bytes) -> str:
    """The Message-ID without its brackets, or the hash of the raw mail when there is none
    (or when it is too long for the column)."""
    mid = message_id.strip().strip("<>").strip()
    if not mid or len(mid) > 240 or any(c.isspace() for c in mid):
        return raw_key(raw)
    return "mid:" + mid


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Text in the declared charset (GB2312/GBK read as GB18030); without a usable one,
    UTF-8 when it is valid, else GB18030 (what Chinese clients send undeclared)."""
    name = (charset or "").strip().strip('"').lower()
    if name in _GB_CHARSETS:
        name = "gb18030"
    if name and name not in ("unknown-8bit", "x-unknown"):
        try:
            return data.decode(name)
        except LookupError:
            pass
        except UnicodeDecodeError:
            if name != "gb18030":
                try:
                    return data.decode("gb18030")
                except UnicodeDecodeError:
                    return data.decode(name, errors="replace")
            return data.decode(name, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def decode_header_value(value: str | Header | None) -> str:
    """An RFC 2047 header (encoded words in any charset), or raw 8-bit bytes a client put
    in a header without encoding (the parser keeps them as surrogate escapes)."""
    if not value:
        return ""
    parts = []
    # A header with raw 8-bit bytes comes as a Header of charset unknown-8bit; decode_header
    # gives its bytes back, read below as UTF-8 or GB18030.
    for chunk, charset in decode_header(value if isinstance(value, Header) else str(value)):
        if isinstance(chunk, bytes):
            parts.append(_decode_bytes(chunk, charset))
        elif any("\udc80" <= c <= "\udcff" for c in chunk):  # raw 8-bit bytes, escaped
            parts.append(_decode_bytes(chunk.encode("ascii", "surrogateescape"), charset))
        else:
            parts.append(chunk)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _text(value: str | Header | None) -> str:
    """A header as text: a Header holding raw 8-bit bytes decoded, a string as it is."""
    if value is None:
        return ""
    return decode_header_value(value) if isinstance(value, Header) else str(value)


class _HtmlText(HTMLParser):
    """The text of an HTML mail: scripts and styles dropped, blocks on their own lines."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode_bytes(payload, part.get_content_charset())


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return (
        disposition == "attachment"
        or (part.get_filename() is not None and disposition != "inline")
        or (part.get_content_maintype() not in ("text", "multipart", "message"))
    )


def _skip_reason(message: Message, sender_email: str) -> str:
    auto = _text(message.get("Auto-Submitted")).strip().lower()
    if auto and auto != "no":
        return f"自动回复邮件（Auto-Submitted: {auto[:40]}），不登记为投诉"
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return "自动回复邮件（X-Autoreply），不登记为投诉"
    if _text(message.get("Precedence")).strip().lower() in ("auto_reply", "bulk", "junk", "list"):
        return "群发或自动发送的邮件（Precedence），不登记为投诉"
    local = sender_email.split("@")[0].lower()
    if local in _BOUNCE_SENDERS or message.get_content_type() == "multipart/report":
        return "退信（邮件投递失败通知），不登记为投诉"
    return ""


def parse_mail(raw: bytes) -> ParsedMail:
    """Read one raw mail; raise ``Unparsable`` with the reason when it cannot be used."""
    try:
        message = email.message_from_bytes(raw, policy=compat32)
    except Exception as exc:  # the parser is lenient; anything it raises is a broken mail
        raise Unparsable(f"邮件格式无法解析（{type(exc).__name__}）") from exc
    if not message.keys():
        raise Unparsable("邮件没有邮件头，无法识别")
    key = message_key(_text(message.get("Message-ID")), raw)
    name, address = parseaddr(_text(message.get("From")))
    address = decode_header_value(address).lower()
    if not _ADDRESS.match(address) or len(address) > 254:  # 254: the longest valid address
        raise Unparsable("无法识别发件人邮箱地址")
    sender_name = decode_header_value(name)
    subject = decode_header_value(message.get("Subject"))
    try:
        sent_at = parsedate_to_datetime(_text(message.get("Date"))) if message.get("Date") else None
    except (TypeError, ValueError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = None  # a date without a zone is a guess: leave it out
    skip = _skip_reason(message, address)
    plain: list[str] = []
    html: list[str] = []
    found: list[Attachment] = []
    try:
        for part in message.walk():
            if part.is_multipart():
                continue
            if _is_attachment(part):
                payload = part.get_payload(decode=True)
                filename = decode_header_value(part.get_filename()) or "未命名附件"
                data = payload if isinstance(payload, bytes) else b""
                content_type = part.get_content_type()
                kept = data if content_type.startswith("image/") else b""
                found.append(Attachment(filename[:100], content_type, len(data), kept))
            elif part.get_content_type() == "text/plain":
                plain.append(_part_text(part))
            elif part.get_content_type() == "text/html":
                html.append(html_to_text(_part_text(part)))
    except Exception as exc:  # a broken MIME structure or transfer encoding
        raise Unparsable(f"邮件内容无法解析（{type(exc).__name__}）") from exc
    body = "\n\n".join(t.strip() for t in plain if t.strip()) or "\n\n".join(t for t in html if t)
    if not skip and not subject and not body.strip():
        raise Unparsable("邮件没有主题也没有正文")
    return ParsedMail(
        message_key=key,
        sender_email=address,
        sender_name=sender_name,
        subject=subject,
        body=body.strip(),
        sent_at=sent_at,
        attachments=found,
        skip_reason=skip,
    )


# ---------------------------------------------------------------- registration


def mobiles_in(text: str) -> list[str]:
    """Valid mobiles written in the text, in order, each once."""
    found: list[str] = []
    for match in _MOBILE_IN_TEXT.finditer(text):
        try:
            mobile = normalize_mobile(re.sub(r"[\s-]", "", match.group(1)))
        except InvalidMobile:
            continue
        if mobile not in found:
            found.append(mobile)
    return found


def _images(mail: ParsedMail) -> tuple[list[attachments.PreparedImage], dict[str, str]]:
    """The mail's image attachments that pass the same checks as an upload on the public
    page (real image, size and pixel limits, at most the usual count), re-encoded; and
    for every attachment not kept, why (in Chinese)."""
    kept: list[attachments.PreparedImage] = []
    why_not: dict[str, str] = {}
    for item in mail.attachments:
        if not item.data:
            why_not[item.name] = "不是图片，仅保留在原邮件中"
        elif len(kept) >= attachments.max_files():
            why_not[item.name] = f"超过 {attachments.max_files()} 张，仅保留在原邮件中"
        elif item.size > attachments.max_bytes():
            why_not[item.name] = f"超过 {attachments.max_bytes() // (1024 * 1024)} MB，仅保留在原邮件中"
        else:
            try:
                kept.append(attachments.prepare(item.name, item.data))
            except DomainError as exc:
                why_not[item.name] = f"{exc.message}；仅保留在原邮件中"
    return kept, why_not


def _content(mail: ParsedMail, why_not: dict[str, str]) -> str:
    body = mail.body
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS] + "\n（正文过长，已截断，全文见邮箱原邮件）"
    lines = [f"【邮件主题】{mail.subject or '（无主题）'}", "", body or "（正文为空）"]
    if mail.attachments:
        lines += ["", "【邮件附件】"]
        lines += [
            f"- {a.name}（{a.content_type}，{max(1, a.size // 1024)} KB）：{why_not.get(a.name, '已保存为投诉附件')}"
            for a in mail.attachments
        ]
    return "\n".join(lines)


def _choose(company_id: int, mail: ParsedMail, config: MailboxConfig) -> tuple[str, Project, Category]:
    """The complainant's mobile (one of a customer first), the project and the category."""
    text = f"{mail.subject}\n{mail.body}"
    mobiles = mobiles_in(text)
    customer = None
    mobile = mobiles[0] if mobiles else ""
    for candidate in mobiles:
        customer = find_by_mobile(company_id, candidate)
        if customer is not None:
            mobile = candidate
            break
    projects = sorted(Project.objects.filter(company_id=company_id), key=lambda p: -len(p.name))
    project = next((p for p in projects if p.name and p.name in text), None)
    if project is None and customer is not None and customer.project_id is not None:
        project = Project.objects.get(pk=customer.project_id)
    if project is None and config.project:
        project = Project.objects.filter(company_id=company_id, code=config.project).first()
    if project is None:
        raise DomainError(
            "无法确定楼盘：邮件中没有楼盘名称，发件人也不是已知客户，且未设置默认楼盘（COMPLAINT_IMAP_PROJECT）"
        )
    categories = sorted(Category.objects.filter(company_id=company_id, is_active=True), key=lambda c: -len(c.name))
    category = next((c for c in categories if c.name in mail.subject), None)
    if category is None:
        category = next((c for c in categories if c.name == config.category), None)
    if category is None:
        raise DomainError(f"无法确定投诉类别：邮件主题中没有类别名称，默认类别“{config.category}”不存在或已停用")
    return mobile, project, category


@dataclass(frozen=True)
class _Received:
    """Where and when a mail was read, and its key."""

    key: str
    company_id: int
    mailbox: str
    uid: str
    now: datetime


def _hold(at: _Received, raw: bytes, *, reason: str, mail: ParsedMail | None) -> InboundMail:
    """Hold the mail for the director, who is notified with it (once: only the run that
    wrote the row notifies)."""
    with transaction.atomic():
        record, created = InboundMail.objects.get_or_create(
            message_key=at.key,
            defaults={
                "company_id": at.company_id,
                "mailbox": at.mailbox,
                "uid": at.uid,
                "status": InboundMail.Status.HELD,
                "reason": reason[:300],
                "sender_email": mail.sender_email if mail else "",
                "sender_name": (mail.sender_name if mail else "")[:100],
                "subject": (mail.subject if mail else "")[:300],
                "sent_at": mail.sent_at if mail else None,
                "received_at": at.now,
                "raw": raw,
            },
        )
        if created:
            alerts.mail_held(record, now=at.now)
    logger.warning("complaint mail held: %s (%s)", at.key, reason)
    return record


def intake_mail(raw: bytes, *, actor: User, config: MailboxConfig, uid: str = "", now: datetime) -> InboundMail:
    """Record one raw mail (rules 2–4 of the module docstring) and return its row; a mail
    already recorded returns the existing row and changes nothing."""
    company_id = actor.company_id or 0
    mailbox = config.key
    try:
        mail: ParsedMail | None = parse_mail(raw)
    except Unparsable as exc:
        mail, reason = None, exc.reason
    else:
        reason = ""
    key = mail.message_key if mail is not None else raw_key(raw)
    existing = InboundMail.objects.filter(message_key=key).first()
    if existing is not None:
        return existing
    at = _Received(key, company_id, mailbox, uid, now)
    if mail is None:
        return _hold(at, raw, reason=reason, mail=None)
    if len(raw) > config.max_bytes:
        size = f"{len(raw) / 1024 / 1024:.1f} MB"
        # Only the start is kept: the whole mail stays in the mailbox.
        return _hold(at, raw[:HELD_RAW_BYTES], reason=f"邮件过大（{size}），请在邮箱中查看后人工登记", mail=mail)
    fields = {
        "company_id": company_id,
        "mailbox": mailbox,
        "uid": uid,
        "sender_email": mail.sender_email,
        "sender_name": mail.sender_name[:100],
        "subject": mail.subject[:300],
        "sent_at": mail.sent_at,
        "received_at": now,
    }
    if mail.skip_reason:
        record, _ = InboundMail.objects.get_or_create(
            message_key=key, defaults=fields | {"status": InboundMail.Status.SKIPPED, "reason": mail.skip_reason}
        )
        return record
    try:
        with transaction.atomic():
            # The row claims the key first: a second poller inserting the same key waits on
            # it (PostgreSQL) or fails, and its transaction (with its complaint) rolls back.
            record = InboundMail.objects.create(message_key=key, status=InboundMail.Status.REGISTERED, **fields)
            mobile, project, category = _choose(company_id, mail, config)
            images, why_not = _images(mail)
            complaint = services.register_complaint(
                services.Intake(
                    channel=Channel.EMAIL,
                    complainant_name=(mail.sender_name or mail.sender_email.split("@")[0])[:50],
                    complainant_mobile=mobile,
                    complainant_email=mail.sender_email,
                    content=_content(mail, why_not),
                    project=project,
                    category=category,
                    event_at=None,
                ),
                actor=actor,
                now=now,
            )
            attachments.attach(complaint, images, actor=actor, now=now)
            record.complaint = complaint
            record.save(update_fields=["complaint"])
    except IntegrityError:
        found = InboundMail.objects.filter(message_key=key).first()
        if found is None:
            raise
        return found
    except DomainError as exc:
        return _hold(at, raw, reason=f"无法登记为投诉：{exc.message}", mail=mail)
    except DatabaseError:
        raise  # the database, not the mail: the run fails and the next one retries it
    except Exception as exc:
        # A mail that trips a bug is held rather than retried forever: it would block
        # every later mail of the mailbox on each run.
        logger.exception("complaint mail %s could not be registered", key)
        return _hold(at, raw, reason=f"登记时出错（{type(exc).__name__}），请人工处理", mail=mail)
    return record


# ---------------------------------------------------------------- the mailbox


def _actor(config: MailboxConfig) -> User:
    from crm.accounts.models import User as UserModel

    if not config.actor:
        raise MailboxError("未设置登记投诉邮件的员工账号（COMPLAINT_IMAP_ACTOR）")
    actor = UserModel.objects.filter(username=config.actor, is_active=True).first()
    if actor is None or actor.company_id is None:
        raise MailboxError(f"登记投诉邮件的员工账号“{config.actor}”不存在、已停用或不属于任何公司")
    if not actor.has_perm(services.ADD):
        raise MailboxError(f"员工账号“{config.actor}”没有登记投诉的权限")
    return actor


def _connect(config: MailboxConfig) -> imaplib.IMAP4:
    if config.use_ssl:
        # The server's certificate and name are verified (a complaint mailbox carries
        # personal data); a private CA is trusted through COMPLAINT_IMAP_CA_FILE.
        context = ssl.create_default_context(cafile=config.ca_file or None)
        return imaplib.IMAP4_SSL(config.host, config.port, ssl_context=context, timeout=config.timeout)
    return imaplib.IMAP4(config.host, config.port, timeout=config.timeout)


def _check(typ: str, data: Sequence[object], what: str) -> Sequence[object]:
    """The data of an OK answer; any other answer is the named step's failure."""
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")[:200]
        raise MailboxError(f"{what}失败：{detail or typ}")
    return data


def _fetched_bytes(data: Sequence[object]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _record_state(config: MailboxConfig, now: datetime, error: str = "") -> None:
    state, _ = MailboxState.objects.get_or_create(mailbox=config.key)
    state.last_polled_at = now
    if error:
        state.last_error, state.last_error_at, state.failures = error[:500], now, state.failures + 1
    else:
        state.last_success_at, state.last_error, state.failures = now, "", 0
    state.save()


def poll_mailbox(*, now: datetime, config: MailboxConfig | None = None) -> int:
    """Read the new mails of the complaint mailbox (see the module docstring); returns how
    many mails were recorded and flagged. Errors are recorded, never raised: the next run
    tries again."""
    config = config or MailboxConfig.from_settings()
    if config is None:
        return 0
    handled = 0
    conn: imaplib.IMAP4 | None = None
    try:
        actor = _actor(config)
        if actor.company is not None:
            services.ensure_default_categories(actor.company)  # as the intake page does
        try:
            conn = _connect(config)
            _check(*conn.login(config.user, config.password), "投诉邮箱登录")
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"投诉邮箱登录失败：{exc}") from exc
        _check(*conn.select(_quoted(config.folder)), f"打开邮件夹“{config.folder}”")
        found = _check(*conn.uid("SEARCH", "UNSEEN"), "查找新邮件")
        uids = found[0].split() if found and isinstance(found[0], bytes) else []
        for uid_bytes in uids[: config.batch]:
            uid = uid_bytes.decode("ascii")
            raw = _fetched_bytes(_check(*conn.uid("FETCH", uid, "(BODY.PEEK[])"), f"读取邮件 {uid}"))
            if raw is None:
                continue  # expunged meanwhile
            intake_mail(raw, actor=actor, config=config, uid=uid, now=now)
            # Only now, with the row committed, is the mail marked read (rule 1).
            _check(*conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"), f"标记邮件 {uid} 为已读")
            handled += 1
    except MailboxError as exc:
        _record_state(config, now, exc.reason)
        logger.warning("complaint mailbox %s: %s", config.key, exc.reason)
        return handled
    except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
        reason = f"无法读取投诉邮箱 {config.host}:{config.port}：{_os_reason(exc)}，下次运行时重试"
        _record_state(config, now, reason)
        logger.warning("complaint mailbox %s: %s", config.key, exc)
        return handled
    finally:
        if conn is not None:
            _close(conn)
    _record_state(config, now)
    return handled


def _close(conn: imaplib.IMAP4) -> None:
    """Log out, and close the socket even when the server is gone (logout does not then)."""
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        with contextlib.suppress(OSError):
            conn.shutdown()


def _quoted(folder: str) -> str:
    return folder if re.fullmatch(r"[A-Za-z0-9._/-]+", folder) else '"' + folder.replace('"', '\\"') + '"'


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "连接超时"
    if isinstance(exc, ssl.SSLError):
        return f"SSL 错误（{exc.reason or exc}）"
    if isinstance(exc, socket.gaierror):
        return "无法解析服务器地址"
    if isinstance(exc, imaplib.IMAP4.error):
        return f"服务器返回错误（{exc}）"
    return f"{type(exc).__name__}: {exc}"


def mark_mail_handled(mail: InboundMail, *, actor: User, note: str, now: datetime) -> InboundMail:
    """The director has dealt with a held mail (registered it by hand, or found nothing to
    register): the reason is kept with the note, the raw mail is dropped (PIPL minimum)."""
    if not actor.has_perm(services.MANAGE):
        raise NotAllowed("只有客服中心主任可以处理待人工处理的投诉邮件")
    note = note.strip()
    if not note:
        raise DomainError("请填写处理说明（如已人工登记的投诉编号）", field="note")
    with transaction.atomic():
        changed = InboundMail.objects.filter(pk=mail.pk, status=InboundMail.Status.HELD).update(
            status=InboundMail.Status.HANDLED,
            reason=f"{mail.reason}；处理：{note}"[:300],
            raw=b"",
            handled_by=actor,
            handled_at=now,
        )
    if not changed:
        raise DomainError("这封邮件已处理")
    mail.refresh_from_db()
    return mail


def intake_initial(mail: InboundMail) -> dict[str, str]:
    """What 按此邮件登记投诉 puts in the registration form for a held mail: the email
    channel, the sender, the first mobile written in the mail and its text; staff check and
    complete the rest (楼盘, 类别)."""
    initial = {"channel": Channel.EMAIL.value, "complainant_email": mail.sender_email}
    initial["complainant_name"] = mail.sender_name or mail.sender_email.split("@")[0]
    text = ""
    if mail.raw:
        try:
            parsed = parse_mail(bytes(mail.raw))
        except Unparsable:
            text = readable(bytes(mail.raw), limit=5000)
        else:
            text = "\n".join(part for part in (parsed.subject, parsed.body) if part)
    initial["content"] = text[:5000]
    found = mobiles_in(text)
    if found:
        initial["complainant_mobile"] = found[0]
    return initial


def register_held_mail(mail: InboundMail, intake: services.Intake, *, actor: User, now: datetime) -> Complaint:
    """Register a held mail as a complaint from the form staff completed: the complaint and
    the mail's new state (已登记为投诉, linked, raw mail dropped) in one transaction, so a
    mail is never registered twice and never left held after its complaint exists."""
    if not actor.has_perm(services.MANAGE):
        raise NotAllowed("只有客服中心主任可以处理待人工处理的投诉邮件")
    with transaction.atomic():
        locked = InboundMail.objects.select_for_update().filter(pk=mail.pk, status=InboundMail.Status.HELD).first()
        if locked is None:
            raise DomainError("这封邮件已处理")
        complaint = services.register_complaint(intake, actor=actor, now=now)
        InboundMail.objects.filter(pk=mail.pk).update(
            status=InboundMail.Status.REGISTERED,
            complaint=complaint,
            reason=f"{mail.reason}；已人工登记为投诉 {complaint.number}"[:300],
            raw=b"",
            handled_by=actor,
            handled_at=now,
        )
    mail.refresh_from_db()
    return complaint


def readable(raw: bytes, *, limit: int = 50000) -> str:
    """A held mail as the director reads it: sender, subject and text when it parses, else
    the raw mail as text (UTF-8 or GB18030). Shown escaped."""
    try:
        mail = parse_mail(raw)
    except Unparsable:
        return _decode_bytes(raw[:limit], None)
    lines = [f"发件人：{mail.sender_name} <{mail.sender_email}>", f"主题：{mail.subject}", "", mail.body]
    if mail.attachments:
        lines += ["", "附件：" + "、".join(a.name for a in mail.attachments)]
    return "\n".join(lines)[:limit]
