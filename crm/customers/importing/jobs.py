"""An upload's life as an ImportJob row: checked, reviewed, imported, deleted.

1. ``start_import`` keeps the upload (crm.customers.importing.uploads) and creates its
   row, waiting to be checked (等待校验). The review belongs to the uploader, not to a
   browser session: any of their logins finds it until it expires.
2. ``process_job`` checks it (校验中 → 待确认, or 无法读取 with the reason) or imports it
   (导入中 → 已导入), claiming the row by compare-and-set, so that two runners never do
   the same work. ``run_import_jobs`` (config/schedule.py) calls it for the waiting rows;
   the pages call it directly for small files, which are done within the request.
3. While checking, the progress (step, rows done, rows in all) is written to the row, at
   most twice a second, each write committed at once. Importing writes every row in one
   transaction: its progress is only "写入中" until the commit, because rows written
   before it are invisible to anyone else, and on SQLite the row could not even be
   updated meanwhile (one writer at a time). Decision 0016.
4. ``change_options`` (another encoding, whole-file values, column choices) sends a
   reviewed file back to be checked; ``confirm_import`` queues the import; ``cancel_import``
   deletes the files and the row. The allowed moves are ImportJob.ALLOWED_MOVES.
5. ``purge_stale_uploads`` deletes expired uploads, files and rows, and files left without
   a row; ``recover_stale_jobs`` puts back work whose runner was lost (a restart).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from crm.accounts.access import company_of
from crm.core.audit import AuditLog
from crm.core.errors import DomainError
from crm.customers.importing.columns import DEALS, KINDS
from crm.customers.importing.reading import ImportFileError
from crm.customers.importing.uploads import (
    discard_upload,
    load_report,
    load_validation,
    save_report,
    store_upload,
    stored_tokens,
    upload_path,
)
from crm.customers.importing.validating import READING, Options, validate_file
from crm.customers.importing.writing import ImportBlocked, import_file
from crm.customers.models import ImportColumnChoice, ImportJob

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from crm.accounts.models import User

log = logging.getLogger("crm.jobs")
Status = ImportJob.Status

# A job checking or importing that has not written its row for this long lost its runner
# (a restart): longer than any import, which writes the row only before and after it.
STALE_AFTER = timedelta(minutes=30)
# Seconds between two progress writes.
PROGRESS_SECONDS = 0.5
WRITING = "写入数据库"


def may_import(user: User, kind: str) -> bool:
    """The permission to import this kind of file (deals need the right to register deals)."""
    if not user.is_active or not user.has_perm("customers.import_customers"):
        return False
    return kind != DEALS or user.has_perm("customers.add_deal")


def keep_until(now: datetime) -> datetime:
    return now + timedelta(hours=settings.IMPORT_KEEP_HOURS)


# ---------------------------------------------------------------- options and column choices


def saved_choices(user: User, kind: str) -> dict[str, str]:
    """The user's column choices for this kind of file: {normalised header: column key or ""}."""
    return dict(ImportColumnChoice.objects.filter(user=user, kind=kind).values_list("header", "key"))


def remember_choices(user: User, kind: str, choices: Mapping[str, str]) -> None:
    """Remember the user's answers to "which column is this header?" for their next files."""
    with transaction.atomic():
        for header, key in choices.items():
            ImportColumnChoice.objects.update_or_create(
                user=user, kind=kind, header=header[:100], defaults={"key": key}
            )


def options_of(job: ImportJob) -> Options:
    """The job's options, with the owner's remembered column choices."""
    stored = job.options or {}
    return Options(
        encoding=stored.get("encoding", ""),
        values=dict(stored.get("values", {})),
        choices={**saved_choices(job.owner, job.kind), **stored.get("choices", {})},
    )


def _stored(options: Options) -> dict[str, Any]:
    return {"encoding": options.encoding, "values": dict(options.values), "choices": dict(options.choices)}


# ---------------------------------------------------------------- the moves


def _move(job: ImportJob, to: str, *, now: datetime, **fields: Any) -> bool:
    """Move ``job`` from the status it was loaded with to ``to``, writing ``fields``.

    Compare-and-set (``UPDATE … WHERE status = <loaded>``): when two runners or two clicks
    race for the same row, exactly one moves it; the other gets False and does nothing.
    """
    if to not in ImportJob.ALLOWED_MOVES[job.status]:
        raise ValueError(f"an import job does not move from {job.status} to {to}")
    moved = ImportJob.objects.filter(pk=job.pk, status=job.status).update(status=to, updated_at=now, **fields)
    if moved:
        job.status = to
        job.updated_at = now
        for name, value in fields.items():
            setattr(job, name, value)
    return bool(moved)


