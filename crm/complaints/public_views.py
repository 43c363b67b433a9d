"""The public complaint page (/tousu/) and the status page (/tousu/status/): no login, no
staff menu; each view binds a form and calls crm.complaints.public."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crm.accounts.models import Company
from crm.complaints import public
from crm.complaints.public_forms import PublicComplaintForm, StatusForm
from crm.core.errors import DomainError
from crm.core.forms import apply_domain_error


def _closed(request: HttpRequest) -> HttpResponse:
    return render(request, "complaints/public/closed.html", status=404)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def complaint_form(request: HttpRequest) -> HttpResponse:
    company = public.public_company()
    if company is None:
        return _closed(request)
    now = timezone.now()
    form = PublicComplaintForm(request.POST or None, request.FILES or None, company=company, now=now)
    if request.method == "POST":
        if not public.allow_attempt(public.client_ip(request)):
            form.is_valid()  # bound and shown with what was typed
            form.add_error(None, public.TOO_FAST)
        elif form.is_valid():
            try:
                complaint = public.submit(form.intake(), company=company, ip=public.client_ip(request), now=now)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                return render(request, "complaints/public/done.html", {"complaint": complaint, "company": company})
        return render(request, "complaints/public/form.html", _form_context(form, company), status=400)
    return render(request, "complaints/public/form.html", _form_context(form, company))


def _form_context(form: PublicComplaintForm, company: Company) -> dict[str, object]:
    return {"form": form, "company": company, "first_response_hours": settings.COMPLAINT_FIRST_RESPONSE_HOURS}


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def complaint_status(request: HttpRequest) -> HttpResponse:
    company = public.public_company()
    if company is None:
        return _closed(request)
    form = StatusForm(request.POST or None, initial={"number": request.GET.get("number", "")[:20]})
    context: dict[str, object] = {"form": form, "company": company}
    if request.method == "POST" and form.is_valid():
        try:
            context["status"] = public.lookup(
                form.cleaned_data["number"], form.cleaned_data["last4"], company=company, ip=public.client_ip(request)
            )
        except public.LookupRefused as exc:
            context["refusal"] = exc.message
            return render(request, "complaints/public/status.html", context, status=400)
    return render(request, "complaints/public/status.html", context, status=400 if form.errors else 200)
