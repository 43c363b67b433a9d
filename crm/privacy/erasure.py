"""Erasure: anonymise one customer everywhere, by one table of what personal data lives where.

PIPL art. 47 asks for deletion; reports must keep their counts (DESIGN 3.6), so a customer
is *anonymised*, not deleted: the row, its number, stage, project, owner, deals and the
rows of every capability stay, and every personal value in them is overwritten. What is
personal is listed in ``PLAN`` below, one entry per model, named by its label so this
module imports no app's internals (the direction stays privacy → capability apps, and an
app that is not installed is skipped). ``tests/test_erasure_plan.py`` fails when a model
that points at a customer (directly or through a listed parent) is in neither ``PLAN``
nor ``NOT_PERSONAL``, so a new app's model is covered before it ships.

Steps of ``anonymise_customer`` (one transaction, the customer row locked):
1. the customer row: name → 已注销客户, mobile → a placeholder with no digit (unique per
   company, never matched by a digit search), backup mobile, ID number (ciphertext, blind
   index, hint), birthday, notes, tags and consents cleared; opted out of every SMS and
   archived with reason 客户要求删除;
2. every row in ``PLAN``: its personal fields overwritten (or the row deleted, for rows that
   are nothing but personal data: family members, attachments), matched through the
   customer and, for contact rows registered without a link, through the customer's
   mobiles within the company;
3. open messages cancelled (crm.care.services.cancel_open_messages): none can be sent;
4. audit rows about the customer keep who, when and what kind of action, but lose the
   summary, diff and reason (they quote names and numbers);
5. one ``ErasureRecord`` (the ledger): customer number, when, who, why, rows changed;
6. duplicates merged into the customer (archived copies of the same person) the same way,
   each with its own ledger row;
7. free text with no link to the customer that quotes their name or a mobile (``QUOTES``:
   handovers, the duty log, spot checks, the gift stock ledger) has that text replaced
   (before step 1 renames the customer);
8. data no ``PLAN`` rule can rewrite (a report snapshot's JSON) is rewritten by the erasers
   apps above this one register (``register_eraser``), first of all, while the customer's
   name, mobiles and the rows ``PLAN`` matched are still as they were; each counts its rows
   in the ledger under its label.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.apps import apps
from django.db import models, transaction

from crm.care import services as care_services
from crm.core import audit
from crm.customers.models import ArchiveReason, Customer
from crm.privacy.models import ErasureRecord

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.privacy.models import DataSubjectRequest

logger = logging.getLogger("crm.privacy.erasure")

ERASED_NAME = "已注销客户"
REMOVED = "（个人信息已删除）"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
PLACEHOLDER = object()


def placeholder_mobile(pk: int) -> str:
    """A value for the unique mobile column that holds no digit (a digit search never
    finds it) and is unique per customer: 已注销- and the primary key in letters."""
    letters = ""
    n = pk
    while True:
        n, rest = divmod(n, 26)
        letters = _LETTERS[rest] + letters
        if n == 0:
            break
    return f"已注销-{letters}"


@dataclass(frozen=True)
class Rule:
    """Where a model keeps a customer's personal data and what replaces it.

    ``customer``: the path to the customer (``"customer"``), or empty when the rows are
    found through ``parent`` (``("complaint", "complaints.complaint")``: the rows whose
    complaint was matched by that rule). ``mobiles``: contact-number fields that find rows
    registered without a customer link (same company, ``company`` path). ``fields``: the
    replacement of each personal field. ``delete``: the rows are removed instead.
    ``copy``: the fields a data-subject copy includes (default: ``fields``).
    """

    label: str
    title: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    customer: str = "customer"
    parent: tuple[str, str] | None = None
    mobiles: tuple[str, ...] = ()
    company: str = "company"
    delete: bool = False
    copy: tuple[str, ...] = ()
    # Replacements for matched rows without a customer link, where a blank would break a
    # constraint (an outbox row needs a customer or a number): PLACEHOLDER becomes the
    # customer's placeholder mobile.
    unlinked: Mapping[str, Any] = field(default_factory=dict)

    @property
    def copy_fields(self) -> tuple[str, ...]:
        return self.copy or tuple(self.fields)


# Order matters: a rule with a parent comes after the parent's rule.
PLAN: tuple[Rule, ...] = (
    Rule(
        "customers.customerprofile",
        "客户信息档案",
        fields={},  # every text field of the archive (filled in by _profile_fields)
    ),
    Rule(
        "customers.familymember",
        "家庭成员",
        delete=True,
        copy=("relation", "name", "gender", "mobile", "birthday_on", "notes"),
    ),
    Rule(
        "customers.timelineevent",
        "客户动态",
        fields={"summary": REMOVED, "data": {}},
        copy=("kind", "occurred_at", "summary"),
    ),
    Rule(
        "customers.consentrecord",
        "授权记录",
        fields={"source": ""},
        copy=("purpose", "is_granted", "source", "recorded_at"),
    ),
    Rule(
        "customers.deal",
        "成交",
        fields={},
        copy=("project_id", "unit_id", "price", "status", "subscribed_on", "contracted_on", "moved_in_on"),
    ),
    Rule(
        "complaints.complaint",
        "投诉",
        fields={
            "complainant_name": ERASED_NAME,
            "complainant_mobile": "",
            "complainant_email": "",
            "content": REMOVED,
            "event_place": "",
            "unit_text": "",
            "plan": "",
        },
        mobiles=("complainant_mobile",),
        copy=("number", "registered_at", "complainant_name", "complainant_mobile", "content", "plan", "status"),
    ),
    Rule(
        "complaints.complaintevent",
        "投诉处理记录",
        fields={"note": ""},
        customer="",
        parent=("complaint", "complaints.complaint"),
    ),
    Rule(
        "complaints.complaintattachment",
        "投诉附件",
        delete=True,
        customer="",
        parent=("complaint", "complaints.complaint"),
        copy=("original_name",),
    ),
    Rule(
        "complaints.surveyinvitation",
        "满意度调查",
        fields={"comment": ""},
        customer="",
        parent=("complaint", "complaints.complaint"),
    ),
    Rule(
        "complaints.inboundmail",
        "投诉邮件",
        fields={"sender_email": "", "sender_name": "", "subject": "", "raw": b""},
        customer="",
        parent=("complaint", "complaints.complaint"),
        copy=("sender_name", "subject"),
    ),
    Rule(
        "complaints.consultation",
        "咨询",
        fields={"question": REMOVED, "answer": "", "contact_name": ERASED_NAME, "contact_mobile": ""},
        mobiles=("contact_mobile",),
    ),
    Rule(
        "complaints.customerissue",
        "客户问题（首问责任）",
        fields={"subject": REMOVED, "description": REMOVED, "contact_name": ERASED_NAME, "contact_mobile": ""},
        mobiles=("contact_mobile",),
    ),
    Rule(
        "complaints.issuehandoff",
        "问题转交",
        fields={"asked": REMOVED, "answer": ""},
        customer="",
        parent=("issue", "complaints.customerissue"),
    ),
    Rule(
        "complaints.issueescalation",
        "问题升级",
        fields={"reason": REMOVED},
        customer="",
        parent=("issue", "complaints.customerissue"),
    ),
    Rule(
        "complaints.issuecallback",
        "问题回复客户",
        fields={"result": REMOVED},
        customer="",
        parent=("issue", "complaints.customerissue"),
    ),
    Rule(
        "complaints.issueevent",
        "问题处理记录",
        fields={"note": ""},
        customer="",
        parent=("issue", "complaints.customerissue"),
    ),
    Rule(
        "visits.visittask",
        "回访",
        fields={"opinions": "", "due_note": ""},
        copy=("occasion", "purpose", "status", "completed_at", "opinions"),
    ),
    Rule("visits.visitevent", "回访记录", fields={"note": ""}, customer="", parent=("task", "visits.visittask")),
    Rule(
        "visits.reviewflag",
        "回访督查",
        fields={"comment": REMOVED, "answer": ""},
        customer="",
        parent=("task", "visits.visittask"),
    ),
    Rule("visits.flagevent", "回访督查记录", fields={"note": ""}, customer="", parent=("flag", "visits.reviewflag")),
    Rule("visits.visitissue", "回访问题", fields={"description": REMOVED, "resolution": ""}),
    Rule("visits.issueevent", "回访问题记录", fields={"note": ""}, customer="", parent=("issue", "visits.visitissue")),
    Rule(
        "visits.repair",
        "报修",
        fields={"problem": REMOVED},
        copy=("problem", "contractor", "completed_at"),
    ),
    Rule(
        "service.dutylogentry",
        "值班记录",
        fields={"content": REMOVED, "caller_name": ""},
        customer="customer",
        company="shift__company",
        copy=("kind", "at", "content"),
    ),
    Rule(
        "service.giftissue",
        "礼品发放",
        fields={"visitor_name": "", "reason": ""},
        copy=("occasion", "issued_at", "reason"),
    ),
    Rule(
        "service.birthdayentry",
        "生日名单",
        delete=True,
        copy=("name", "relation", "birthday_on"),
    ),
    # 老带新: the link stays (counts and chains), the names go with the customer rows; the
    # reward's free text is the referrer's (the reward is paid to them).
    Rule(
        "referrals.referral",
        "老带新",
        fields={},
        customer="referred",
        company="company",
        copy=("referrer_id", "channel", "visited_on", "created_at"),
    ),
    Rule(
        "referrals.reward",
        "老带新奖励",
        fields={"note": "", "decision_note": ""},
        customer="referral__referrer",
        company="referral__company",
        copy=("kind", "amount", "state", "proposed_at", "paid_at"),
    ),
    Rule(
        "events.invitee",
        "客户活动邀请",
        fields={"rsvp_note": ""},
        company="event__company",
        copy=("rsvp", "rsvp_note", "invited_at", "attended_at"),
    ),
    Rule(
        "portraits.portrait",
        "客户描摹",
        # The structured answers stay for the quarter's counts; what the consultant wrote
        # about the customer's life goes.
        fields={"occupation": "", "family_note": "", "interests": "", "living_note": "", "notes": ""},
        copy=(
            "quarter",
            "industry",
            "occupation",
            "family_structure",
            "family_note",
            "hobby",
            "interests",
            "living_situation",
            "living_note",
            "purchase_motive",
            "decision_maker",
            "notes",
        ),
    ),
    Rule(
        "care.outboundmessage",
        "短信",
        fields={"text": REMOVED, "params": {}, "contact_name": "", "contact_mobile": ""},
        mobiles=("contact_mobile",),
        company="project__company",
        unlinked={"contact_mobile": PLACEHOLDER},
        copy=("trigger", "status", "text", "submitted_at"),
    ),
)

# Models that point at a customer (or at a parent above) and hold no personal data of
# the customer beyond the link: kept as they are. The ledger and the requests name the
# customer by id and number only.
NOT_PERSONAL: frozenset[str] = frozenset(
    {
        "customers.customer",  # the row itself: _anonymise_row
        "customers.deal",  # unit, price and dates: kept for the reports (listed in PLAN for the copy)
        "privacy.datasubjectrequest",  # kept as proof of the answer; its free text is cleared
        "privacy.legalhold",  # the legal ground, no personal data
        "care.deliveryreceipt",  # the gateway's status code of a message
        "complaints.mediafinding",  # a public media report a complaint was linked to
        "visits.issuereminder",  # which day a department or visitor was reminded
        "service.gifttask",  # a deal's gift to hand over: occasion and dates
        "events.eventgift",  # links an event to a gift issue (erased by its own rule)
    }
)


@dataclass(frozen=True)
class Quote:
    """Free text with no link to the customer that may still quote them by name or number
    (a handover summary, a stock-ledger line "生日礼品：张三"): each field that contains the
    customer's name or one of their mobiles is replaced, within the customer's company."""

    label: str
    title: str
    fields: Mapping[str, str]
    company: str = "company"


QUOTES: tuple[Quote, ...] = (
    Quote(
        "service.dutylogentry",
        "值班记录（提及客户）",
        {"content": REMOVED, "caller_name": ""},
        company="shift__company",
    ),
    Quote(
        "service.handover",
        "交接班（提及客户）",
        {"log_summary": REMOVED, "open_matters": REMOVED, "major_repair_note": REMOVED},
    ),
    Quote("service.handoveritem", "交接物品说明（提及客户）", {"explanation": REMOVED}, company="handover__company"),
    Quote("service.handoverevent", "交接班过程（提及客户）", {"note": REMOVED}, company="handover__company"),
    Quote("service.dutycheck", "值班抽查（提及客户）", {"note": REMOVED}, company="shift__company"),
    Quote("service.stockmovement", "礼品出入库（提及客户）", {"note": REMOVED}, company="stock__gift__company"),
)
# A one-character name would match too much unrelated text; such a customer is still
# found by mobile.
MIN_QUOTED_NAME = 2


def quoted_rows(customer: Customer, mobiles: list[str]) -> dict[tuple[str, str], models.QuerySet[Any]]:
    """For each (label, field) of ``QUOTES``: the company's rows whose field quotes the
    customer's name or one of ``mobiles``."""
    needles = [n for n in (customer.name.strip(),) if len(n) >= MIN_QUOTED_NAME and n != ERASED_NAME]
    needles += mobiles
    found: dict[tuple[str, str], models.QuerySet[Any]] = {}
    if not needles:
        return found
    for quote in QUOTES:
        app_label, _, model_name = quote.label.partition(".")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        in_company = model._default_manager.filter(**{f"{quote.company}_id": customer.company_id})
        for name in quote.fields:
            where = models.Q(pk__in=[])
            for needle in needles:
                where |= models.Q(**{f"{name}__contains": needle})
            found[(quote.label, name)] = in_company.filter(where)
    return found