def start_import(upload: UploadedFile[Any], *, kind: str, actor: User, options: Options, now: datetime) -> ImportJob:
    """Keep the uploaded file (checked: name, size, what it is) and create its job, waiting
    to be checked. ImportFileError when the file is refused; DomainError without the right."""
    if not may_import(actor, kind):
        raise DomainError("您没有导入成交记录的权限" if kind == DEALS else "您没有导入客户的权限")
    if not company_of(actor):
        raise ImportFileError("您的账号未关联公司，不能导入")
    token = store_upload(upload)
    return ImportJob.objects.create(
        company_id=company_of(actor),
        owner=actor,
        kind=kind,
        filename=(upload.name or "")[-255:],
        token=token,
        size=upload_path(token).stat().st_size,
        options=_stored(options),
        status=Status.CHECK_QUEUED,
        created_at=now,
        updated_at=now,
        expires_at=keep_until(now),
    )


def change_options(job: ImportJob, *, options: Options, now: datetime) -> None:
    """Check the file again with other options (encoding, whole-file values, columns)."""
    if job.status not in (Status.REVIEW, Status.FAILED):
        raise DomainError("该文件正在处理中，请稍候再修改")
    if not _move(job, Status.CHECK_QUEUED, now=now, options=_stored(options), step="", done=0, total=0, message=""):
        raise DomainError("该文件正在处理中，请稍候再修改")


def confirm_import(job: ImportJob, *, only_valid: bool, now: datetime, ip: str | None = None) -> None:
    """Queue the import of a reviewed file: all its rows, or with ``only_valid`` the valid ones.

    Refused (DomainError) while the file lacks a column or a whole-file value, when it has
    bad rows and ``only_valid`` is not set, and when it is already being imported.
    """
    if job.status in (Status.QUEUED, Status.IMPORTING):
        raise DomainError("该文件正在导入，请稍候，不要重复提交")
    report = load_report(job.token) if job.status == Status.REVIEW else None
    if report is None:
        raise DomainError("导入文件已失效（可能已导入或超过保留时间），请重新上传")
    if report.blocked:
        raise DomainError(report.blocked_message())
    if report.errors and not only_valid:
        raise DomainError(f"文件中有 {report.invalid} 行存在问题，未导入任何数据")
    if not report.valid:
        raise DomainError("没有可导入的有效行")
    if not _move(job, Status.QUEUED, now=now, only_valid=only_valid, message="", step="", done=0, total=0, ip=ip):
        raise DomainError("该文件正在导入，请稍候，不要重复提交")


def cancel_import(job: ImportJob) -> None:
    """Delete the upload, its report and its row (not while it is being imported)."""
    if job.status in (Status.QUEUED, Status.IMPORTING):
        raise DomainError("该文件正在导入，不能取消")
    discard_upload(job.token)
    job.delete()


# ---------------------------------------------------------------- the work


class _Progress:
    """Writes a job's progress to its row, at most every PROGRESS_SECONDS."""

    def __init__(self, job: ImportJob, now: datetime) -> None:
        self.job, self.start, self.started = job, now, time.monotonic()
        self.last = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)

    def __call__(self, step: str, done: int, total: int) -> None:
        if time.monotonic() - self.last < PROGRESS_SECONDS:
            return
        self.last = time.monotonic()
        ImportJob.objects.filter(pk=self.job.pk, status=self.job.status).update(
            step=step, done=done, total=total, updated_at=self.now()
        )


def process_job(job_id: int, *, now: datetime) -> bool:
    """Check or import the job if it waits for it; False when there was nothing to do
    (another runner claimed it first, or it waits for the user)."""
    job = ImportJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None:
        return False
    if job.status == Status.CHECK_QUEUED:
        if not _move(job, Status.CHECKING, now=now, step=READING, done=0, total=0):
            return False
        _check(job, now=now)
        return True
    if job.status == Status.QUEUED:
        if not _move(job, Status.IMPORTING, now=now, step=WRITING, done=0, total=0):
            return False
        _import(job, now=now)
        return True
    return False


def _check(job: ImportJob, *, now: datetime) -> None:
    progress = _Progress(job, now)
    if not may_import(job.owner, job.kind):
        _move(job, Status.FAILED, now=progress.now(), step="", message="您已没有导入此类数据的权限")
        return
    try:
        validation = validate_file(
            upload_path(job.token),
            job.kind,
            user=job.owner,
            filename=job.filename,
            options=options_of(job),
            progress=progress,
        )
    except ImportFileError as exc:
        _move(job, Status.FAILED, now=progress.now(), step="", message=exc.message)
        return
    except Exception:  # one broken file must not stop the runner's other jobs
        log.exception("checking import job %s failed", job.pk)
        _move(job, Status.FAILED, now=progress.now(), step="", message="读取文件时出错，请检查文件后重新上传")
        return
    report = validation.report
    save_report(job.token, report, validation.rows)
    moved = _move(
        job,
        Status.REVIEW,
        now=progress.now(),
        step="",
        done=report.total,
        total=report.total,
        rows=report.total,
        invalid=report.invalid,
        message="",
    )
    if not moved and not ImportJob.objects.filter(pk=job.pk).exists():
        discard_upload(job.token)  # cancelled meanwhile: the report just written goes too


