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
        name="purge_read_notifications",
        func="crm.core.jobs.purge_read_notifications",
        every=timedelta(hours=6),
        why="Read staff notifications older than NOTIFICATION_RETENTION_DAYS are deleted; unread ones stay.",
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
        # Through crm.privacy so the run is recorded like the other retention jobs.
        func="crm.privacy.jobs.purge_expired_complaints",
        every=timedelta(days=1),
        why="Archived complaints are kept one year (important ones indefinitely); purge the expired ones with a record (PIPL, DESIGN 3.4).",
    ),
    ScheduledJob(
        name="remind_visit_issues",
        func="crm.visits.jobs.remind_visit_issues",
        every=timedelta(hours=1),
        why="Issues raised in visits: remind the department from the working day before the promised date, and the visitor to tell the customer once resolved; one reminder per issue and day.",
    ),
    ScheduledJob(
        name="make_repair_callbacks",
        func="crm.visits.jobs.make_repair_callbacks",
        every=timedelta(minutes=15),
        why="Every completed repair gets a callback visit due within one working day (seed 004: 100%); one per repair.",
    ),
    ScheduledJob(
        name="draw_recheck_samples",
        func="crm.visits.jobs.draw_recheck_samples",
        every=timedelta(hours=6),
        why="In a new quarter, draw the director's reproducible 20% re-check of the previous quarter's repair callbacks; once per company and quarter.",
    ),
    ScheduledJob(
        name="escalate_overdue_visits",
        func="crm.visits.jobs.escalate_overdue_visits",
        every=timedelta(minutes=30),
        why="Visit tasks past their due date go to the team leader (level 1), and to the director one working day later (level 2); each level once.",
    ),
    ScheduledJob(
        name="plan_event_notices",
        func="crm.events.jobs.plan_event_notices",
        every=timedelta(minutes=10),
        why="Customer events: on the notice day (seed 001: 3 days before the event) queue the notice to every invitee who did not decline, once per invitee; it goes in the care rule's 10:00–10:30 window.",
    ),
    ScheduledJob(
        name="create_gift_tasks",
        func="crm.service.jobs.create_gift_tasks",
        every=timedelta(minutes=30),
        why="Subscription and contract milestones of the last 30 days become a 'gift to hand over' task for the consultant (one per deal and occasion).",
    ),
    ScheduledJob(
        name="prepare_birthday_lists",
        func="crm.service.jobs.prepare_birthday_lists",
        every=timedelta(hours=6),
        why="Each consultant's list of this month's owner and family birthdays (with consent; opted-out excluded), made the first time it runs in a month.",
    ),
    ScheduledJob(
        name="write_inspection_reports",
        func="crm.service.jobs.write_inspection_reports",
        every=timedelta(minutes=30),
        why="From 18:00, each project's daily inspection report (results, findings, the 10:00 and 11:00 flags), once per project and day.",
    ),
    ScheduledJob(
        name="generate_daily_inspection_packs",
        func="crm.reports.jobs.generate_daily_inspection_packs",
        every=timedelta(minutes=30),
        why="From REPORTS_CLOSE_HOUR, each project's daily inspection report pack (a snapshot of the 18:00 report), once per project and day.",
    ),
    ScheduledJob(
        name="generate_weekly_packs",
        func="crm.reports.jobs.generate_weekly_packs",
        every=timedelta(minutes=30),
        why="周报 (seed 001, Monday–Sunday) at the week's close (REPORTS_WEEK_CLOSE_WEEKDAY, default Sunday) from REPORTS_CLOSE_HOUR; once per scope and week.",
    ),
    ScheduledJob(
        name="count_kpi_months",
        func="crm.kpis.counting.count_months",
        every=timedelta(hours=1),
        why="Count each company's closed months (KPI_COUNTED_MONTHS) per project for the KPI dashboard, which reads them instead of a year of rows (decision 0030); the current month stays live.",
    ),
    ScheduledJob(
        name="generate_monthly_packs",
        func="crm.reports.jobs.generate_monthly_packs",
        every=timedelta(minutes=30),
        why="月报, 客户投诉分析报告 and 月度回访统计 on the month's last working day (调休 included) from REPORTS_CLOSE_HOUR; once per scope and month.",
    ),
    ScheduledJob(
        name="anonymise_stale_prospects",
        func="crm.privacy.jobs.anonymise_stale_prospects",
        every=timedelta(days=1),
        why="Prospects (no deal) with no activity for PROSPECT_RETENTION_MONTHS are anonymised like an erasure, with a ledger row and a RetentionRun (PIPL art. 19).",
    ),
    ScheduledJob(
        name="remind_portrait_quota",
        func="crm.portraits.jobs.remind_portrait_quota",
        every=timedelta(hours=6),
        why="From two weeks before a quarter ends, remind each consultant short of the three customer portraits (客户描摹) once that quarter.",
    ),
    ScheduledJob(
        name="blank_service_notes",
        func="crm.privacy.jobs.blank_service_notes",
        every=timedelta(days=1),
        why="The free text of duty logs, handovers and inspection findings (callers, customers, units) is blanked after SERVICE_NOTES_RETENTION_DAYS, the rows kept for the counts, with a RetentionRun (PIPL art. 19).",
    ),
    ScheduledJob(
        name="clear_expired_sessions",
        func="crm.core.jobs.clear_expired_sessions",
        every=timedelta(hours=1),
        why="Expired login sessions hold personal data references; remove them (PIPL minimum retention).",
    ),
)
