"""投诉 pages: the list with countdowns, intake, the detail page with its actions, export.

Each view reads through crm.complaints.selectors (outside the scope: 404), binds a form,
calls one service and renders or redirects; a DomainError is shown on the field it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.complaints import attachments, deadlines, notices, selectors, services
from crm.complaints.exporting import export_complaints
from crm.complaints.forms import (
    ActionForm,
    ComplaintFilterForm,
    CorrectionForm,
    ImportantForm,
    IntakeForm,
    MailHandledForm,
    RepeatForm,
    ReplyForm,
    SurveyForm,
)
from crm.complaints.mail_intake import intake_initial, mark_mail_handled, readable, register_held_mail
from crm.complaints.models import Channel, Complaint, ComplaintAttachment, ComplaintFacts, InboundMail, MailboxState
from crm.core.calendar import work_calendar
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.core.templatetags.form_tags import option_tags
from crm.customers.exporting import XLSX_CONTENT_TYPE
from crm.customers.views import CappedPaginator
from crm.lib.numbers import parse_id
from crm.lib.workcalendar import CalendarUnknown, WorkCalendar


def _countdown(complaint: Complaint | ListedComplaint, now: datetime, calendar: WorkCalendar) -> dict[str, Any]:
    """What the list and the detail page say about the deadline."""
    if not complaint.is_open:
        return {"label": "", "overdue": False}
    if complaint.status == Complaint.Status.WAITING:
        return {"label": "等待客户，暂停计时", "overdue": complaint.is_breached(now)}
    if complaint.acknowledged_at is None and now > complaint.first_response_due_at:
        return {"label": "超时未接收", "overdue": True}
    try:
        label, overdue = deadlines.countdown(complaint.resolution_due_at, now, calendar)
    except CalendarUnknown as exc:
        return {"label": exc.message, "overdue": False}
    return {"label": label, "overdue": overdue}


_STATUS_LABELS = dict(Complaint.Status.choices)
_CHANNEL_LABELS = dict(Channel.choices)


@dataclass(frozen=True, slots=True)
class ListedComplaint(ComplaintFacts):
    """The columns of one complaint the list shows (``LIST_COLUMNS``, in order), as plain
    values: a Complaint with its project, category and assignee instances cost the list
    more than its SQL. What the list asks of a complaint is answered by the model's own
    code (ComplaintFacts: ``is_open``, ``is_breached`` …), so the rules stay in one place."""

    pk: int
    number: str
    registered_at: datetime
    channel: str
    status: str
    complainant_name: str
    complainant_mobile: str
    is_repeat: bool
    is_special: bool
    escalation_level: int
    first_response_due_at: datetime
    resolution_due_at: datetime
    acknowledged_at: datetime | None
    paused_at: datetime | None
    project_name: str
    category_name: str
    assignee_username: str | None
    assignee_display_name: str | None

    @property
    def assignee(self) -> str:
        return self.assignee_display_name or self.assignee_username or ""  # as str(User)


# ListedComplaint's fields, in order: the complaint's and its project's, category's and
# assignee's other columns (their JSON, texts, settings) are not read for a page of rows.
LIST_COLUMNS = (
    "pk",
    "number",
    "registered_at",
    "channel",
    "status",
    "complainant_name",
    "complainant_mobile",
    "is_repeat",
    "is_special",
    "escalation_level",
    "first_response_due_at",
    "resolution_due_at",
    "acknowledged_at",
    "paused_at",
    "project__name",
    "category__name",
    "assignee__username",
    "assignee__display_name",
)


@dataclass(frozen=True, slots=True)
class ListRow:
    """One row of the list, its labels and dates ready to print: the template engine's
    ``|date`` filter, ``get_FOO_display`` and ``{% url %}`` cost ~0.1 ms each, per row
    (docs/performance.md, the complaint list 2026-12-06). ``{% complaint_rows %}`` writes them."""

    complaint: ListedComplaint
    url: str
    registered: str  # 12-06 09:30, local time
    channel: str
    status: str
    countdown: str
    overdue: bool
    due_day: str  # 12-09: the last day to resolve it (open complaints only)


def _list_rows(page: Iterable[tuple[Any, ...]], now: datetime, calendar: WorkCalendar) -> list[ListRow]:
    """The page's rows from a ``values_list(*LIST_COLUMNS)`` slice."""
    # One reverse() for the page: the detail URL with a placeholder id, filled per row.
    head, tail = reverse("complaints:detail", args=[0]).rsplit("/0/", 1)
    rows = []
    for values in page:
        c = ListedComplaint(*values)
        countdown = _countdown(c, now, calendar)
        rows.append(
            ListRow(
                complaint=c,
                url=f"{head}/{c.pk}/{tail}",
                registered=f"{timezone.localtime(c.registered_at):%m-%d %H:%M}",
                channel=_CHANNEL_LABELS.get(c.channel, c.channel),
                status=_STATUS_LABELS.get(c.status, c.status),
                countdown=countdown["label"],
                overdue=countdown["overdue"],
                due_day=f"{c.resolution_due_day:%m-%d}" if c.is_open else "",
            )
        )
    return rows


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def complaint_list(request: AuthedHttpRequest) -> HttpResponse:
    now = timezone.now()
    filters = ComplaintFilterForm(request.GET, user=request.user)
    rows = filters.queryset(now=now).values_list(*LIST_COLUMNS)
    # A capped total ("1000+"), as the customer list (decision 0011): a full COUNT(*) over a
    # director's 180,000 complaints took ~200 ms of a 600 ms page (docs/performance.md).
    # The page is read first; the total follows from it on the last page, else
    # complaint_list_count fetches it once the rows are shown.
    page = CappedPaginator(rows, filters.page_size).peek(request.GET.get("page"))
    return render(
        request,
        "complaints/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": _list_rows(page, now, work_calendar()),
            "page_sizes": PAGE_SIZES,
            "can_add": request.user.has_perm(services.ADD),
            "can_export": request.user.has_perm(services.EXPORT),
            "held_mails": selectors.held_mail_count(request.user),
            **_TOTAL_WORDS,
        },
    )


