"""The workbench: each person's home page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from crm.accounts.http import AuthedHttpRequest
from crm.workbench.composition import workbench_for


def workbench(request: AuthedHttpRequest) -> HttpResponse:
    bench = workbench_for(request.user, today=timezone.localdate())
    return render(
        request,
        "workbench/workbench.html",
        {"workbench": bench, "today": bench.today, "cards": bench.cards, "card": bench.card, "stats": bench.stats},
    )