def _profile_fields() -> dict[str, Any]:
    profile = apps.get_model("customers", "CustomerProfile")
    values: dict[str, Any] = {
        f.name: "" for f in profile._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))
    }
    values["children_consent_at"] = None
    return values


def rule_fields(rule: Rule) -> dict[str, Any]:
    if rule.label == "customers.customerprofile":
        return _profile_fields()
    return dict(rule.fields)


def installed(rule: Rule) -> bool:
    app_label, _, model_name = rule.label.partition(".")
    try:
        apps.get_model(app_label, model_name)
    except LookupError:
        return False
    return True


def model_of(rule: Rule) -> type[models.Model]:
    app_label, _, model_name = rule.label.partition(".")
    return apps.get_model(app_label, model_name)


def customer_mobiles(customer: Customer) -> list[str]:
    return [m for m in (customer.mobile, customer.mobile2) if m and m[0].isdigit()]


def matched_rows(customer: Customer, mobiles: list[str] | None = None) -> dict[str, models.QuerySet[Any]]:
    """Each rule's rows of this customer, by label (rules whose app is not installed are
    left out). ``mobiles``: the numbers to match unlinked contact rows by (default: the
    customer's own)."""
    numbers = customer_mobiles(customer) if mobiles is None else mobiles
    found: dict[str, models.QuerySet[Any]] = {}
    pks: dict[str, list[Any]] = {}
    for rule in PLAN:
        if not installed(rule):
            continue
        model = model_of(rule)
        if rule.parent is not None:
            parent_field, parent_label = rule.parent
            if parent_label not in pks:
                continue
            qs = model._default_manager.filter(**{f"{parent_field}__in": pks[parent_label]})
        else:
            where = models.Q(**{rule.customer: customer.pk})
            for name in rule.mobiles:
                if numbers:
                    where |= models.Q(**{f"{name}__in": numbers, rule.company: customer.company_id})
            qs = model._default_manager.filter(where)
        found[rule.label] = qs
        pks[rule.label] = list(qs.values_list("pk", flat=True))
    return found