_TOTAL_WORDS = {"unit": "条", "count_hint": "请用筛选条件缩小范围"}  # partials/list_total.html


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def complaint_list_count(request: AuthedHttpRequest) -> HttpResponse:
    """The list's capped total for its filters and scope, fetched by the list page once its
    rows are shown (hx-get on load, CappedPaginator.peek); also fills in the pager's page count."""
    filters = ComplaintFilterForm(request.GET, user=request.user)
    paginator = CappedPaginator(filters.queryset(now=timezone.now()), filters.page_size)
    return render(request, "partials/list_count.html", {"paginator": paginator, **_TOTAL_WORDS})


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def list_options(request: AuthedHttpRequest, field: str) -> HttpResponse:
    """The <option>s of the list's category or project filter, fetched by hx-get when the
    dropdown is first reached for ({% lazy_select %}); the chosen one stays selected."""
    if field not in ("category", "project"):
        raise Http404
    choices = ComplaintFilterForm(None, user=request.user).fields[field].choices  # type: ignore[attr-defined]
    chosen = request.GET.get(field, "")
    return HttpResponse(option_tags(choices, {chosen} if chosen else set()))


@require_http_methods(["GET", "POST"])
@permission_required(services.ADD, raise_exception=True)
def complaint_new(request: AuthedHttpRequest) -> HttpResponse:
    if request.user.company is not None:
        services.ensure_default_categories(request.user.company)
    # 按此邮件登记投诉: a held mail (?mail=<id>) fills the form and is linked on saving.
    mail = _held_mail(request)
    initial = intake_initial(mail) if mail is not None else None
    form = IntakeForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if mail is not None:
                complaint = register_held_mail(mail, form.intake(), actor=request.user, now=timezone.now())
            else:
                complaint = services.register_complaint(form.intake(), actor=request.user)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"投诉已登记，编号 {complaint.number}")
            if selectors.complaints_visible_to(request.user).filter(pk=complaint.pk).exists():
                return redirect("complaints:detail", complaint.pk)
            return redirect("complaints:list")
    return render(request, "complaints/form.html", {"form": form, "mail": mail})


def _held_mail(request: AuthedHttpRequest) -> InboundMail | None:
    raw = request.GET.get("mail")
    if raw is None:
        return None
    if not request.user.has_perm(services.MANAGE):
        raise PermissionDenied
    pk = parse_id(raw)
    if pk is None:
        raise Http404("邮件不存在或无权查看")
    mail = selectors.get_inbound_mail_for_user(request.user, pk)
    if mail.status != InboundMail.Status.HELD:
        raise Http404("这封邮件已处理")
    return mail


