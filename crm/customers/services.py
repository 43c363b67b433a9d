"""Writes to customers and deals. Every function takes the acting user and runs atomically.

Rules enforced here (and nowhere else):
1. One person, one record: a mobile that already belongs to a customer of the company is
   refused with DuplicateCustomer, which carries the existing record so the UI can offer
   a merge instead (seed 003: 客户信息统一登记, 不得重复).
2. Every change is audited and shows on the customer's 360° timeline.
3. Invalid records are archived with a reason, never deleted (seed 003: 定期清理无效信息).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm.core import audit
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.numbering import reserve
from crm.customers import archive, guard, timeline
from crm.customers.milestones import milestone_errors, signing_deadline
from crm.customers.models import (
    ArchiveReason,
    Channel,
    ConsentRecord,
    Customer,
    CustomerProfile,
    Deal,
    FamilyMember,
    Stage,
    TimelineEvent,
)
from crm.customers.signals import referrer_changed
from crm.lib import crypto, lunar
from crm.lib.mobile import InvalidMobile, mask_id_number, normalize_id_number, normalize_mobile
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar
from crm.projects.models import Project, Unit

if TYPE_CHECKING:
    from crm.accounts.models import Company, User

Kind = TimelineEvent.Kind

# Fields whose changes are audited and shown as "修改资料" on the timeline.
TRACKED_FIELDS = [
    "name",
    "gender",
    "mobile",
    "mobile2",
    "stage",
    "grade",
    "is_vip",
    "owner_id",
    "advisor_id",
    "project_id",
    "source_channel",
    "referrer_id",
    "notes",
    "birthday_on",
    "birthday_is_lunar",
    "lunar_month",
    "lunar_day",
    "lunar_is_leap",
]


class DuplicateCustomer(DomainError):
    def __init__(self, existing: Customer, mobile: str, *, field: str = "mobile") -> None:
        super().__init__(f"手机号已属于客户 {existing.name}（{existing.number}）", field=field)
        self.existing = existing
        self.mobile = mobile


def clean_mobile(raw: Any, *, field: str = "mobile", required: bool = True) -> str:
    if not required and (raw is None or str(raw).strip() == ""):
        return ""
    try:
        return normalize_mobile(raw)
    except InvalidMobile as exc:
        raise DomainError(exc.message, field=field) from exc


def find_by_mobile(company_id: int, mobile: str, *, exclude_id: int | None = None) -> Customer | None:
    """The customer holding this mobile (as main or backup number), following merges."""
    qs = Customer.objects.filter(Q(mobile=mobile) | Q(mobile2=mobile), company_id=company_id)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    found = qs.order_by("is_archived", "id").first()
    while found is not None and found.merged_into_id is not None:
        found = Customer.objects.get(pk=found.merged_into_id)
    return found


def next_customer_numbers(company_id: int, count: int = 1) -> list[str]:
    first = reserve(f"customer:{company_id}", count)
    return [f"KH{n:08d}" for n in range(first, first + count)]


def birth_mmdd(obj: Customer | FamilyMember) -> str:
    """Solar month-day used to find birthdays by index; lunar ones are handled per year by care jobs."""
    if obj.birthday_is_lunar:
        return ""
    return obj.birthday_on.strftime("%m%d") if obj.birthday_on else ""


def _fill_lunar(obj: Customer | FamilyMember) -> None:
    """A lunar birthday entered as a solar birth date gets its lunar month/day derived."""
    if obj.birthday_is_lunar and obj.birthday_on and not obj.lunar_month:
        obj.lunar_month, obj.lunar_day, obj.lunar_is_leap = lunar.solar_to_lunar(obj.birthday_on)
    if obj.birthday_is_lunar and not (obj.lunar_month and obj.lunar_day):
        raise DomainError("按农历过生日时，请填写出生日期或农历月、日", field="birthday_on")
    if obj.lunar_month and not 1 <= obj.lunar_month <= 12:
        raise DomainError("农历月份应在1到12之间", field="lunar_month")
    if obj.lunar_day and not 1 <= obj.lunar_day <= 30:
        raise DomainError("农历日期应在1到30之间", field="lunar_day")
    obj.birth_mmdd = birth_mmdd(obj)


def set_id_number(customer: Customer, raw: str) -> None:
    """Encrypt and index an ID number on the (unsaved) customer; blank clears it."""
    if not raw:
        customer.id_number_encrypted = customer.id_number_hash = customer.id_number_hint = ""
        return
    try:
        value = normalize_id_number(raw)
    except InvalidMobile as exc:
        raise DomainError(exc.message, field="id_number") from exc
    customer.id_number_encrypted = crypto.encrypt(value)
    customer.id_number_hash = crypto.blind_index(value)
    customer.id_number_hint = mask_id_number(value)


@transaction.atomic
def create_customer(
    *,
    actor: User,
    name: str,
    mobile: str,
    source_channel: str,
    project: Project | None = None,
    project_id: int | None = None,
    owner: User | None = None,
    company: Company | None = None,
    id_number: str = "",
    tags: Iterable[Any] = (),
    default_consent_source: str = "",
    **fields: Any,
) -> Customer:
    """Register a customer (any channel: the registration page, the API, fixtures).

    1. Defaults, the same for every caller: the owner is the registering user, the company
       is theirs; the project is given as ``project`` or ``project_id``. Consent given
       without a source is recorded as coming from ``default_consent_source`` (the API: 接口).
    2. Normalise the mobile(s); a number already in the company raises DuplicateCustomer.
    3. Assign the next customer number (KH00000001…).
    4. Write the customer, a consent record per purpose consented to, an audit row and the
       "新建客户" timeline event.
    """
    company = company or actor.company
    if company is None:
        raise DomainError("您的账号未关联公司，不能录入客户")
    owner = owner or actor
    if project is not None:
        project_id = project.pk
    if project_id is None:
        raise DomainError("请选择意向楼盘", field="project")
    name = (name or "").strip()
    if not name:
        raise DomainError("姓名不能为空", field="name")
    mobile = clean_mobile(mobile)
    mobile2 = clean_mobile(fields.pop("mobile2", ""), field="mobile2", required=False)
    if mobile2 == mobile:
        mobile2 = ""
    for field, number in (("mobile", mobile), ("mobile2", mobile2)):
        existing = find_by_mobile(company.pk, number) if number else None
        if existing is not None:
            raise DuplicateCustomer(existing, number, field=field)
    customer = Customer(
        company=company,
        name=name,
        mobile=mobile,
        mobile2=mobile2,
        owner=owner,
        project_id=project_id,
        source_channel=source_channel,
        created_by=actor,
        **fields,
    )
    customer.number = next_customer_numbers(company.pk)[0]
    if customer.consent_care or customer.consent_marketing:
        customer.consent_at = customer.consent_at or timezone.now()
        customer.consent_source = customer.consent_source or default_consent_source
    _fill_lunar(customer)
    set_id_number(customer, id_number)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        # A concurrent registration of the same mobile won the race.
        existing = find_by_mobile(company.pk, mobile)
        if existing is not None:
            raise DuplicateCustomer(existing, mobile) from exc
        raise
    if tags:
        customer.tags.set(tags)
    # No empty archive row: update_profile creates it when something is first recorded.
    for purpose in ("care", "marketing"):
        if getattr(customer, f"consent_{purpose}"):
            ConsentRecord.objects.create(
                customer=customer, purpose=purpose, is_granted=True, source=customer.consent_source, recorded_by=actor
            )
    audit.log(
        audit.AuditLog.Action.CREATE,
        actor=actor,
        target=customer,
        customer_id=customer.pk,
        summary=f"新建客户 {customer}",
    )
    timeline.record(customer, Kind.CREATED, f"{actor} 录入客户（{customer.get_source_channel_display()}）", actor=actor)
    if customer.referrer_id:
        referrer_changed.send(sender=Customer, customer_ids=[customer.pk], actor=actor)
    return customer


@transaction.atomic
def update_customer(
    customer: Customer, *, actor: User, id_number: str | None = None, tags: Iterable[Any] | None = None, **changes: Any
) -> Customer:
    """Edit a customer's main record. Stage and owner changes get their own timeline events."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = audit.snapshot(customer, TRACKED_FIELDS)
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise DomainError("姓名不能为空", field="name")
    if "mobile" in changes:
        changes["mobile"] = clean_mobile(changes["mobile"])
    if "mobile2" in changes:
        changes["mobile2"] = clean_mobile(changes["mobile2"], field="mobile2", required=False)
    for field in ("mobile", "mobile2"):
        number = changes.get(field)
        if number and number != getattr(customer, field):
            existing = find_by_mobile(customer.company_id, number, exclude_id=customer.pk)
            if existing is not None and existing.pk != customer.pk:
                raise DuplicateCustomer(existing, number, field=field)
    for key, value in changes.items():
        setattr(customer, key, value)
    _fill_lunar(customer)
    if id_number is not None and id_number != "":
        set_id_number(customer, id_number)
    customer.save()
    if tags is not None:
        customer.tags.set(tags)
    changed = audit.diff(customer, before, TRACKED_FIELDS)
    if id_number:
        changed["id_number"] = ["***", "***"]
    if not changed:
        return customer
    audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=customer, customer_id=customer.pk, changes=changed)
    if "stage" in changed:
        timeline.record(
            customer,
            Kind.STAGE,
            f"阶段：{Stage(before['stage']).label} → {customer.get_stage_display()}",
            actor=actor,
        )
    if "owner_id" in changed:
        timeline.record(customer, Kind.OWNER, f"置业顾问变更为 {customer.owner}", actor=actor)
    if "referrer_id" in changed:
        referrer_changed.send(sender=Customer, customer_ids=[customer.pk], actor=actor)
    rest = [f for f in changed if f not in {"stage", "owner_id"}]
    if rest:
        labels = "、".join(_label(f) for f in rest)
        timeline.record(customer, Kind.EDITED, f"修改了 {labels}", actor=actor, data={"fields": rest})
    return customer