@dataclass(frozen=True)
class Subject:
    """The customer being erased as an eraser sees it: the row not yet anonymised, their
    mobiles, and the rows ``PLAN`` matched by label (erasers run before any of them is
    rewritten, so contact rows found by mobile are still found)."""

    customer: Customer
    mobiles: list[str]
    rows: Mapping[str, models.QuerySet[Any]]


class Eraser(Protocol):
    def __call__(self, subject: Subject, *, actor: User | None, now: datetime) -> int:
        """Rewrite what the app holds about ``subject`` and return the number of rows changed;
        a second call for the same subject changes nothing (returns 0)."""
        ...


# Erasers of the apps above this one (crm.reports), which this module cannot import (the
# layer order): each registers its own from its AppConfig.ready(), keyed by the model label
# it rewrites, so registering twice (tests reloading apps) keeps one.
_ERASERS: dict[str, Eraser] = {}


def register_eraser(label: str, eraser: Eraser) -> None:
    """Have ``anonymise_customer`` call ``eraser`` (step 8 of the module docstring)."""
    _ERASERS[label] = eraser


def registered_erasers() -> dict[str, Eraser]:
    return dict(_ERASERS)


def _file_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


@dataclass
class Outcome:
    record: ErasureRecord
    rows: dict[str, int]