def _import(job: ImportJob, *, now: datetime) -> None:
    progress = _Progress(job, now)
    try:
        result = import_file(
            upload_path(job.token),
            job.kind,
            user=job.owner,
            filename=job.filename,
            batch=job.token,
            only_valid=job.only_valid,
            ip=job.ip,
            prevalidated=load_validation(job.token),
            options=options_of(job),
        )
    except ImportBlocked as exc:
        save_report(job.token, exc.report, exc.valid_rows)
        message = f"{exc.message}：文件中的数据与现有数据有冲突，请查看下面的问题清单"
        _move(job, Status.REVIEW, now=progress.now(), step="", message=message, invalid=exc.report.invalid)
        return
    except DomainError as exc:
        _move(job, Status.REVIEW, now=progress.now(), step="", message=exc.message)
        return
    except Exception:
        log.exception("import job %s failed", job.pk)
        message = "导入时出错，未写入任何数据，请稍后重试"
        _move(job, Status.REVIEW, now=progress.now(), step="", message=message)
        return
    done = {
        "imported": result.imported,
        "skipped": result.skipped,
        "first_number": result.first_number,
        "last_number": result.last_number,
    }
    _move(job, Status.DONE, now=progress.now(), step="", result=done, message=result_message(job.kind, done))
    discard_upload(job.token)


def result_message(kind: str, result: Mapping[str, Any]) -> str:
    """ "已导入客户资料 36 条（客户编号 … – …），有问题的 4 行未导入"."""
    text = f"已导入{KINDS[kind]} {result['imported']} 条"
    if result.get("first_number"):
        text += f"（客户编号 {result['first_number']} – {result['last_number']}）"
    if result.get("skipped"):
        text += f"，有问题的 {result['skipped']} 行未导入"
    return text


def recover_stale_jobs(*, now: datetime) -> int:
    """Put back the work of runners that were lost: a check starts again; an import that
    committed (its audit row exists: it is written in the same transaction) is done, one
    that did not goes back to the review, having written nothing."""
    cutoff = now - STALE_AFTER
    count = 0
    for job in ImportJob.objects.filter(status=Status.CHECKING, updated_at__lt=cutoff):
        count += _move(job, Status.CHECK_QUEUED, now=now, step="", done=0, total=0)
    for job in ImportJob.objects.filter(status=Status.IMPORTING, updated_at__lt=cutoff):
        audit = AuditLog.objects.filter(action=AuditLog.Action.IMPORT, target_id=job.token).first()
        if audit is not None:
            changes = audit.changes
            numbers = changes.get("numbers") or ["", ""]
            done = {
                "imported": changes.get("imported", 0),
                "skipped": changes.get("skipped", 0),
                "first_number": numbers[0],
                "last_number": numbers[-1],
            }
            if _move(job, Status.DONE, now=now, step="", result=done, message=result_message(job.kind, done)):
                discard_upload(job.token)
                count += 1
        else:
            message = "导入被中断（服务重启），未写入任何数据，请重新确认导入"
            count += _move(job, Status.REVIEW, now=now, step="", message=message)
    return count


def run_import_jobs(*, now: datetime, limit: int = 10) -> int:
    """Check and import the files waiting for it, oldest first; returns how many were done.

    A job that takes long keeps the runner as long; the next run takes the next ones.
    """
    recover_stale_jobs(now=now)
    started = time.monotonic()
    count = 0
    waiting = (
        ImportJob.objects.filter(status__in=(Status.CHECK_QUEUED, Status.QUEUED))
        .order_by("updated_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for job_id in list(waiting):
        count += process_job(job_id, now=now + timedelta(seconds=time.monotonic() - started))
    return count


def purge_stale_uploads(*, now: datetime) -> int:
    """Delete expired uploads (files and rows) and upload files that lost their row;
    returns how many uploads went. They hold customers' personal information (PIPL)."""
    expired = ImportJob.objects.filter(expires_at__lt=now).exclude(status__in=ImportJob.WORKING)
    count = 0
    for pk, token in list(expired.values_list("id", "token")):
        discard_upload(token)
        count += ImportJob.objects.filter(pk=pk).exclude(status__in=ImportJob.WORKING).delete()[0]
    known = set(ImportJob.objects.values_list("token", flat=True))
    cutoff = (now - timedelta(hours=settings.IMPORT_KEEP_HOURS)).timestamp()
    for token, modified in stored_tokens().items():
        if token not in known and modified < cutoff:
            discard_upload(token)
            count += 1
    return count