def _label(field: str) -> str:
    if field == "id_number":
        return "身份证号"
    return str(getattr(Customer._meta.get_field(field.removesuffix("_id")), "verbose_name", field))


@transaction.atomic
def update_profile(customer: Customer, *, actor: User, **fields: Any) -> CustomerProfile:
    """Fill in archive items. Children's information needs the guardian's separate consent
    (``children_consent_at``), recorded once and kept with the archive."""
    profile, _ = CustomerProfile.objects.select_for_update().get_or_create(customer=customer)
    # PIPL minimum necessary: the sensitive items are refused while the company has them off.
    if not archive.sensitive_fields_enabled(customer.company_id):
        for name in archive.SENSITIVE_FIELDS:
            if fields.get(name):
                raise DomainError("本公司未开启档案敏感项（父母健康、子女、健康状况），不能记录", field=name)
    if fields.get("children_status") and not (fields.get("children_consent_at") or profile.children_consent_at):
        raise DomainError("记录子女信息需要监护人单独同意", field="children_status")
    if fields.get("children_consent_at") is None:
        fields.pop("children_consent_at", None)
    names = list(fields)
    before = audit.snapshot(profile, names)
    for key, value in fields.items():
        setattr(profile, key, value)
    profile.save()
    changed = audit.diff(profile, before, names)
    if changed:
        audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=profile, customer_id=customer.pk, changes=changed)
        labels = "、".join(str(getattr(CustomerProfile._meta.get_field(f), "verbose_name", f)) for f in changed)
        timeline.record(customer, Kind.EDITED, f"完善档案：{labels}", actor=actor, data={"fields": list(changed)})
    return profile