def _detail_context(
    request: AuthedHttpRequest,
    complaint: Complaint,
    form: ActionForm | None = None,
    failed: str = "",
    repeat_form: RepeatForm | None = None,
    correction_form: CorrectionForm | None = None,
    reply_form: ReplyForm | None = None,
) -> dict[str, Any]:
    """Each action has its own form (its own element ids); the one that failed is bound."""
    now = timezone.now()
    verbs = services.available_verbs(complaint, request.user)
    actions = [
        {
            "name": name,
            "verb": services.VERBS[name],
            "form": form
            if form is not None and name == failed
            else ActionForm(user=request.user, auto_id=f"id_{name}_%s"),
        }
        for name in verbs
    ]
    return {
        "complaint": complaint,
        "events": selectors.complaint_events(complaint),
        "attachments": list(complaint.attachments.all()),
        "notices": list(notices.sent_for(complaint)),
        "countdown": _countdown(complaint, now, work_calendar()),
        "breached": complaint.is_breached(now),
        "actions": actions,
        "form": form,
        "failed_verb": failed,
        "repeat_position": services.repeat_position(complaint),
        "later_repeats": selectors.later_repeats(complaint, request.user),
        "can_mark_repeat": request.user.has_perm(services.HANDLE),
        "repeat_form": repeat_form or RepeatForm(user=request.user),
        "can_mark_important": request.user.has_perm(services.MANAGE),
        "can_correct": request.user.has_perm(services.MANAGE)
        and complaint.status not in (Complaint.Status.ARCHIVED, Complaint.Status.CANCELLED),
        "correction_form": correction_form or CorrectionForm(user=request.user, complaint=complaint),
        **_reply_context(request, complaint, reply_form),
    }


def _reply_context(request: AuthedHttpRequest, complaint: Complaint, form: ReplyForm | None) -> dict[str, Any]:
    """修改次日回复短信: offered to whoever may handle the complaint while the reply waits."""
    may = request.user.has_perm(services.HANDLE) and (
        complaint.assignee_id in (None, request.user.pk) or request.user.has_perm(services.MANAGE)
    )
    reply = notices.reply_notice(complaint) if may and complaint.is_open else None
    if reply is None or reply.status not in ("scheduled", "held") or reply.handed_at is not None:
        return {"reply_form": None, "reply_notice": None}
    return {"reply_form": form or ReplyForm(auto_id="id_reply_%s"), "reply_notice": reply}


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def complaint_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    complaint = selectors.get_complaint_for_user(request.user, pk)
    return render(request, "complaints/detail.html", _detail_context(request, complaint))


@require_POST
@permission_required(services.VIEW, raise_exception=True)
def complaint_act(request: AuthedHttpRequest, pk: int, verb: str) -> HttpResponse:
    complaint = selectors.get_complaint_for_user(request.user, pk)
    if verb not in services.VERBS:
        raise Http404("未知的操作")
    if not request.user.has_perm(services.VERBS[verb].permission):
        raise PermissionDenied
    form = ActionForm(request.POST, user=request.user, auto_id=f"id_{verb}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.perform(
                complaint,
                verb,
                actor=request.user,
                note=data.get("note") or "",
                plan=data.get("plan") or "",
                satisfaction=data.get("satisfaction"),
                assignee=data.get("assignee"),
                category=data.get("category"),
                notify=bool(data.get("notify")),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"{services.VERBS[verb].label}：已完成")
            return redirect("complaints:detail", complaint.pk)
    complaint.refresh_from_db()
    context = _detail_context(request, complaint, form, failed=verb)
    return render(request, "complaints/detail.html", context, status=400)


