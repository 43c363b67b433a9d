"""Retention jobs (PIPL art. 19: kept no longer than the purpose needs).

``anonymise_stale_prospects``: a prospect — a customer with no deal at all — with no
activity for ``PROSPECT_RETENTION_MONTHS`` (24) is anonymised by the same mechanism as an
erasure request (crm.privacy.erasure), ledger row included. Activity is the latest of the
customer row's change, its creation and its newest timeline event (a visit, a message, a
complaint, a note all write one). Customers under a legal hold are counted and left.
Each run writes one ``RetentionRun`` per company it looked at.

``blank_service_notes``: the free text of the service centre's records (duty log, handover,
inspection findings; ``SERVICE_NOTES``) is blanked SERVICE_NOTES_RETENTION_DAYS after it was
written, the rows kept for the counts; ``purge_expired_complaints`` runs the complaint
retention. Both leave a ``RetentionRun`` per company too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest

from crm.accounts.models import Company
from crm.customers.models import Customer, Deal, TimelineEvent
from crm.lib.dates import local_day, local_midnight
from crm.privacy import erasure
from crm.privacy.models import ErasureRecord, LegalHold, RetentionRun

JOB = "anonymise_stale_prospects"


def prospect_cutoff(now: datetime) -> datetime:
    """Prospects with no activity since this moment have expired: local midnight the
    configured number of months before today (the 29th–31st fall back to the month's end)."""
    months = int(getattr(settings, "PROSPECT_RETENTION_MONTHS", 24))
    today = local_day(now)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = today.day
    while True:
        try:
            return local_midnight(today.replace(year=year, month=month + 1, day=day))
        except ValueError:
            day -= 1


def stale_prospects(now: datetime) -> list[int]:
    cutoff = prospect_cutoff(now)
    latest_event = (
        TimelineEvent.objects.filter(customer=OuterRef("pk"))
        .values("customer")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    qs = (
        Customer.objects.filter(merged_into__isnull=True)
        .exclude(Exists(Deal.objects.filter(customer=OuterRef("pk"))))
        .exclude(Exists(ErasureRecord.objects.filter(customer_pk=OuterRef("pk")).exclude(kind="restrict")))
        .annotate(active=Greatest("updated_at", "created_at", Coalesce(latest_event, "created_at")))
        .filter(active__lt=cutoff)
    )
    return list(qs.order_by("id").values_list("pk", flat=True))


def anonymise_stale_prospects(*, now: datetime, limit: int = 500) -> int:
    cutoff = prospect_cutoff(now)
    pks = stale_prospects(now)
    held = set(
        LegalHold.objects.filter(customer_id__in=pks, released_at__isnull=True).values_list("customer_id", flat=True)
    )
    runs = {
        company_id: RetentionRun.objects.create(company_id=company_id, job=JOB, started_at=now, cutoff_at=cutoff)
        for company_id in Company.objects.values_list("pk", flat=True)
    }
    months = int(getattr(settings, "PROSPECT_RETENTION_MONTHS", 24))
    done = 0
    for customer in Customer.objects.filter(pk__in=pks[: limit + len(held)]).order_by("id"):
        run = runs[customer.company_id]
        run.examined += 1
        if customer.pk in held:
            run.held += 1
            continue
        if done >= limit:
            continue
        erasure.anonymise_customer(
            customer,
            actor=None,
            reason=f"潜在客户超过{months}个月无跟进",
            kind=ErasureRecord.Kind.RETENTION,
            now=now,
        )
        run.anonymised += 1
        done += 1
    for run in runs.values():
        run.finished_at = now
        if len(pks) > limit + len(held):
            run.note = f"本次处理上限 {limit} 位，其余下次继续"
        run.save()
    return done


COMPLAINT_JOB = "purge_expired_complaints"


def purge_expired_complaints(*, now: datetime) -> int:
    """Complaint retention (crm.complaints.retention: archived complaints kept one year,
    important ones indefinitely), run through here so that it, too, leaves a RetentionRun
    per company: how many complaints were due and how many were purged (each with its own
    PurgeRecord, as before)."""
    from crm.complaints.jobs import purge_expired_complaints as purge
    from crm.complaints.models import PurgeRecord

    cutoff = now - timedelta(days=int(getattr(settings, "COMPLAINT_RETENTION_DAYS", 365)))
    purged = purge(now=now)
    # The records this run wrote carry its moment as their purge time.
    by_company = dict(
        PurgeRecord.objects.filter(purged_at=now)
        .values("company_id")
        .annotate(n=Count("pk"))
        .values_list("company_id", "n")
    )
    for company_id in Company.objects.values_list("pk", flat=True):
        count = by_company.get(company_id, 0)
        RetentionRun.objects.create(
            company_id=company_id,
            job=COMPLAINT_JOB,
            started_at=now,
            finished_at=now,
            cutoff_at=cutoff,
            examined=count,
            anonymised=count,
            note=f"清除归档满{settings.COMPLAINT_RETENTION_DAYS}天的投诉 {count} 件（不含重要投诉）",
        )
    return purged


# ---------------------------------------------------------------- free text of the service centre

SERVICE_NOTES_JOB = "blank_service_notes"


@dataclass(frozen=True)
class NoteRule:
    """Free text of one model that is blanked once ``written`` is older than the retention:
    ``fields`` and their replacements (``REMOVED`` where a reader should see that there was
    text), ``company`` the path to the company, ``files`` file fields deleted with the text,
    ``customer`` the path to a linked customer (rows of a customer under a legal hold are
    left as they are)."""

    label: str
    title: str
    written: str
    company: str
    fields: Mapping[str, str]
    files: tuple[str, ...] = ()
    customer: str = ""


# The rows themselves stay (who was on duty, when, what kind of entry, which department):
# the counts of the reports and the KPIs keep working; only what was written goes.
SERVICE_NOTES: tuple[NoteRule, ...] = (
    NoteRule(
        "service.dutylogentry",
        "值班记录",
        written="at",
        company="shift__company",
        fields={"content": erasure.REMOVED, "caller_name": ""},
        customer="customer",
    ),
    NoteRule(
        "service.handover",
        "交接班",
        written="created_at",
        company="company",
        fields={"log_summary": erasure.REMOVED, "open_matters": "", "major_repair_note": ""},
    ),
    NoteRule(
        "service.handoveritem",
        "交接物品说明",
        written="handover__created_at",
        company="handover__company",
        fields={"explanation": ""},
    ),
    NoteRule("service.handoverevent", "交接班过程", written="at", company="handover__company", fields={"note": ""}),
    NoteRule(
        "service.finding",
        "巡查问题",
        written="found_at",
        company="inspection__company",
        fields={"description": erasure.REMOVED, "handled_note": ""},
        files=("photo",),
    ),
)


def service_notes_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=int(getattr(settings, "SERVICE_NOTES_RETENTION_DAYS", 365)))


def _with_text(rule: NoteRule) -> Q:
    """Rows with something left to blank: a field neither empty nor already replaced, or a
    file still stored."""
    has = Q(pk__in=[])
    for name, value in rule.fields.items():
        has |= ~Q(**{name: ""}) & ~Q(**{name: value})
    for name in rule.files:
        has |= ~Q(**{name: ""})
    return has


def blank_service_notes(*, now: datetime) -> int:
    """Retention of the service centre's free text (duty log, handover, inspection
    findings: SERVICE_NOTES_RETENTION_DAYS, default 365 days; pi_registry names it):

    1. every row of ``SERVICE_NOTES`` written before the cutoff that still has text gets
       its text fields replaced and its files deleted (after the commit);
    2. a duty-log entry about a customer under a legal hold is counted and left;
    3. one ``RetentionRun`` per company: rows due, rows blanked, rows held, and per kind.
    Returns the number of rows blanked; a second run the same day blanks nothing more.
    """
    cutoff = service_notes_cutoff(now)
    held_customers = LegalHold.objects.filter(released_at__isnull=True).values("customer_id")
    per_company: dict[int, dict[str, int]] = {}
    held: dict[int, int] = {}
    files: list[tuple[Any, str]] = []
    total = 0
    with transaction.atomic():
        for rule in SERVICE_NOTES:
            app_label, _, model_name = rule.label.partition(".")
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            due = model._default_manager.filter(**{f"{rule.written}__lt": cutoff}).filter(_with_text(rule))
            if rule.customer:
                kept = due.filter(**{f"{rule.customer}__in": held_customers})
                for company_id, n in kept.values_list(f"{rule.company}_id").annotate(n=Count("pk")).order_by():
                    held[company_id] = held.get(company_id, 0) + n
                due = due.exclude(**{f"{rule.customer}__in": held_customers})
            for name in rule.files:
                for row in due.exclude(**{name: ""}).only("pk", name):
                    file = getattr(row, name)
                    files.append((file.storage, file.name))
            counts = dict(due.values_list(f"{rule.company}_id").annotate(n=Count("pk")).order_by())
            blanked = due.update(**dict(rule.fields), **dict.fromkeys(rule.files, ""))
            total += blanked
            for company_id, n in counts.items():
                per_company.setdefault(company_id, {})[rule.title] = n
        for company_id, n in _blank_report_findings(cutoff).items():
            per_company.setdefault(company_id, {})["巡查报告"] = n
            total += n
        for company_id in Company.objects.values_list("pk", flat=True):
            kinds = per_company.get(company_id, {})
            done = sum(kinds.values())
            RetentionRun.objects.create(
                company_id=company_id,
                job=SERVICE_NOTES_JOB,
                started_at=now,
                finished_at=now,
                cutoff_at=cutoff,
                examined=done + held.get(company_id, 0),
                anonymised=done,
                held=held.get(company_id, 0),
                note=("清除文字：" + "、".join(f"{k} {v} 条" for k, v in kinds.items()))[:300]
                if kinds
                else "无到期内容",
            )
        transaction.on_commit(erasure._deleter(files))
    return total


def _blank_report_findings(cutoff: datetime) -> dict[int, int]:
    """The daily inspection reports copy each finding's text into their summary: the same
    retention applies to those copies (the rest of the report stays)."""
    try:
        report_model = apps.get_model("service", "InspectionReport")
    except LookupError:
        return {}
    changed: dict[int, int] = {}
    for report in report_model._default_manager.filter(created_at__lt=cutoff).only("pk", "company_id", "summary"):
        findings = report.summary.get("findings") or []
        if not any(f.get("description") not in ("", erasure.REMOVED) or f.get("handled_note") for f in findings):
            continue
        for f in findings:
            f["description"], f["handled_note"] = erasure.REMOVED, ""
        report_model._default_manager.filter(pk=report.pk).update(summary=report.summary)
        changed[report.company_id] = changed.get(report.company_id, 0) + 1
    return changed