@transaction.atomic
def add_family_member(customer: Customer, *, actor: User, **fields: Any) -> FamilyMember:
    member = FamilyMember(customer=customer, **fields)
    if member.mobile:
        member.mobile = clean_mobile(member.mobile)
    if (
        member.relation == FamilyMember.Relation.CHILD
        and member.guardian_consent_at is None
        and (member.birthday_on or member.lunar_month)
    ):
        raise DomainError("记录子女生日需要监护人单独同意", field="guardian_consent_at")
    _fill_lunar(member)
    member.save()
    audit.log(
        audit.AuditLog.Action.CREATE, actor=actor, target=member, customer_id=customer.pk, summary=f"家庭成员 {member}"
    )
    timeline.record(customer, Kind.EDITED, f"添加家庭成员：{member}", actor=actor)
    return member


@transaction.atomic
def add_note(customer: Customer, *, actor: User, text: str) -> TimelineEvent:
    text = (text or "").strip()
    if not text:
        raise DomainError("跟进内容不能为空", field="text")
    return timeline.record(customer, Kind.NOTE, text, actor=actor)


@transaction.atomic
def reassign_customers(customers: Iterable[Customer], *, actor: User, new_owner: User, reason: str = "") -> int:
    """Hand customers to another consultant (single or bulk); each move is audited."""
    moved = 0
    for customer in customers:
        if customer.owner_id == new_owner.pk:
            continue
        old_owner = customer.owner
        Customer.objects.filter(pk=customer.pk).update(owner=new_owner, updated_at=timezone.now())
        audit.log(
            audit.AuditLog.Action.REASSIGN,
            actor=actor,
            target=customer,
            customer_id=customer.pk,
            changes={"owner": [str(old_owner), str(new_owner)]},
            reason=reason,
        )
        timeline.record(
            customer, Kind.OWNER, f"置业顾问 {old_owner} → {new_owner}", actor=actor, data={"reason": reason}
        )
        moved += 1
    return moved


