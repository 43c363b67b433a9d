"""Customer and deal pages: the list, registration and editing, the 360° page, the
archive (客户信息档案), consent, reveal, merge and disposal, and deals with milestones.

Each view fetches through a selector (so data scope is decided in one place: a customer
outside it is a 404), binds a form, calls one service and renders or redirects. A
DomainError from a service is shown on the form field it names.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.accounts.http import AuthedHttpRequest
from crm.accounts.models import User
from crm.core.audit import client_ip
from crm.core.errors import DomainError
from crm.core.forms import PAGE_SIZES, apply_domain_error
from crm.core.http import back_url
from crm.core.search import tokenised_query, was_restored
from crm.customers import archive, guard, services
from crm.customers.filters import CustomerFilterForm, DealFilterForm
from crm.customers.forms import (
    BULK_ACTIONS,
    BulkActionForm,
    ConsentForm,
    CustomerForm,
    DealCancelForm,
    DealCreateForm,
    DealEditForm,
    DisposeForm,
    FamilyMemberForm,
    MergeForm,
    NoteForm,
    ProfileForm,
    RevealForm,
)
from crm.customers.models import Customer, CustomerProfile, Deal, TimelineEvent
from crm.customers.selectors import (
    LIST_COLUMNS,
    customers_visible_to,
    get_customer_for_user,
    get_deal_for_user,
    list_rows,
    timeline_for,
    visible_holders,
)
from crm.lib.mobile import InvalidMobile, looks_like_full_number, normalize_mobile
from crm.lib.numbers import parse_id, parse_page


class CappedPaginator(Paginator[Any]):
    """Counts at most CAP + 1 rows: a full COUNT(*) over a director's 500,000 customers
    takes ~200 ms on PostgreSQL, a capped one ~1 ms (docs/performance.md). The page then
    shows "1000+" and offers the first CAP rows' pages; filters narrow the rest."""

    CAP = 1000

    @cached_property
    def count(self) -> int:
        # Without ORDER BY the subquery may stop at any CAP + 1 rows instead of walking an index in order.
        rows = cast("QuerySet[Any]", self.object_list)
        return rows.order_by()[: self.CAP + 1].count()

    exact = False  # counted from the last page itself, however many there are

    @property
    def is_capped(self) -> bool:
        return not self.exact and self.count > self.CAP

    @property
    def capped_pages(self) -> int:
        """The pages the first CAP rows fill (shown as "40+" when the count is capped)."""
        return max(1, self.CAP // self.per_page)

    @property
    def is_counted(self) -> bool:
        return "count" in self.__dict__

    def peek(self, number: Any, *, keys: QuerySet[Any] | None = None) -> Page[Any]:
        """Page ``number`` read before anything is counted: ``per_page + 1`` rows from its offset.

        ``keys``: the rows before their shown columns were chosen (``values_list`` keeps the
        joins its columns need): a deep page reads its ids from it (``DEFERRED_FROM``). Only
        where measured: the director's complaint list with its OR-ed scope turned the same
        form into a scan of every complaint (80 ms for page 40 instead of 15).

        The extra row says whether a next page exists. On the last page the total follows
        from the page itself; otherwise it stays uncounted (``count_pending``) and the list
        fetches it after showing the rows (``customer_list_count``): the capped count reads
        up to 1,001 rows, as much as the page itself for a consultant at 1,000,000 customers
        (docs/performance.md). A number past the end falls back to counting, as get_page does.
        """
        text = str(number or "1")
        wanted = parse_page(text)
        if wanted is None:
            # Not a page number (first page), or past any list's end: counting finds the last
            # page (a huge offset would be a database error on SQLite).
            return self.get_page(number if text.isascii() and text.isdigit() and text != "0" else 1)
        bottom = (wanted - 1) * self.per_page
        rows = self._rows(cast("QuerySet[Any]", self.object_list), keys, bottom, bottom + self.per_page + 1)
        if not rows and wanted > 1:
            return self.get_page(number)
        has_next = len(rows) > self.per_page
        if not has_next:
            self.__dict__["count"] = bottom + len(rows)
            self.exact = True
        return PeekedPage(rows[: self.per_page], wanted, self, has_next=has_next)

    DEFERRED_FROM = 200
    """From this offset a page given ``keys`` reads its rows' ids first, then the rows: ``id IN (SELECT id
    … ORDER BY … LIMIT n OFFSET m)`` walks the order's index alone for the rows it skips
    and joins the names (customer, project, plan) to the page's rows only, where a plain
    OFFSET joined every skipped row (bench visits: the queue's page 100 of 5,000 open tasks
    joined 2,500 customers, 12 ms of SQL)."""

    def _rows(self, rows: QuerySet[Any], keys: QuerySet[Any] | None, bottom: int, top: int) -> list[Any]:
        if keys is None or bottom < self.DEFERRED_FROM:
            return list(rows[bottom:top])
        return list(rows.filter(pk__in=keys.values("pk")[bottom:top]))


class PeekedPage(Page[Any]):
    """A Page that knows whether another follows without the paginator's count."""

    def __init__(self, object_list: Any, number: int, paginator: CappedPaginator, *, has_next: bool) -> None:
        super().__init__(object_list, number, paginator)
        self._has_next = has_next
        self.count_pending = not paginator.is_counted

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _int(value: Any) -> int | None:
    return parse_id(value)


def _detail_url(customer: Customer | int, anchor: str = "") -> str:
    pk = customer if isinstance(customer, int) else customer.pk
    return reverse("customers:detail", args=[pk]) + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------- list and bulk actions


def _list_url_for(request: AuthedHttpRequest, params: QueryDict) -> str:
    """The list's URL for these filters, a full mobile or ID number replaced by a session
    token (crm.core.search: never in the access log, the history or a Referer)."""
    query = tokenised_query(request.session, params)
    return reverse("customers:list") + (f"?{query}" if query else "")


def search_params(request: AuthedHttpRequest) -> QueryDict:
    """The list filters of this request (a tokenised search is already restored into
    request.GET by crm.core.search.SearchTokenMiddleware)."""
    return request.GET


@require_POST
@permission_required("customers.view_customer", raise_exception=True)
def customer_search(request: AuthedHttpRequest) -> HttpResponse:
    """The list's filter form posts here: the filters come back as the list's URL, with a
    search by full mobile or ID number kept out of it."""
    return redirect(_list_url_for(request, request.POST))


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if not was_restored(request) and looks_like_full_number(request.GET.get("q", "")):
        # An old link or a hand-typed URL: at least the history and bookmarks lose it.
        return redirect(_list_url_for(request, request.GET))
    filters = CustomerFilterForm(search_params(request), user=user)
    page = CappedPaginator(filters.queryset().values_list(*LIST_COLUMNS), filters.page_size).peek(
        request.GET.get("page")
    )
    page.object_list = list_rows(page.object_list)
    can = {
        "reassign": user.has_perm("customers.reassign_customer"),
        "tag": user.has_perm("customers.change_customer"),
        "archive": user.has_perm("customers.archive_customer"),
    }
    return render(
        request,
        "customers/list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": filters.sort_key,
            "bulk": BulkActionForm(user=user) if any(can.values()) else None,
            "can": can,
            "can_create": user.has_perm("customers.add_customer"),
            "can_export": user.has_perm("customers.export_customers"),
            "can_view_deals": user.has_perm("customers.view_deal"),
            **_total_words(filters),
        },
    )


