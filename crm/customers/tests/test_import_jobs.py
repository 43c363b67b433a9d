"""Large imports as jobs: checked and written by the runner, progress on the ImportJob row,
a reload finds it again, nothing runs twice, and uploads are deleted on schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from config.schedule import SCHEDULE
from crm.core.errors import DomainError
from crm.core.models import AuditLog
from crm.customers import importing, jobs
from crm.customers.importing import jobs as import_jobs
from crm.customers.importing import validating
from crm.customers.models import Customer, ImportJob
from crm.customers.tests.excel import build_csv, customer_row

IMPORT_URL = reverse("customers:import")
NOW = datetime(2026, 3, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
Status = ImportJob.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def in_background(settings):
    """Every file goes to the job runner, as a large one does."""
    settings.IMPORT_INLINE_BYTES = 0
    settings.IMPORT_INLINE_ROWS = 0


def rows(count, **values):
    return [customer_row(姓名=f"客户{i}", 手机号=f"1390000{i:04d}", **values) for i in range(1, count + 1)]


def upload(client, content, *, name="名单.csv"):
    return client.post(IMPORT_URL, {"kind": "customers", "file": SimpleUploadedFile(name, content)})


def start(user, content, *, now=NOW, name="名单.csv"):
    return importing.start_import(
        SimpleUploadedFile(name, content), kind="customers", actor=user, options=importing.Options(), now=now
    )


def test_a_large_file_is_checked_and_imported_by_the_runner_while_the_page_shows_progress(
    login, consultant, project, in_background
):
    client = login(consultant)
    response = upload(client, build_csv(rows(3), encoding="gb18030"))
    page = client.get(response.url).content.decode()
    assert 'id="import-progress"' in page
    assert "等待校验" in page
    assert client.get(reverse("customers:import_progress", args=[ImportJob.objects.get().pk])).status_code == 200

    assert jobs.run_import_jobs(now=NOW) == 1
    page = client.get(response.url).content.decode()
    assert "确认导入 3 条" in page

    client.post(response.url, {"action": "import"})
    assert Customer.objects.count() == 0
    assert "等待导入" in client.get(response.url).content.decode()
    assert jobs.run_import_jobs(now=NOW) == 1
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["客户1", "客户2", "客户3"]

    page = client.get(response.url).content.decode()  # a reload finds the result
    assert "已导入客户资料 3 条（客户编号 KH00000001 – KH00000003）" in page
    progress = client.get(reverse("customers:import_progress", args=[ImportJob.objects.get().pk]))
    assert progress["HX-Refresh"] == "true"


def test_progress_is_written_to_the_row_while_the_file_is_checked(consultant, project, monkeypatch):
    monkeypatch.setattr(validating, "PROGRESS_ROWS", 2)
    monkeypatch.setattr(import_jobs, "PROGRESS_SECONDS", 0)
    seen = []
    write = import_jobs._Progress.__call__

    def watch(self, step, done, total):
        write(self, step, done, total)
        job = ImportJob.objects.get(pk=self.job.pk)
        seen.append((job.status, job.step, job.done, job.total))

    monkeypatch.setattr(import_jobs._Progress, "__call__", watch)
    job = start(consultant, build_csv(rows(5), encoding="utf-8"))
    importing.process_job(job.pk, now=NOW)
    assert seen == [
        ("checking", "逐行校验", 2, 5),
        ("checking", "逐行校验", 4, 5),
        ("checking", "核对已有数据", 5, 5),
    ]
    job.refresh_from_db()
    assert (job.status, job.rows, job.invalid, job.percent) == (Status.REVIEW, 5, 0, 100)


def test_a_job_is_done_once_whoever_runs_it(consultant, project):
    job = start(consultant, build_csv(rows(2), encoding="utf-8"))
    assert importing.process_job(job.pk, now=NOW)
    assert not importing.process_job(job.pk, now=NOW)  # waits for the user now
    job.refresh_from_db()
    importing.confirm_import(job, only_valid=False, now=NOW)
    stale = ImportJob.objects.get(pk=job.pk)
    assert importing.process_job(job.pk, now=NOW)
    # A second runner that loaded the row before the first claimed it moves nothing.
    assert not import_jobs._move(stale, Status.IMPORTING, now=NOW)
    assert Customer.objects.count() == 2
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT).count() == 1


def test_a_confirmed_file_is_not_queued_twice(consultant, project):
    job = start(consultant, build_csv(rows(2), encoding="utf-8"))
    importing.process_job(job.pk, now=NOW)
    job.refresh_from_db()
    importing.confirm_import(job, only_valid=False, now=NOW)
    with pytest.raises(DomainError) as info:
        importing.confirm_import(job, only_valid=False, now=NOW)
    assert info.value.message == "该文件正在导入，请稍候，不要重复提交"


def test_the_moves_follow_the_table(consultant, project):
    job = start(consultant, build_csv(rows(1), encoding="utf-8"))
    with pytest.raises(ValueError, match="does not move"):
        import_jobs._move(job, Status.DONE, now=NOW)
    for status, targets in ImportJob.ALLOWED_MOVES.items():
        assert status not in targets
        assert targets <= set(Status.values)


def test_a_file_that_cannot_be_read_by_the_runner_says_why(consultant, project, in_background):
    job = start(consultant, build_csv(rows(2), encoding="utf-8") + b"\xff\xfe\xfd")
    importing.process_job(job.pk, now=NOW)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "从第 4 行起却有无法按 UTF-8 读取的内容" in job.message


def test_a_lost_check_starts_again_and_a_lost_import_is_settled_by_its_audit_row(consultant, project):
    checking = start(consultant, build_csv(rows(1), encoding="utf-8"))
    ImportJob.objects.filter(pk=checking.pk).update(status=Status.CHECKING, updated_at=NOW - timedelta(hours=1))

    committed = start(consultant, build_csv(rows(2), encoding="utf-8"), name="b.csv")
    importing.process_job(committed.pk, now=NOW)
    committed.refresh_from_db()
    importing.confirm_import(committed, only_valid=False, now=NOW)
    importing.process_job(committed.pk, now=NOW)  # written, then the runner "died" before saying so
    ImportJob.objects.filter(pk=committed.pk).update(status=Status.IMPORTING, updated_at=NOW - timedelta(hours=1))

    lost = start(consultant, build_csv([customer_row(手机号="13900000099")], encoding="utf-8"), name="c.csv")
    importing.process_job(lost.pk, now=NOW)
    ImportJob.objects.filter(pk=lost.pk).update(status=Status.IMPORTING, updated_at=NOW - timedelta(hours=1))

    assert import_jobs.recover_stale_jobs(now=NOW) == 3
    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses == {checking.pk: Status.CHECK_QUEUED, committed.pk: Status.DONE, lost.pk: Status.REVIEW}
    assert ImportJob.objects.get(pk=committed.pk).result["imported"] == 2
    assert "导入被中断" in ImportJob.objects.get(pk=lost.pk).message
    assert Customer.objects.count() == 2


def test_a_job_still_within_its_time_is_left_alone(consultant, project):
    job = start(consultant, build_csv(rows(1), encoding="utf-8"))
    ImportJob.objects.filter(pk=job.pk).update(status=Status.CHECKING, updated_at=NOW - timedelta(minutes=5))
    assert import_jobs.recover_stale_jobs(now=NOW) == 0


def test_expired_uploads_are_deleted_with_their_files_on_schedule(consultant, project, media):
    old = start(consultant, build_csv(rows(1), encoding="utf-8"), now=NOW - timedelta(hours=25))
    importing.process_job(old.pk, now=NOW - timedelta(hours=25))
    working = start(consultant, build_csv(rows(1), encoding="utf-8"), now=NOW - timedelta(hours=25), name="b.csv")
    ImportJob.objects.filter(pk=working.pk).update(status=Status.CHECKING)
    fresh = start(consultant, build_csv(rows(1), encoding="utf-8"), now=NOW - timedelta(hours=1), name="c.csv")

    assert jobs.purge_stale_uploads(now=NOW) == 1
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {working.pk, fresh.pk}
    folder = media / "imports"
    assert sorted(p.stem for p in folder.iterdir()) == sorted([working.token, fresh.token])


def test_both_jobs_are_on_the_schedule():
    scheduled = {job.name: job.func for job in SCHEDULE}
    assert scheduled["run_import_jobs"] == "crm.customers.jobs.run_import_jobs"
    assert scheduled["purge_stale_uploads"] == "crm.customers.jobs.purge_stale_uploads"


def test_an_expired_review_cannot_be_resumed(login, consultant, project):
    client = login(consultant)
    response = upload(client, build_csv(rows(1), encoding="utf-8"))
    ImportJob.objects.update(expires_at=NOW - timedelta(days=400))
    page = client.get(response.url, follow=True).content.decode()
    assert "导入文件已失效" in page


def test_the_upload_page_lists_the_users_unfinished_uploads_only(login, client, consultant, teammate, project):
    login(consultant)
    upload(client, build_csv(rows(1), encoding="utf-8"), name="我的名单.csv")
    assert "我的名单.csv" in client.get(IMPORT_URL).content.decode()
    client.force_login(teammate)
    assert "我的名单.csv" not in client.get(IMPORT_URL).content.decode()