@transaction.atomic
def tag_customers(customers: Iterable[Customer], *, actor: User, tag: Any) -> int:
    """Add a tag to customers (bulk); each addition is audited and on the timeline."""
    through = Customer.tags.through
    added = 0
    for customer in customers:
        _, created = through.objects.get_or_create(customer_id=customer.pk, tag_id=tag.pk)
        if not created:
            continue
        audit.log(
            audit.AuditLog.Action.UPDATE,
            actor=actor,
            target=customer,
            customer_id=customer.pk,
            changes={"tags": ["", tag.name]},
        )
        timeline.record(customer, Kind.EDITED, f"添加标签：{tag.name}", actor=actor)
        added += 1
    return added


@transaction.atomic
def archive_customer(customer: Customer, *, actor: User, reason: str, note: str = "") -> Customer:
    if reason not in ArchiveReason.values:
        raise DomainError("请选择归档原因", field="reason")
    if customer.is_archived:
        raise DomainError("该客户已归档")
    customer.is_archived = True
    customer.archived_reason = reason
    customer.archived_note = note
    customer.archived_at = timezone.now()
    customer.save(update_fields=["is_archived", "archived_reason", "archived_note", "archived_at", "updated_at"])
    label = ArchiveReason(reason).label
    audit.log(
        audit.AuditLog.Action.ARCHIVE,
        actor=actor,
        target=customer,
        customer_id=customer.pk,
        reason=f"{label} {note}".strip(),
    )
    timeline.record(customer, Kind.ARCHIVED, f"归档为无效客户：{label}", actor=actor, data={"note": note})
    return customer


@transaction.atomic
def archive_customers(customers: Iterable[Customer], *, actor: User, reason: str, note: str = "") -> int:
    """Archive customers in bulk with one reason; those already archived are skipped.

    All or none: a refused one (e.g. an unknown reason) leaves every other unarchived.
    Returns how many were archived.
    """
    archived = 0
    for customer in customers:
        if customer.is_archived:
            continue
        archive_customer(customer, actor=actor, reason=reason, note=note)
        archived += 1
    return archived


@transaction.atomic
def restore_customer(customer: Customer, *, actor: User) -> Customer:
    if not customer.is_archived or customer.merged_into_id:
        raise DomainError("只有未合并的归档客户可以恢复")
    if customer.archived_reason == ArchiveReason.REQUEST:
        # PIPL art. 47: erased or restricted on the customer's request (crm.privacy).
        raise DomainError("客户要求删除的记录不能恢复")
    customer.is_archived = False
    customer.archived_reason = ""
    customer.archived_note = ""
    customer.archived_at = None
    customer.save(update_fields=["is_archived", "archived_reason", "archived_note", "archived_at", "updated_at"])
    audit.log(audit.AuditLog.Action.RESTORE, actor=actor, target=customer, customer_id=customer.pk)
    timeline.record(customer, Kind.RESTORED, "恢复为有效客户", actor=actor)
    return customer


PROFILE_FIELDS = [
    f.name
    for f in CustomerProfile._meta.concrete_fields
    if f.name not in {"customer", "updated_at", "children_consent_at"}
]