def _total_words(filters: CustomerFilterForm) -> dict[str, str]:
    """How the list's total reads (partials/list_total.html): 共 1000+ 位已归档客户."""
    return {
        "unit": "位",
        "noun": "已归档客户" if filters.value("archived") else "",
        "count_hint": "准确人数请看工作台",
    }


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_list_count(request: AuthedHttpRequest) -> HttpResponse:
    """The list's total for its current filters (capped), fetched by the list page once its
    rows are shown (hx-get on load, CappedPaginator.peek); also fills in the pager's page count."""
    filters = CustomerFilterForm(search_params(request), user=request.user)
    paginator = CappedPaginator(filters.queryset(), filters.page_size)
    return render(request, "partials/list_count.html", {"paginator": paginator, **_total_words(filters)})


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def list_options(request: AuthedHttpRequest, field: str) -> HttpResponse:
    """The <option>s of one of the list page's staff, project or tag dropdowns, fetched by hx-get when
    the dropdown is first reached for (customers/list.html, docs/performance.md fix C). The
    select's own value comes with the request and stays selected."""
    from crm.core.templatetags.form_tags import option_tags

    user = request.user
    if field in ("owner", "project", "tag"):
        form_field = CustomerFilterForm(None, user=user).fields[field]
        name = field
    elif field == "new_owner" and user.has_perm("customers.reassign_customer"):
        form_field, name = BulkActionForm(user=user).fields["new_owner"], "new_owner"
    elif field == "bulk_tag" and user.has_perm("customers.change_customer"):
        form_field, name = BulkActionForm(user=user).fields["tag"], "tag"
    else:
        raise Http404
    chosen = request.GET.get(name, "")
    return HttpResponse(option_tags(cast("Any", form_field).choices, {chosen} if chosen else set()))


