"""Pure timing rules of the daily inspection (seed 001 日常巡查; no database).

每日10:00前完成日常巡查 · 在中午11:00前对所见问题进行及时处理 · 本日工作结束前发送每日巡查报告.
A finding recorded at or after 11:00 (a late inspection, a second round) is due an hour
after it was recorded, so it is never overdue the moment it is written down.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from crm.lib.dates import at

INSPECTION_DUE = time(10, 0)
FINDING_DUE = time(11, 0)
LATE_FINDING_GRACE = timedelta(hours=1)
# The daily report is written at the end of the working day.
REPORT_AT = time(18, 0)

# Seed 001's areas: 主要巡查范围.
DEFAULT_AREAS = (
    ("综合办公室", "保持办公室整洁，办公文件整理归档，销售资料使用完毕后摆放整齐"),
    ("售楼大堂及前台", ""),
    ("沙盘区及次接待区", ""),
    ("主接待区及辅助接待区", ""),
    ("接电区域", ""),
    ("更衣室", ""),
    ("水吧及咖啡厅", ""),
    ("置业顾问仪容仪表", "工作时间着工装，整洁大方，佩戴胸牌"),
)


def inspection_due(day: date) -> datetime:
    return at(day, INSPECTION_DUE)


def inspection_is_late(day: date, completed_at: datetime | None, now: datetime) -> bool:
    """Not completed by 10:00 of ``day`` (or not started at all) once 10:00 has passed."""
    due = inspection_due(day)
    if completed_at is not None:
        return completed_at > due
    return now > due


def finding_due(found_at: datetime, day: date) -> datetime:
    due = at(day, FINDING_DUE)
    return due if found_at < due else found_at + LATE_FINDING_GRACE


def report_due(day: date) -> datetime:
    return at(day, REPORT_AT)