@require_POST
@permission_required(services.HANDLE, raise_exception=True)
def complaint_repeat(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Link the complaint to the earlier one it repeats (按钮 标记), or remove the link (取消)."""
    complaint = selectors.get_complaint_for_user(request.user, pk)
    form = RepeatForm(request.POST, user=request.user)
    if form.is_valid():
        earlier = form.cleaned_data.get("repeat_of")
        note = form.cleaned_data.get("note") or ""
        try:
            if request.POST.get("unlink"):
                services.unmark_repeat(complaint, actor=request.user, note=note)
            elif earlier is None:
                raise DomainError("请填写前次投诉编号", field="repeat_of")
            else:
                services.mark_repeat(complaint, actor=request.user, repeat_of=earlier, note=note)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "重复投诉标记已更新")
            return redirect("complaints:detail", complaint.pk)
    complaint.refresh_from_db()
    context = _detail_context(request, complaint, repeat_form=form)
    return render(request, "complaints/detail.html", context, status=400)


@require_POST
@permission_required(services.MANAGE, raise_exception=True)
def complaint_important(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The director marks the complaint important (kept indefinitely) or removes the mark."""
    complaint = selectors.get_complaint_for_user(request.user, pk)
    form = ImportantForm(request.POST)
    form.is_valid()
    try:
        services.set_important(
            complaint,
            actor=request.user,
            important=bool(form.cleaned_data.get("important")),
            note=form.cleaned_data.get("note") or "",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已标记为重要投诉" if complaint.is_important else "已取消重要投诉标记")
    return redirect("complaints:detail", complaint.pk)


@require_POST
@permission_required(services.MANAGE, raise_exception=True)
def complaint_correct(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """更正登记信息: project, unit and category; the reason goes into the record."""
    complaint = selectors.get_complaint_for_user(request.user, pk)
    form = CorrectionForm(request.POST, user=request.user, complaint=complaint)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.correct_complaint(
                complaint,
                actor=request.user,
                project=data["project"],
                unit=data.get("unit"),
                category=data["category"],
                note=data["note"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "登记信息已更正")
            return redirect("complaints:detail", complaint.pk)
    complaint.refresh_from_db()
    context = _detail_context(request, complaint, correction_form=form)
    return render(request, "complaints/detail.html", context, status=400)


@require_POST
@permission_required(services.HANDLE, raise_exception=True)
def complaint_reply(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The owner words the next-day reply SMS while it waits for its window."""
    complaint = selectors.get_complaint_for_user(request.user, pk)
    form = ReplyForm(request.POST, auto_id="id_reply_%s")
    if form.is_valid():
        try:
            services.reword_reply(complaint, actor=request.user, text=form.cleaned_data["text"])
        except DomainError as exc:
            apply_domain_error(form, exc, aliases={"note": "text"})
        else:
            messages.success(request, "次日回复内容已保存")
            return redirect("complaints:detail", complaint.pk)
    complaint.refresh_from_db()
    context = _detail_context(request, complaint, reply_form=form)
    if context["reply_form"] is None:
        messages.error(
            request, "；".join(str(e) for errors in form.errors.values() for e in errors) or "不能修改次日回复"
        )
        return redirect("complaints:detail", complaint.pk)
    return render(request, "complaints/detail.html", context, status=400)


@require_GET
@permission_required(services.MANAGE, raise_exception=True)
def complaint_mails(request: AuthedHttpRequest) -> HttpResponse:
    """投诉邮件: what the mailbox job did with each mail; held ones first by default."""
    status = request.GET.get("status", InboundMail.Status.HELD)
    rows = selectors.inbound_mails_for(request.user, status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/mails.html",
        {
            "page": page,
            "status": status,
            "statuses": InboundMail.Status.choices,
            "mailbox": MailboxState.objects.first(),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(services.MANAGE, raise_exception=True)
def complaint_mail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One mail with the reason it was held, its text, and 标记为已处理."""
    mail = selectors.get_inbound_mail_for_user(request.user, pk)
    form = MailHandledForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mark_mail_handled(mail, actor=request.user, note=form.cleaned_data["note"], now=timezone.now())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "已标记为已处理")
            return redirect("complaints:mails")
    text = readable(bytes(mail.raw)) if mail.raw else ""
    status = 400 if request.method == "POST" else 200
    return render(request, "complaints/mail.html", {"mail": mail, "text": text, "form": form}, status=status)


@require_GET
@permission_required(services.EXPORT, raise_exception=True)
def complaint_export(request: AuthedHttpRequest) -> FileResponse:
    export = export_complaints(request.user, request.GET, now=timezone.now(), ip=request.META.get("REMOTE_ADDR"))
    response = FileResponse(export.file, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{export.ascii_filename}\"; filename*=UTF-8''{quote(export.filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def attachment(request: AuthedHttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """An attached image, only to a user who may see the complaint (never a public URL)."""
    complaint = selectors.get_complaint_for_user(request.user, pk)
    row = get_object_or_404(ComplaintAttachment, pk=attachment_id, complaint=complaint)
    try:
        handle = row.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("附件文件不存在") from exc
    response = FileResponse(
        handle,
        content_type=row.content_type,
        as_attachment=not row.is_inline,
        filename=f"{complaint.number}-{row.pk}{row.extension}",
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@permission_required(services.VIEW, raise_exception=True)
def attachment_thumbnail(request: AuthedHttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    """The small JPEG the detail page shows (crm.complaints.attachments.thumbnail), under
    the same access check as the image."""
    complaint = selectors.get_complaint_for_user(request.user, pk)
    row = get_object_or_404(ComplaintAttachment, pk=attachment_id, complaint=complaint)
    data = attachments.thumbnail(row)
    if data is None:
        raise Http404("没有缩略图")
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The complainant's one-time satisfaction survey (满意度回访), reached from the SMS link
    without logging in. Shows only the complaint's number; an unknown, used or expired link
    gets a page saying so in plain Chinese (status 410 for used or expired, 404 unknown)."""
    now = timezone.now()
    try:
        invitation = services.survey_for_token(token, now=now)
    except services.SurveyRefused as exc:
        return _survey_refused(request, exc)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.submit_survey(
                token, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"], now=now
            )
        except services.SurveyRefused as exc:
            return _survey_refused(request, exc)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return render(
                request,
                "complaints/survey.html",
                {"done": True, "confirmed": complaint.status == Complaint.Status.CONFIRMED, "number": complaint.number},
            )
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "number": invitation.complaint.number, "expires_at": invitation.expires_at}
    return render(request, "complaints/survey.html", context, status=status)


def _survey_refused(request: HttpRequest, exc: services.SurveyRefused) -> HttpResponse:
    status = 404 if exc.unknown else 410
    return render(request, "complaints/survey.html", {"refused": exc.message}, status=status)