@require_POST
@permission_required("customers.view_customer", raise_exception=True)
def customer_bulk(request: AuthedHttpRequest) -> HttpResponse:
    """Apply one action to the ticked customers; ids outside the user's scope are ignored."""
    user = request.user
    back = back_url(request, reverse("customers:list"))
    form = BulkActionForm(request.POST, user=user)
    action = request.POST.get("action", "")
    perm = {
        "reassign": "customers.reassign_customer",
        "tag": "customers.change_customer",
        "archive": "customers.archive_customer",
    }.get(action)
    if perm is None:
        messages.error(request, "请选择批量操作")
        return redirect(back)
    _require(user, perm)
    ids = form.selected_ids()
    if not ids:
        messages.warning(request, "请先勾选客户")
        return redirect(back)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, "；".join(errors))
        return redirect(back)
    data = form.cleaned_data
    # Re-read the ticked rows through the scope: a forged id is silently ignored.
    customers = list(
        customers_visible_to(user, include_archived=True)
        .filter(pk__in=ids)
        .select_related("owner")
        .prefetch_related("tags")
        .order_by("pk")
    )
    try:
        if action == "reassign":
            count = services.reassign_customers(
                customers, actor=user, new_owner=data["new_owner"], reason=data.get("reason", "")
            )
            done = f"已将 {count} 位客户转给 {data['new_owner']}"
        elif action == "tag":
            tag = data["tag"]
            count = services.tag_customers(customers, actor=user, tag=tag)
            done = f"已为 {count} 位客户添加标签“{tag}”"
        else:
            count = services.archive_customers(
                customers, actor=user, reason=data["archive_reason"], note=data.get("archive_note", "")
            )
            done = f"已将 {count} 位客户归档为无效客户"
    except DomainError as exc:
        messages.error(request, f"{BULK_ACTIONS[action]}失败：{exc.message}")
    else:
        messages.success(request, done)
    return redirect(back)


# ---------------------------------------------------------------- create and edit


def _duplicate(user: User, existing: Customer) -> dict[str, Any]:
    """What the form may say about the record holding the mobile: all of it when the user
    can see that customer, nothing but "ask your team leader" otherwise."""
    visible = visible_holders(user, [existing.pk]).select_related("owner", "project").first()
    return {"customer": visible, "visible": visible is not None}