@transaction.atomic
def merge_customers(target: Customer, source: Customer, *, actor: User) -> Customer:
    """Merge a duplicate (source) into the record that stays (target).

    1. Deals, timeline events, family members, consent records and referrals move to the target.
    2. Blank fields of the target (backup mobile, birthday, archive items) are filled from the source.
    3. The source is archived as a duplicate pointing at the target; an audit row and a
       timeline event on the target record the merge.
    """
    if target.pk == source.pk:
        raise DomainError("不能与自身合并")
    if target.company_id != source.company_id:
        raise DomainError("只能合并同一公司的客户")
    if source.merged_into_id:
        raise DomainError("该客户已被合并")
    target = Customer.objects.select_for_update().get(pk=target.pk)
    source = Customer.objects.select_for_update().get(pk=source.pk)
    referred_ids = list(Customer.objects.filter(referrer=source).exclude(pk=target.pk).values_list("pk", flat=True))
    moved = {
        "deals": Deal.objects.filter(customer=source).update(customer=target),
        "events": TimelineEvent.objects.filter(customer=source).update(customer=target),
        "family": FamilyMember.objects.filter(customer=source).update(customer=target),
        "consents": ConsentRecord.objects.filter(customer=source).update(customer=target),
        "referrals": Customer.objects.filter(referrer=source).exclude(pk=target.pk).update(referrer=target),
    }
    _move_related_elsewhere(source, target)
    if not target.mobile2 and source.mobile != target.mobile:
        target.mobile2 = source.mobile
    for field in (
        "birthday_on",
        "birthday_is_lunar",
        "lunar_month",
        "lunar_day",
        "lunar_is_leap",
        "birth_mmdd",
        "notes",
    ):
        if not getattr(target, field) and getattr(source, field):
            setattr(target, field, getattr(source, field))
    if not target.id_number_hash and source.id_number_hash:
        target.id_number_encrypted, target.id_number_hash, target.id_number_hint = (
            source.id_number_encrypted,
            source.id_number_hash,
            source.id_number_hint,
        )
    if source.stage == Stage.OWNER or target.deals.filter(status=Deal.Status.ACTIVE).exists():
        target.stage = Stage.OWNER
    target.is_vip = target.is_vip or source.is_vip
    # The source's referrer (老带新) carries over when the target has none.
    if not target.referrer_id and source.referrer_id and source.referrer_id != target.pk:
        target.referrer_id = source.referrer_id
    target.save()
    target.tags.add(*source.tags.all())
    target_profile, _ = CustomerProfile.objects.get_or_create(customer=target)
    source_profile = CustomerProfile.objects.filter(customer=source).first()
    if source_profile is not None:
        for field in PROFILE_FIELDS:
            if not getattr(target_profile, field) and getattr(source_profile, field):
                setattr(target_profile, field, getattr(source_profile, field))
        target_profile.save()
    source.is_archived = True
    source.archived_reason = ArchiveReason.DUPLICATE
    source.archived_at = timezone.now()
    source.merged_into = target
    source.save()
    audit.log(
        audit.AuditLog.Action.MERGE,
        actor=actor,
        target=target,
        customer_id=target.pk,
        summary=f"{source.number} 合并入 {target.number}",
        changes={"source_id": source.pk, "moved": moved},
    )
    audit.log(
        audit.AuditLog.Action.MERGE,
        actor=actor,
        target=source,
        customer_id=source.pk,
        summary=f"已合并入 {target.number}",
    )
    timeline.record(
        target, Kind.MERGED, f"合并重复客户 {source.name}（{source.number}）", actor=actor, data={"moved": moved}
    )
    referrer_changed.send(sender=Customer, customer_ids=[target.pk, source.pk, *referred_ids], actor=actor)
    return target


def _move_related_elsewhere(source: Customer, target: Customer) -> None:
    """Re-point rows of later capabilities (visits, complaints, messages…) at the target.

    Any model with a ForeignKey named ``customer`` to Customer that is not handled above
    is moved generically, so new apps are covered without touching this function.
    """
    handled = {Deal, TimelineEvent, FamilyMember, ConsentRecord, CustomerProfile}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in handled or model is Customer or relation.field.name != "customer" or relation.one_to_one:
            continue
        model._default_manager.filter(customer=source).update(customer=target)


