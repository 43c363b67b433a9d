"""Time → jobs: every periodic job, its interval and why. Both runners read this list
through the ``JOB_SCHEDULE`` setting: ``manage.py runjobs`` (embedded default) and Celery
beat (production)."""

from __future__ import annotations

from datetime import timedelta

from crm.core.schedule import ScheduledJob

SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        name="plan_care_messages",
        func="crm.care.jobs.plan_messages",
        every=timedelta(minutes=10),
        why="Turn today's birthdays, milestones and festivals into outbox rows and approval drafts.",
    ),
    ScheduledJob(
        name="send_due_messages",
        func="crm.care.jobs.send_due_messages",
        every=timedelta(seconds=10),
        why="Send due outbox rows inside their windows; each row is claimed before the gateway call.",
    ),
    ScheduledJob(
        name="settle_submitting",
        func="crm.care.jobs.settle_submitting",
        every=timedelta(minutes=2),
        why="Settle rows a crash or a timeout left 'submitting' from the gateway's status query.",
    ),
    ScheduledJob(
        name="expire_overdue_messages",
        func="crm.care.jobs.expire_overdue",
        every=timedelta(minutes=5),
        why="A message that missed its window goes in the next allowed window within its rule's catch-up period, and expires with the reason past it.",
    ),
    ScheduledJob(
        name="run_import_jobs",
        func="crm.customers.jobs.run_import_jobs",
        every=timedelta(seconds=5),
        why="Check and write uploaded import files too large to handle within the request; progress goes to their rows.",
    ),
    ScheduledJob(
        name="purge_stale_uploads",
        func="crm.customers.jobs.purge_stale_uploads",
        every=timedelta(hours=1),
        why="Uploaded import files hold customers' personal information: delete them once expired (PIPL).",
    ),
    ScheduledJob(
        name="purge_old_audit_rows",
        func="crm.core.jobs.purge_old_audit_rows",
        every=timedelta(hours=6),
        why="Audit rows are kept AUDIT_RETENTION_DAYS (never under six months, 等保), then deleted with a record that they were.",
    ),
    ScheduledJob(
        name="escalate_breached_complaints",
        func="crm.complaints.jobs.escalate_breached",
        every=timedelta(minutes=15),
        why="Complaints past their first-response or resolution deadline go to the director (level 1), and level 2 a working day later.",
    ),
    ScheduledJob(
        name="generate_visit_tasks",
        func="crm.visits.jobs.generate_visit_tasks",
        every=timedelta(hours=1),
        why="Turn signing, delivery, move-in and birthday occasions into visit tasks (回访), once per customer, plan and occasion.",
    ),
    ScheduledJob(
        name="poll_complaint_mailbox",
        func="crm.complaints.jobs.poll_complaint_mailbox",
        every=timedelta(minutes=2),
        why="Complaints sent by email: each new mail of the complaint mailbox is registered once (off without COMPLAINT_IMAP_HOST).",
    ),
    ScheduledJob(
        name="purge_expired_complaints",
        func="crm.complaints.jobs.purge_expired_complaints",
        every=timedelta(days=1),
        why="Archived complaints are kept one year (important ones indefinitely); purge the expired ones with a record (PIPL, DESIGN 3.4).",
    ),
    ScheduledJob(
        name="clear_expired_sessions",
        func="crm.core.jobs.clear_expired_sessions",
        every=timedelta(hours=1),
        why="Expired login sessions hold personal data references; remove them (PIPL minimum retention).",
    ),
)