def _duplicate_error(form: CustomerForm, user: User, exc: services.DuplicateCustomer) -> dict[str, Any]:
    """Put the duplicate on the mobile field it concerns, naming the holder only when visible."""
    duplicate = _duplicate(user, exc.existing)
    field = "mobile"
    try:
        if normalize_mobile(form.cleaned_data.get("mobile2") or "") == exc.mobile:
            field = "mobile2"
    except InvalidMobile:
        pass
    if duplicate["visible"]:
        form.add_error(field, exc.message)
    else:
        message = guard.hidden_duplicate_message(user, customer_id=exc.existing.pk, now=timezone.now())
        form.add_error(field, message)
        duplicate["message"] = message
    return duplicate


def _merge_intake(request: AuthedHttpRequest, form: CustomerForm) -> HttpResponse:
    """Fold this registration into the existing record the duplicate check found."""
    user = request.user
    pk = _int(request.POST.get("merge_into"))
    existing = customers_visible_to(user, include_archived=True).filter(pk=pk).first() if pk else None
    if existing is None:
        raise Http404("客户不存在或无权查看")
    try:
        services.merge_intake(
            existing,
            actor=user,
            mobiles=[request.POST.get("mobile", ""), request.POST.get("mobile2", "")],
            name=request.POST.get("name", ""),
            note=request.POST.get("notes", ""),
            source_channel=request.POST.get("source_channel", ""),
        )
    except DomainError as exc:
        form.is_valid()
        apply_domain_error(form, exc)
        return render(request, "customers/form.html", {"form": form, "duplicate": None})
    messages.success(request, f"本次登记已合并到客户 {existing.name}（{existing.number}），未新建客户")
    return redirect(_detail_url(existing, "timeline"))


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_customer", raise_exception=True)
def customer_create(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if user.company is None:
        raise PermissionDenied
    form = CustomerForm(request.POST or None, user=user)
    duplicate = None
    if request.method == "POST":
        if "merge_into" in request.POST:
            return _merge_intake(request, form)
        if form.is_valid():
            try:
                customer = services.create_customer(actor=user, **form.service_fields())
            except services.DuplicateCustomer as exc:
                duplicate = _duplicate_error(form, user, exc)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"已新建客户 {customer.name}（{customer.number}）")
                return redirect(_detail_url(customer))
    return render(request, "customers/form.html", {"form": form, "duplicate": duplicate})


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = get_customer_for_user(user, pk)
    # The form gets its own copy: validation writes typed values onto its instance.
    form = CustomerForm(request.POST or None, instance=get_customer_for_user(user, pk), user=user)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(customer, actor=user, **form.service_fields())
        except services.DuplicateCustomer as exc:
            duplicate = _duplicate_error(form, user, exc)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "客户资料已保存")
            return redirect(_detail_url(customer))
    return render(request, "customers/form.html", {"form": form, "customer": customer, "duplicate": duplicate})


# ---------------------------------------------------------------- the 360° page


CONSENT_PURPOSES = (
    ("notification", "服务通知", "交房、备案等办理进度通知"),
    ("care", "关怀问候", "生日、节日、入住等温馨速递"),
    ("marketing", "营销推广", "新盘、活动、优惠等推广信息"),
)