def _anonymise_row(customer: Customer, *, now: datetime) -> None:
    customer.name = ERASED_NAME
    customer.mobile = placeholder_mobile(customer.pk)
    customer.mobile2 = ""
    customer.gender = ""
    customer.notes = ""
    customer.id_number_encrypted = customer.id_number_hash = customer.id_number_hint = ""
    customer.birthday_on = None
    customer.birthday_is_lunar = False
    customer.lunar_month = customer.lunar_day = None
    customer.lunar_is_leap = False
    customer.birth_mmdd = ""
    customer.consent_notification = customer.consent_care = customer.consent_marketing = False
    customer.consent_source = ""
    customer.has_opted_out = True
    customer.opted_out_at = customer.opted_out_at or now
    customer.is_vip = False
    if not customer.is_archived:
        customer.is_archived = True
        customer.archived_at = now
    if not customer.merged_into_id:
        customer.archived_reason = ArchiveReason.REQUEST
    customer.archived_note = ""
    customer.save()
    customer.tags.clear()


def is_erased(customer_pk: int) -> bool:
    return ErasureRecord.objects.filter(customer_pk=customer_pk).exclude(kind=ErasureRecord.Kind.RESTRICT).exists()


def anonymise_customer(
    customer: Customer,
    *,
    actor: User | None,
    reason: str,
    kind: str = ErasureRecord.Kind.REQUEST,
    now: datetime,
    request: DataSubjectRequest | None = None,
    replay: ErasureRecord | None = None,
) -> Outcome:
    """Anonymise the customer everywhere (steps in the module docstring). Idempotent: a
    second call changes nothing more and returns the existing ledger row. ``replay``:
    a ledger row from another copy of the database (a restore), written as it was."""
    files: list[tuple[Any, str]] = []
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        existing = (
            ErasureRecord.objects.filter(customer_pk=customer.pk).exclude(kind=ErasureRecord.Kind.RESTRICT).first()
        )
        if existing is not None and customer.name == ERASED_NAME and not customer_mobiles(customer):
            return Outcome(existing, dict(existing.rows))
        mobiles = customer_mobiles(customer)
        rows: dict[str, int] = {}
        matched = matched_rows(customer, mobiles)
        subject = Subject(customer, mobiles, matched)
        for label, eraser in _ERASERS.items():
            changed = eraser(subject, actor=actor, now=now)
            if changed:
                rows[label] = changed
        for label, qs in matched.items():
            rule = next(r for r in PLAN if r.label == label)
            model = qs.model
            if rule.delete:
                for row in qs:
                    for name in _file_fields(model):
                        file = getattr(row, name)
                        if file:
                            files.append((file.storage, file.name))
                rows[label], _ = qs.delete()
            elif rule.unlinked:
                linked = {rule.customer: None}
                unlinked = {
                    k: placeholder_mobile(customer.pk) if v is PLACEHOLDER else v for k, v in rule.unlinked.items()
                }
                rows[label] = qs.exclude(**linked).update(**rule_fields(rule)) + qs.filter(**linked).update(
                    **(rule_fields(rule) | unlinked)
                )
            else:
                values = rule_fields(rule)
                rows[label] = qs.update(**values) if values else qs.count()
        for (label, name), qs in quoted_rows(customer, mobiles).items():
            quote = next(q for q in QUOTES if q.label == label)
            changed = qs.update(**{name: quote.fields[name]})
            if changed:
                rows[f"{label}.quoted"] = rows.get(f"{label}.quoted", 0) + changed
        _anonymise_row(customer, now=now)
        rows["care.cancelled"] = care_services.cancel_open_messages([customer.pk], "客户个人信息已删除，不再发送")
        rows["core.auditlog"] = audit.AuditLog.objects.filter(customer_id=customer.pk).update(
            summary=REMOVED, changes={}, reason="", target_label=f"客户 {ERASED_NAME}（{customer.number}）"
        )
        if existing is not None:
            record = existing
        elif replay is not None:
            record = ErasureRecord.objects.create(
                company_id=replay.company_id,
                customer_pk=customer.pk,
                customer_number=replay.customer_number,
                kind=replay.kind,
                reason=replay.reason,
                erased_at=replay.erased_at,
                erased_by_id=replay.erased_by_id if _user_exists(replay.erased_by_id) else None,
                rows=replay.rows,
            )
        else:
            record = ErasureRecord.objects.create(
                company_id=customer.company_id,
                customer_pk=customer.pk,
                customer_number=customer.number,
                kind=kind,
                reason=reason[:200],
                erased_at=now,
                erased_by=actor if actor is not None and actor.is_authenticated else None,
                request=request,
                rows=rows,
            )
        audit.log(
            audit.AuditLog.Action.DELETE,
            actor=actor,
            target=customer,
            customer_id=customer.pk,
            summary=f"删除客户 {customer.number} 的个人信息（{ErasureRecord.Kind(record.kind).label}）",
            reason=reason,
        )
        transaction.on_commit(_deleter(files))
        # Duplicates merged into this record are archived copies of the same person.
        for source in Customer.objects.filter(merged_into=customer).exclude(name=ERASED_NAME):
            anonymise_customer(source, actor=actor, reason=reason, kind=kind, now=now)
    return Outcome(record, rows)


def _user_exists(pk: int | None) -> bool:
    if pk is None:
        return False
    return apps.get_model("accounts", "User")._default_manager.filter(pk=pk).exists()


def _deleter(files: list[tuple[Any, str]]) -> Callable[[], None]:
    def delete() -> None:
        # After the commit: a rollback must not leave rows pointing at deleted files.
        for storage, name in files:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("erasure: could not delete file %s", name)

    return delete