@transaction.atomic
def merge_intake(
    existing: Customer,
    *,
    actor: User,
    mobiles: Iterable[str],
    name: str = "",
    note: str = "",
    source_channel: str = "",
) -> Customer:
    """A duplicate registration folded into the existing record instead of a new one.

    1. One of the registration's mobiles (as typed; unreadable ones are ignored) must still
       belong to ``existing``: the form may have been changed since the duplicate was found,
       and then nothing is merged (DomainError on the mobile).
    2. The name and note are kept to their lengths on the form (50, 200); an unknown channel
       is left out.
    3. A "合并" timeline event on ``existing`` and an audit row record the registration; no
       customer is created.
    """
    numbers = []
    for raw in mobiles:
        try:
            numbers.append(normalize_mobile(raw))
        except InvalidMobile:
            continue
    if existing not in {find_by_mobile(existing.company_id, number) for number in numbers}:
        raise DomainError("手机号已修改，与所选客户不再重复，请重新提交", field="mobile")
    name = (name or "").strip()[:50]
    note = (note or "").strip()[:200]
    parts = [f"重复登记已合并（{name or existing.name}"]
    if source_channel in Channel.values:
        parts.append(f"，渠道：{Channel(source_channel).label}")
    parts.append("）")
    if note:
        parts.append(f"：{note}")
    timeline.record(existing, Kind.MERGED, "".join(parts), actor=actor)
    audit.log(
        audit.AuditLog.Action.MERGE, actor=actor, target=existing, customer_id=existing.pk, summary="重复登记合并"
    )
    return existing


@transaction.atomic
def set_consent(
    customer: Customer, *, actor: User | None, purpose: str, granted: bool, source: str = "", notice_version: str = ""
) -> ConsentRecord:
    """Give or withdraw consent for one purpose; withdrawal takes effect immediately."""
    if purpose not in ConsentRecord.Purpose.values:
        raise DomainError("未知的授权用途")
    now = timezone.now()
    updates: dict[str, Any] = {f"consent_{purpose}": granted, "updated_at": now}
    if granted:
        updates.update(consent_source=source, consent_at=now)
    Customer.objects.filter(pk=customer.pk).update(**updates)
    record = ConsentRecord.objects.create(
        customer=customer,
        purpose=purpose,
        is_granted=granted,
        source=source,
        notice_version=notice_version,
        recorded_by=actor,
    )
    label = ConsentRecord.Purpose(purpose).label
    timeline.record(
        customer, Kind.CONSENT, f"{'同意' if granted else '撤回'}接收{label}短信（{source or '系统'}）", actor=actor
    )
    return record


def mark_opted_out(customer: Customer | int, *, at: datetime) -> int:
    """Flag the customer as having opted out of every SMS, from ``at``: the flag that planning
    and sending check (crm.care). The caller records why (timeline, audit) and cancels what
    is queued. One UPDATE; returns the rows changed."""
    pk = customer if isinstance(customer, int) else customer.pk
    return Customer.objects.filter(pk=pk).update(has_opted_out=True, opted_out_at=at, updated_at=at)


def clear_opt_out(customer: Customer | int, *, at: datetime) -> int:
    """Lift an opt-out (the customer agreed again, as the caller records). One UPDATE."""
    pk = customer if isinstance(customer, int) else customer.pk
    return Customer.objects.filter(pk=pk).update(has_opted_out=False, opted_out_at=None, updated_at=at)


def reveal_contact(customer: Customer, *, actor: User, field: str, reason: str, ip: str | None = None) -> str:
    """Show one full mobile or ID number: an explicit, audited action (PIPL)."""
    if not actor.has_perm("customers.reveal_contact"):
        raise DomainError("您没有查看完整联系方式的权限")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写查看事由", field="reason")
    if len(reason) < 2:
        raise DomainError("请写明查看事由（至少2个字）", field="reason")
    # Beyond the hourly limit the user is stopped and the supervisors alerted (scraping).
    guard.check_reveal(actor, now=timezone.now())
    if field == "mobile":
        value = customer.mobile
    elif field == "mobile2":
        value = customer.mobile2
    elif field == "id_number":
        value = crypto.decrypt(customer.id_number_encrypted)
    else:
        raise DomainError("未知字段")
    label = {"mobile": "手机号", "mobile2": "备用手机号", "id_number": "身份证号"}[field]
    audit.log(
        audit.AuditLog.Action.REVEAL,
        actor=actor,
        target=customer,
        customer_id=customer.pk,
        summary=f"查看 {customer.name} 的完整{label}",
        changes={"field": field},
        reason=reason,
        ip=ip,
    )
    return value


