"""Health check and the work calendar (系统设置 › 工作日历)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from crm.core import services
from crm.core.calendar import day_cell, month_grids, year_days
from crm.core.errors import DomainError
from crm.core.forms import CalendarDayForm, NoticeApplyForm, NoticeForm, apply_domain_error
from crm.core.models import CalendarDay, CalendarYear
from crm.core.search import tokenised_query
from crm.lib.holiday_notice import WEEKDAYS, Notice, parse_notice
from crm.lib.workcalendar import WorkCalendar, library_knows


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with {"status": "ok", "database": "ok"} when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means unhealthy
        return JsonResponse({"status": "error", "database": "error", "detail": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "vendor": connection.vendor})


@require_POST
def search_redirect(request: HttpRequest) -> HttpResponse:
    """A list's filter form, posted: back to the list (``next``, a path of this site) with
    any full mobile or ID number kept out of the URL (crm.core.search)."""
    target = request.POST.get("next", "")
    if (
        not target.startswith("/")
        or target.startswith("//")
        or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return HttpResponseBadRequest("无效的跳转地址")
    query = tokenised_query(request.session, request.POST)
    return redirect(target.split("?", 1)[0] + (f"?{query}" if query else ""))


# ---------------------------------------------------------------- 工作日历

# Administrators enter next year's calendar; the same permission the admin's "add year" needs.
CALENDAR_PERMISSION = "core.add_calendaryear"
_YEARS = range(2004, 2101)  # chinese-calendar's first year to a far future


def _checked_year(year: int) -> None:
    if year not in _YEARS:
        raise Http404("没有这一年的工作日历")


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


@permission_required(CALENDAR_PERMISSION, raise_exception=True)
@require_GET
def calendar_index(request: HttpRequest) -> HttpResponse:
    """This year's calendar; from November, when next year's is due, next year's."""
    today = timezone.localdate()
    return redirect("core:calendar_year", year=today.year + (today.month >= 11))


def _year_context(year: int, **extra: Any) -> dict[str, Any]:
    cells = year_days(year)
    entry = CalendarYear.objects.filter(year=year).select_related("entered_by").first()
    return {
        "year": year,
        "months": month_grids(cells),
        "weekdays": [name[-1] for name in WEEKDAYS],
        "entry": entry,
        "in_library": entry is None and library_knows(year),
        "holiday_days": sum(1 for c in cells if c.kind == "holiday"),
        "make_up_days": sum(1 for c in cells if c.kind == "makeup"),
        "previous_year": year - 1 if year - 1 in _YEARS else None,
        "next_year": year + 1 if year + 1 in _YEARS else None,
        **extra,
    }


@permission_required(CALENDAR_PERMISSION, raise_exception=True)
@require_GET
def calendar_year(request: HttpRequest, year: int) -> HttpResponse:
    """The year as twelve month grids, and the box to paste the State Council's notice."""
    _checked_year(year)
    return render(request, "core/calendar/year.html", _year_context(year, form=NoticeForm()))


@permission_required(CALENDAR_PERMISSION, raise_exception=True)
@require_POST
def calendar_toggle(request: HttpRequest, year: int) -> HttpResponse:
    """A click on a day: working day ⇄ rest day. HTMX gets the day's cell back; a plain
    form post (no JavaScript) returns to the month."""
    _checked_year(year)
    form = CalendarDayForm(request.POST)
    if not form.is_valid() or form.cleaned_data["day"].year != year:
        return HttpResponseBadRequest("日期无效")
    day: date = form.cleaned_data["day"]
    working = not day_cell(day).is_working_day
    services.set_day(day, working=working, actor=request.user)
    if getattr(request, "htmx", False):
        return render(request, "core/calendar/_day.html", {"cell": day_cell(day)})
    messages.success(request, f"{_md(day)}已改为{'上班' if working else '休息'}")
    return redirect(reverse("core:calendar_year", args=[year]) + f"#m{day.month}")


def _review_context(year: int, notice: Notice, form: NoticeForm) -> dict[str, Any]:
    """What saving would do, for the administrator to check against the notice."""
    named = notice.overrides()
    existing = {row.day: row for row in CalendarDay.objects.filter(day__in=named)}
    kept = CalendarDay.objects.filter(day__year=year).exclude(day__in=named).order_by("day")
    changed = sum(1 for day, row in existing.items() if (row.is_working_day, row.name) != named[day])
    library_differs: list[date] = []
    if library_knows(year):
        library = WorkCalendar()
        days = (date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days))
        library_differs = [d for d in days if notice.is_working_day(d) != library.is_working_day(d)]
    return {
        "year": year,
        "notice": notice,
        "form": form,
        "kept": kept,
        "new_days": len(named) - len(existing),
        "changed_days": changed,
        "library_differs": library_differs,
        "in_library": library_knows(year),
        "entry": CalendarYear.objects.filter(year=year).first(),
    }


@permission_required(CALENDAR_PERMISSION, raise_exception=True)
@require_POST
def calendar_notice(request: HttpRequest, year: int) -> HttpResponse:
    """The pasted notice, read: holidays, make-up days and what could not be read, to review."""
    _checked_year(year)
    form = NoticeForm(request.POST)
    if not form.is_valid():
        return render(request, "core/calendar/year.html", _year_context(year, form=form, notice_open=True))
    notice = parse_notice(form.cleaned_data["text"], year)
    review = NoticeApplyForm(initial={"text": form.cleaned_data["text"]})
    return render(request, "core/calendar/review.html", _review_context(year, notice, review))


@permission_required(CALENDAR_PERMISSION, raise_exception=True)
@require_POST
def calendar_notice_save(request: HttpRequest, year: int) -> HttpResponse:
    """保存: the reviewed notice becomes the year's calendar (read again from the same text)."""
    _checked_year(year)
    form = NoticeApplyForm(request.POST)
    if not form.is_valid():
        return render(request, "core/calendar/year.html", _year_context(year, form=form, notice_open=True))
    notice = parse_notice(form.cleaned_data["text"], year)
    try:
        result = services.apply_notice(
            year, notice, actor=request.user, problems_acknowledged=form.cleaned_data["problems_acknowledged"]
        )
    except DomainError as exc:
        apply_domain_error(form, exc)
        return render(request, "core/calendar/review.html", _review_context(year, notice, form))
    messages.success(
        request,
        f"{year}年工作日历已按《{notice.title}》录入：新增{result.created}天，修改{result.updated}天。",
    )
    return redirect("core:calendar_year", year=year)


@permission_required(CALENDAR_PERMISSION, raise_exception=True)
@require_POST
def calendar_complete(request: HttpRequest, year: int) -> HttpResponse:
    """A year entered day by day, declared complete."""
    _checked_year(year)
    services.mark_year_complete(year, actor=request.user, source="手工逐日录入")
    messages.success(request, f"{year}年工作日历已标记为录入完整，按工作日计算的时限和节日短信将照此安排。")
    return redirect("core:calendar_year", year=year)