def _detail_context(request: AuthedHttpRequest, customer: Customer, **forms: Any) -> dict[str, Any]:
    user = request.user
    # Fetched with the customer on the 360° page; one query otherwise (no profile yet is None).
    profile = getattr(customer, "profile", None)
    filled, total = archive.completeness(customer, profile)
    summary = [
        row for _, rows in archive.entries(customer, profile) for row in rows if row.value and not row.on_customer
    ]
    return {
        "customer": customer,
        "tags": list(customer.tags.all()),
        "deals": list(customer.deals.select_related("unit__building", "project", "consultant")),
        "family": list(customer.family.all()),
        "events": timeline_for(customer),
        "archive_filled": filled,
        "archive_total": total,
        "archive_percent": round(100 * filled / total) if total else 0,
        "archive_summary": summary[:8],
        "consents": [
            {"purpose": key, "label": label, "hint": hint, "granted": getattr(customer, f"consent_{key}")}
            for key, label, hint in CONSENT_PURPOSES
        ],
        "consent_sources": ConsentForm.SOURCES,
        "note_form": forms.get("note_form") or NoteForm(),
        "dispose_form": forms.get("dispose_form") or DisposeForm(),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "can": {
            "edit": user.has_perm("customers.change_customer"),
            "reveal": user.has_perm("customers.reveal_contact"),
            "archive": user.has_perm("customers.archive_customer"),
            "merge": user.has_perm("customers.merge_customers"),
            "add_deal": user.has_perm("customers.add_deal"),
            "view_deal": user.has_perm("customers.view_deal"),
        },
    }


def _customer_for_360(user: User, pk: int) -> Customer:
    """get_customer_for_user plus the archive in the same query (the page's query budget is 12).

    The referrer and the record merged into are left to a query of their own, made only for
    the few customers that have one: two more self-joins cost PostgreSQL ~2 ms of planning on
    every view of the page, four times the query's execution (docs/performance.md).
    No ORDER BY: the key matches one row at most.
    """
    found = (
        customers_visible_to(user, include_archived=True)
        .select_related("owner", "advisor", "project", "profile")
        .filter(pk=pk)
        .order_by()[:1]
    )
    customer = next(iter(found), None)
    if customer is None:
        raise Http404("客户不存在或无权查看")
    return customer


@require_GET
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    customer = _customer_for_360(request.user, pk)
    try:
        guard.check_open(request.user, customer.pk, now=timezone.now())
    except guard.AccessStopped as exc:
        return stopped(request, exc)
    return render(request, "customers/detail.html", _detail_context(request, customer))


def stopped(request: AuthedHttpRequest, exc: guard.AccessStopped) -> HttpResponse:
    """The Chinese page of a user stopped by an hourly limit (429), with a way back."""
    return render(request, "customers/stopped.html", {"message": exc.message}, status=429)