# ---------------------------------------------------------------- deals

DEAL_DATE_FIELDS = (
    "subscribed_on",
    "contracted_on",
    "full_payment_on",
    "filed_on",
    "delivery_planned_on",
    "delivered_on",
    "moved_in_on",
)


def _check_dates(dates: dict[str, date | None]) -> None:
    errors = milestone_errors(dates, today=timezone.localdate())
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field=field)


# The largest price a Deal stores (DecimalField max_digits=14, decimal_places=2).
MAX_DEAL_PRICE = Decimal("999999999999.99")


def _check_price(price: Any) -> Decimal | None:
    """A deal's price: empty (the unit's price) or a positive amount of yuan, for the pages,
    the import and the API alike."""
    if price is None or price == "":
        return None
    try:
        amount = Decimal(str(price))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError("成交总价必须是数字（单位：元）", field="price") from exc
    if not amount.is_finite():
        raise DomainError("成交总价必须是数字（单位：元）", field="price")
    if amount <= 0:
        raise DomainError("成交总价必须大于 0 元", field="price")
    if amount > MAX_DEAL_PRICE:
        raise DomainError("成交总价过大，请检查单位（元）", field="price")
    return amount.quantize(Decimal("0.01"))


def default_signing_deadline(
    subscribed_on: date | None, cal: WorkCalendar | None = None, *, contracted_on: date | None = None
) -> date | None:
    """The 签约截止日 recorded at subscription: CARE_SIGNING_DEADLINE_DAYS after it, off
    statutory holidays. None for a deal not subscribed or already signed, and while that
    year's work calendar is not entered (the signing reminder is then held with the
    reason, not sent with a guessed date)."""
    if subscribed_on is None or contracted_on is not None:
        return None
    days = int(getattr(settings, "CARE_SIGNING_DEADLINE_DAYS", 7))
    try:
        return signing_deadline(subscribed_on, days=days, cal=cal or work_calendar())
    except CalendarUnknown:
        return None


def _check_signing_deadline(deal: Deal) -> None:
    if deal.signing_deadline_on and deal.subscribed_on and deal.signing_deadline_on < deal.subscribed_on:
        raise DomainError("签约截止日不能早于认购日期", field="signing_deadline_on")


def unit_status_for(deal: Deal) -> str:
    if deal.status == Deal.Status.CANCELLED:
        return Unit.Status.AVAILABLE
    if deal.delivered_on:
        return Unit.Status.DELIVERED
    if deal.contracted_on:
        return Unit.Status.SOLD
    return Unit.Status.RESERVED


@transaction.atomic
def create_deal(
    *,
    actor: User,
    customer: Customer,
    unit: Unit,
    consultant: User | None = None,
    price: Any = None,
    signing_deadline_on: date | None = None,
    **dates: Any,
) -> Deal:
    """A customer subscribes to a unit (认购). The customer must not be archived (restore them
    first) and the unit must be free; the customer becomes an owner. The signing deadline
    (签约截止日) is recorded now: the one given, else the configured number of days after
    subscribing, moved off statutory holidays (``default_signing_deadline``)."""
    if customer.is_archived:
        raise DomainError("已归档的客户不能登记成交，请先恢复", field="customer")
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if unit.project.company_id != customer.company_id:
        raise DomainError("房源不属于本公司", field="unit")
    if Deal.objects.filter(unit=unit, status=Deal.Status.ACTIVE).exists():
        raise DomainError(f"房源 {unit.label} 已被认购", field="unit")
    values = {name: dates.get(name) for name in DEAL_DATE_FIELDS}
    _check_dates(values)
    price = _check_price(price)
    if signing_deadline_on is None:
        signing_deadline_on = default_signing_deadline(values["subscribed_on"], contracted_on=values["contracted_on"])
    deal = Deal(
        company_id=customer.company_id,
        customer=customer,
        unit=unit,
        project_id=unit.project_id,
        consultant=consultant or customer.owner,
        price=price if price is not None else unit.price,
        move_in_kind=dates.get("move_in_kind", ""),
        signing_deadline_on=signing_deadline_on,
        **values,
    )
    _check_signing_deadline(deal)
    deal.save()
    unit.status = unit_status_for(deal)
    unit.save(update_fields=["status"])
    if customer.stage != Stage.OWNER:
        old = customer.get_stage_display()
        Customer.objects.filter(pk=customer.pk).update(stage=Stage.OWNER, updated_at=timezone.now())
        customer.stage = Stage.OWNER
        timeline.record(customer, Kind.STAGE, f"阶段：{old} → 成交客户", actor=actor)
    audit.log(
        audit.AuditLog.Action.CREATE, actor=actor, target=deal, customer_id=customer.pk, summary=f"认购 {unit.label}"
    )
    timeline.record(customer, Kind.DEAL, f"认购 {unit.project.name} {unit.label}", actor=actor, source=deal)
    for field, label in Deal.MILESTONES[1:]:
        if values.get(field):
            timeline.record(
                customer, Kind.MILESTONE, f"{label}：{values[field]:%Y-%m-%d}（{unit.label}）", actor=actor, source=deal
            )
    return deal


