"""20 concurrent issues on PostgreSQL cannot overdraw a stock of 10 (threads, each with its
own connection, released together by a barrier): exactly 10 succeed, 10 are refused as
out of stock, and the stock ends at 0, never below."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from crm.service import services
from crm.service.models import GiftIssue, GiftStock, Occasion, StockMovement

THREADS = 20


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_never_overdraw(stocked, consultant, project, customer):
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def issue(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.issue_gift(
                stocked, actor=consultant, project=project, quantity=1, occasion=Occasion.EVENT, customer=customer
            )
            outcome = "issued"
        except services.OutOfStock:
            outcome = "refused"
        except BaseException as exc:
            outcome = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["issued"] * 10 + ["refused"] * 10
    assert GiftStock.objects.get(gift=stocked, project=project).quantity == 0
    assert GiftIssue.objects.count() == 10
    balances = sorted(StockMovement.objects.filter(kind="issue").values_list("balance", flat=True))
    assert balances == list(range(10))