@require_POST
def reveal(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show one full mobile or ID number in place of the masked one, with a reason (audited)."""
    _require(request.user, "customers.reveal_contact")
    customer = get_customer_for_user(request.user, pk)
    form = RevealForm(request.POST)
    field = request.POST.get("field", "mobile")
    context: dict[str, Any] = {"customer": customer, "field": field, "can_reveal": True}
    registered = {"mobile": customer.mobile, "mobile2": customer.mobile2, "id_number": customer.id_number_hash}
    if not form.is_valid():
        context["error"] = "未知字段"
    elif not registered[form.cleaned_data["field"]]:
        context["error"] = "该客户未登记此项"
    else:
        try:
            context["value"] = services.reveal_contact(
                customer,
                actor=request.user,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except DomainError as exc:
            context["error"] = exc.message
            context["reason"] = form.cleaned_data.get("reason", "")
            context["open"] = True
    context["masked"] = {
        "mobile": customer.masked_mobile,
        "mobile2": customer.masked_mobile2,
        "id_number": customer.id_number_hint,
    }.get(field, "")
    template = "customers/_reveal.html" if getattr(request, "htmx", False) else "customers/reveal_page.html"
    return render(request, template, context)


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def note_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(customer, actor=request.user, text=form.cleaned_data["text"])
        except DomainError as exc:
            apply_domain_error(form, exc)
    if form.errors:
        context = _detail_context(request, customer, note_form=form)
        return render(request, "customers/detail.html", context)
    messages.success(request, "跟进记录已添加")
    return redirect(_detail_url(customer, "timeline"))


@require_POST
@permission_required("customers.change_customer", raise_exception=True)
def consent(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "授权信息不完整，请重试")
        return redirect(_detail_url(customer, "consent"))
    data = form.cleaned_data
    try:
        record = services.set_consent(
            customer, actor=request.user, purpose=data["purpose"], granted=data["granted"], source=data["source"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        verb = "已记录客户同意接收" if record.is_granted else "已撤回"
        messages.success(request, f"{verb}{record.get_purpose_display()}短信，立即生效")
    return redirect(_detail_url(customer, "consent"))


@require_http_methods(["GET", "POST"])
@permission_required("customers.change_customer", raise_exception=True)
def family_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, pk)
    form = FamilyMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.add_family_member(customer, actor=request.user, **form.service_fields())
        except DomainError as exc:
            apply_domain_error(form, exc, {"guardian_consent_at": "guardian_consent"})
        else:
            messages.success(request, f"已添加家庭成员 {member}")
            return redirect(_detail_url(customer, "family"))
    return render(request, "customers/family_form.html", {"customer": customer, "form": form})


@require_http_methods(["GET", "POST"])
@permission_required("customers.view_customer", raise_exception=True)
def customer_profile(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The 42-item archive in its six groups; read-only without the right to edit customers."""
    user = request.user
    customer = get_customer_for_user(user, pk)
    can_edit = user.has_perm("customers.change_customer")
    if request.method == "POST":
        _require(user, "customers.change_customer")
    profile = CustomerProfile.objects.filter(customer=customer).first() or CustomerProfile(customer=customer)
    form = ProfileForm(request.POST or None, instance=profile)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(customer, actor=user, **form.service_fields())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "客户信息档案已保存")
            return redirect(_detail_url(customer, "archive"))
    groups = []
    for numeral, (title, names) in zip("一二三四五六", archive.ARCHIVE_GROUPS, strict=True):
        items = []
        for name in names:
            if name in archive.CUSTOMER_FIELDS:
                value = customer.get_gender_display() if name == "gender" else customer.masked_mobile
                items.append({"readonly": True, "label": archive.label(name), "value": value})
            elif name in form.fields:
                items.append({"field": form[name]})
        groups.append({"title": f"{numeral}、{title}", "items": items, "is_family": title == "家庭信息"})
    return render(
        request,
        "customers/profile.html",
        {
            "customer": customer,
            "form": form,
            "groups": groups,
            "can_edit": can_edit,
            "sensitive_enabled": archive.sensitive_fields_enabled(customer.company_id),
            "guardian_field": form["guardian_consent"] if "guardian_consent" in form.fields else None,
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required("customers.archive_customer", raise_exception=True)
def customer_dispose(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Archive an invalid record with a reason (seed 003: 定期清理无效信息, never deleted)."""
    customer = get_customer_for_user(request.user, pk)
    form = DisposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.archive_customer(
                customer, actor=request.user, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"客户 {customer.name} 已归档为无效客户，可随时恢复")
            return redirect(_detail_url(customer))
    return render(request, "customers/dispose.html", {"customer": customer, "form": form})


@require_POST
@permission_required("customers.archive_customer", raise_exception=True)
def customer_restore(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    customer = get_customer_for_user(request.user, pk)
    try:
        services.restore_customer(customer, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"客户 {customer.name} 已恢复为有效客户")
    return redirect(_detail_url(customer))


@require_http_methods(["GET", "POST"])
@permission_required("customers.merge_customers", raise_exception=True)
def customer_merge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Merge a duplicate into this customer: enter its number, check the preview, confirm."""
    user = request.user
    target = get_customer_for_user(user, pk)
    form = MergeForm(request.POST or None)
    source = None
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"]
        source = (
            customers_visible_to(user, include_archived=True)
            .filter(number=number)
            .select_related("owner", "project")
            .first()
        )
        if source is None:
            form.add_error("number", f"未找到客户编号 {number}，或您无权查看该客户")
        elif source.pk == target.pk:
            form.add_error("number", "不能与自身合并")
            source = None
        elif source.merged_into_id:
            form.add_error("number", "该客户已被合并到其他客户")
            source = None
        elif form.cleaned_data["confirm"]:
            try:
                services.merge_customers(target, source, actor=user)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, f"已将 {source.name}（{source.number}）合并到当前客户")
                return redirect(_detail_url(target, "timeline"))
    preview = None
    if source is not None and not form.errors:
        preview = {"deals": source.deals.count(), "events": source.events.count(), "family": source.family.count()}
    return render(
        request, "customers/merge.html", {"customer": target, "form": form, "source": source, "preview": preview}
    )


# ---------------------------------------------------------------- deals


@require_GET
@permission_required("customers.view_deal", raise_exception=True)
def deal_list(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    filters = DealFilterForm(request.GET, user=user)
    deals = filters.queryset().select_related("customer", "unit__building", "project", "consultant")
    per_page = _int(request.GET.get("per_page"))
    page = Paginator(deals, per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/deal_list.html",
        {
            "filters": filters,
            "page": page,
            "page_sizes": PAGE_SIZES,
            "can_export": user.has_perm("customers.export_customers"),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required("customers.add_deal", raise_exception=True)
def deal_create(request: AuthedHttpRequest) -> HttpResponse:
    """认购: pick an available unit of the customer's project and record the dates known so far."""
    user = request.user
    customer_id = _int(request.GET.get("customer") or request.POST.get("customer"))
    if customer_id is None:
        raise Http404("请从客户页面登记成交")
    customer = get_customer_for_user(user, customer_id)
    if customer.is_archived:
        messages.error(request, "已归档的客户不能登记成交，请先恢复")
        return redirect(_detail_url(customer))
    form = DealCreateForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            deal = services.create_deal(actor=user, customer=customer, unit=form.cleaned_data["unit"], **data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已登记认购 {deal.unit.label}，客户阶段已更新为成交客户")
            return redirect("customers:deal_detail", deal.pk)
    return render(request, "customers/deal_form.html", {"customer": customer, "form": form})


def _deal_context(deal: Deal, **forms: Any) -> dict[str, Any]:
    events = TimelineEvent.objects.filter(source_type="customers.deal", source_id=deal.pk).select_related("actor")
    return {
        "deal": deal,
        "customer": deal.customer,
        "form": forms.get("form") or DealEditForm(instance=deal),
        "cancel_form": forms.get("cancel_form") or DealCancelForm(),
        "events": list(events.order_by("-occurred_at", "-id")[:50]),
        "is_active": deal.status == Deal.Status.ACTIVE,
    }


@require_http_methods(["GET", "POST"])
@permission_required("customers.view_deal", raise_exception=True)
def deal_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A deal's milestones; POST records milestone dates (and price, move-in kind)."""
    user = request.user
    deal = get_deal_for_user(user, pk)
    can_edit = user.has_perm("customers.change_deal")
    form = None
    if request.method == "POST":
        _require(user, "customers.change_deal")
        form = DealEditForm(request.POST, instance=get_deal_for_user(user, pk))
        if form.is_valid():
            try:
                services.update_deal(deal, actor=user, **form.service_fields())
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, "成交节点已保存")
                return redirect("customers:deal_detail", deal.pk)
    context = _deal_context(deal, form=form)
    context["can_edit"] = can_edit
    return render(request, "customers/deal_detail.html", context)


@require_POST
@permission_required("customers.change_deal", raise_exception=True)
def deal_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """退房: the deal stays on record as cancelled and the unit is for sale again."""
    deal = get_deal_for_user(request.user, pk)
    form = DealCancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_deal(deal, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"{deal.unit.label} 已退房，房源恢复可售")
            return redirect("customers:deal_detail", deal.pk)
    context = _deal_context(deal, cancel_form=form)
    context["can_edit"] = True
    context["cancel_open"] = True
    return render(request, "customers/deal_detail.html", context)