@transaction.atomic
def update_deal(deal: Deal, *, actor: User, **changes: Any) -> Deal:
    """Record milestone dates (and price/move-in kind, the signing deadline); the unit
    status follows the deal. A changed subscription date moves the signing deadline with
    it unless a deadline is given too."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    if deal.status == Deal.Status.CANCELLED:
        raise DomainError("已退房的成交不能再修改")
    fields = [*DEAL_DATE_FIELDS, "price", "move_in_kind", "signing_deadline_on"]
    before = audit.snapshot(deal, fields)
    for key, value in changes.items():
        if key not in fields:
            raise DomainError(f"不能修改字段 {key}")
        if key == "price":
            value = _check_price(value) if value is not None else None
        setattr(deal, key, value)
    moved = deal.subscribed_on != before["subscribed_on"]
    if moved and "signing_deadline_on" not in changes and deal.subscribed_on and not deal.contracted_on:
        deal.signing_deadline_on = default_signing_deadline(deal.subscribed_on)
    _check_dates({name: getattr(deal, name) for name in DEAL_DATE_FIELDS})
    _check_signing_deadline(deal)
    if deal.moved_in_on and not deal.move_in_kind:
        raise DomainError("请选择入住方式（集中/零星）", field="move_in_kind")
    deal.save()
    Unit.objects.filter(pk=deal.unit_id).update(status=unit_status_for(deal))
    changed = audit.diff(deal, before, fields)
    if changed:
        audit.log(audit.AuditLog.Action.UPDATE, actor=actor, target=deal, customer_id=deal.customer_id, changes=changed)
        labels = dict(Deal.MILESTONES) | {"delivery_planned_on": "计划交房", "signing_deadline_on": "签约截止日"}
        for field in changed:
            if field in labels:
                value = getattr(deal, field)
                text = f"{labels[field]}：{value:%Y-%m-%d}" if value else f"{labels[field]}日期已清除"
                timeline.record(
                    deal.customer_id, Kind.MILESTONE, f"{text}（{deal.unit.label}）", actor=actor, source=deal
                )
    return deal


@transaction.atomic
def cancel_deal(deal: Deal, *, actor: User, reason: str, on: date | None = None) -> Deal:
    """退房: the deal is kept as cancelled and the unit is for sale again."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写退房原因", field="reason")
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    if deal.status == Deal.Status.CANCELLED:
        raise DomainError("该成交已退房")
    deal.status = Deal.Status.CANCELLED
    deal.cancelled_on = on or timezone.localdate()
    deal.save(update_fields=["status", "cancelled_on", "updated_at"])
    Unit.objects.filter(pk=deal.unit_id).update(status=Unit.Status.AVAILABLE)
    audit.log(
        audit.AuditLog.Action.UPDATE,
        actor=actor,
        target=deal,
        customer_id=deal.customer_id,
        reason=reason,
        summary="退房",
    )
    timeline.record(deal.customer_id, Kind.DEAL, f"退房 {deal.unit.label}：{reason}", actor=actor, source=deal)
    return deal
