"""Reads of customer data, always scoped to the user (crm.accounts.access)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from crm.accounts import access
from crm.customers.models import Customer, Deal, TimelineEvent
from crm.lib.dates import local_midnight

if TYPE_CHECKING:
    from crm.accounts.models import User

_DIGITS = re.compile(r"[\d\s\-]+")
_NUMBER = re.compile(r"KH\d+", re.IGNORECASE)


def customer_scope_q(user: User, *, prefix: str = "") -> Q:
    """The access rule over Customer (or, with ``prefix="customer__"``, over a model
    pointing at one): the customer's company, owner, VIP advisor and project."""
    return access.scope_q(
        user,
        company=f"{prefix}company",
        owner=f"{prefix}owner",
        advisor=f"{prefix}advisor",
        project=f"{prefix}project",
    )


def through_customer(path: str = "customer") -> tuple[str, QuerySet[Customer]]:
    """For ``access.scope_q(..., owner="owner", advisor="advisor", through=...)`` on a model
    whose owner and VIP advisor are those of the customer it points at (complaints, visit
    tasks, gift issues): the people part as a semi-join on the customers, not a join."""
    return path, Customer.objects.all()


def customers_visible_to(user: User, *, include_archived: bool = False) -> QuerySet[Customer]:
    qs = Customer.objects.filter(customer_scope_q(user))
    if not include_archived:
        qs = qs.filter(is_archived=False)
    return qs


def visible_holders(user: User, ids: Iterable[int]) -> QuerySet[Customer]:
    """The one rule for naming the holder of a mobile someone registers again (form, API,
    import): of these customers, those the user may see, archived ones included (their
    number stays taken). A message may name only these; anyone else learns only that the
    number is taken."""
    return customers_visible_to(user, include_archived=True).filter(pk__in=list(ids))


def get_customer_for_user(user: User, pk: int) -> Customer:
    """The customer, or 404 when it does not exist or lies outside the user's scope."""
    customer = (
        Customer.objects.filter(customer_scope_q(user), pk=pk)
        .select_related("owner", "advisor", "project", "referrer", "merged_into")
        .first()
    )
    if customer is None:
        raise Http404("客户不存在或无权查看")
    return customer


def search_customers(qs: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Match a customer number, a mobile fragment (digits) or a name fragment.

    ``contains`` (LIKE '%x%'), not ``icontains``: case means nothing for Chinese and
    digits, and on PostgreSQL a plain LIKE can use the pg_trgm GIN indexes (3+ chars).
    """
    text = (text or "").strip()
    if not text:
        return qs
    if _NUMBER.fullmatch(text):
        return qs.filter(number__startswith=text.upper())
    if _DIGITS.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        # "mobile2 <> ''": the backup mobile's trigram index covers only non-empty ones (0007).
        return qs.filter(Q(mobile__contains=digits) | (Q(mobile2__contains=digits) & ~Q(mobile2="")))
    return qs.filter(name__contains=text)


def deals_visible_to(user: User) -> QuerySet[Deal]:
    return Deal.objects.filter(customer_scope_q(user, prefix="customer__"))


def get_deal_for_user(user: User, pk: int) -> Deal:
    deal = (
        deals_visible_to(user)
        .select_related("customer", "unit__building", "project", "consultant")
        .filter(pk=pk)
        .first()
    )
    if deal is None:
        raise Http404("成交记录不存在或无权查看")
    return deal


@dataclass(slots=True)
class TimelineRow:
    """One entry of the 360° timeline as plain values (up to 100 a page: an event and its
    actor as model instances cost more than their query)."""

    kind: str
    summary: str
    occurred_at: datetime
    actor_display_name: str | None
    actor_username: str | None

    @property
    def kind_label(self) -> str:
        return _KIND_LABELS.get(self.kind, self.kind)

    @property
    def actor(self) -> str:
        """The actor as str(User) shows them; "系统" for what no one did by hand."""
        return self.actor_display_name or self.actor_username or "系统"


_KIND_LABELS = {value: str(label) for value, label in TimelineEvent.Kind.choices}


def timeline_for(customer: Customer, *, limit: int = 100) -> list[TimelineRow]:
    """The customer's latest events, newest first (index timeline_customer)."""
    rows = customer.events.order_by("-occurred_at", "-id").values_list(
        "kind", "summary", "occurred_at", "actor__display_name", "actor__username"
    )[:limit]
    return [TimelineRow(*values) for values in rows]


@dataclass(slots=True)
class ListRow:
    """One line of the customer list: plain values instead of a Customer with its owner,
    project and tag instances (the list's rows cost more in model objects than in SQL)."""

    pk: int
    name: str
    number: str
    mobile: str
    stage: str
    grade: str
    is_vip: bool
    is_archived: bool
    source_channel: str
    created_at: datetime
    project_name: str
    owner_display_name: str
    owner_username: str
    tags: list[str] = field(default_factory=list)

    @property
    def owner(self) -> str:
        return self.owner_display_name or self.owner_username  # as str(User)


# ListRow's fields in order, but for its tags.
LIST_COLUMNS = (
    "pk",
    "name",
    "number",
    "mobile",
    "stage",
    "grade",
    "is_vip",
    "is_archived",
    "source_channel",
    "created_at",
    "project__name",
    "owner__display_name",
    "owner__username",
)


def list_rows(page: Iterable[tuple[Any, ...]]) -> list[ListRow]:
    """The page's rows (a ``values_list(*LIST_COLUMNS)`` slice) with their tags, by name."""
    rows = [ListRow(*values) for values in page]
    if rows:
        by_pk = {row.pk: row for row in rows}
        links = (
            Customer.tags.through.objects.filter(customer_id__in=by_pk)
            .order_by("tag__name")
            .values_list("customer_id", "tag__name")
        )
        for customer_id, name in links:
            by_pk[customer_id].tags.append(name)
    return rows


# ---------------------------------------------------------------- report packs (crm.reports)


def deal_ledgers_for_period(
    company_id: int, project_id: int | None, first: date, last: date
) -> dict[str, list[dict[str, Any]]]:
    """认购、签约客户台帐 of a company (or one project) for [first, last]: the deals
    subscribed and those contracted in the period, oldest first; a deal cancelled (退房) by
    the period's end says so. No user: the report pack (crm.reports) decides who sees it."""
    deals = Deal.objects.filter(company_id=company_id)
    if project_id is not None:
        deals = deals.filter(project_id=project_id)
    # Plain values, not model instances: a month of a large company has thousands of deals.
    fields = (
        "customer__number",
        "customer__name",
        "project__name",
        "unit__building__name",
        "unit__number",
        "consultant__display_name",
        "consultant__username",
        "price",
        "cancelled_on",
    )

    def rows(on_field: str) -> list[dict[str, Any]]:
        result = []
        period = deals.filter(**{f"{on_field}__gte": first, f"{on_field}__lte": last}).order_by(on_field, "id")
        for on, number, name, project, building, unit, display, username, price, cancelled in period.values_list(
            on_field, *fields
        ):
            result.append(
                {
                    "on": on,
                    "customer_number": number,
                    "customer_name": name,
                    "project": project,
                    "unit": f"{building} {unit}",
                    "consultant": display or username,
                    "price": price,
                    "cancelled": cancelled is not None and cancelled <= last,
                }
            )
        return result

    return {"subscriptions": rows("subscribed_on"), "contracts": rows("contracted_on")}


# ---------------------------------------------------------------- KPI measures (crm.kpis)

# The customer figures of the KPIs (docs/kpis.md) and the customer list behind them share
# these conditions (the list's ?measure=…&start=…&end=…), over ``customers_visible_to``:
#   customers  registered (录入) on or before the period's last day (the 投诉率 base)
#   owners     with an active deal subscribed on or before the last day (成交客户)
#   retained   owners who, within the period, subscribed another unit (a second active
#              deal, one of them subscribed in the period: 复购) or brought a customer
#              registered in the period (Customer.referrer: 老带新)
#   referred   customers registered in the period who were referred by another (老带新;
#              with the list's owner filter: a consultant's referrals on the scorecard)
KPI_MEASURES: dict[str, str] = {
    "customers": "期末客户（已录入、未归档）",
    "owners": "期末成交客户",
    "retained": "复购或推荐的成交客户",
    "referred": "老带新推荐的新客户",
}


def kpi_q(measure: str, *, start: date, end: date) -> Q:
    """The measure's condition. The owner and retention conditions are uncorrelated
    ``IN (subquery)``s: inside an aggregate's FILTER PostgreSQL probes them as one hashed
    set, where a correlated EXISTS ran once per customer (1.8 s at 100,000 customers)."""
    until = local_midnight(end + timedelta(days=1))
    if measure == "customers":
        return Q(created_at__lt=until)
    if measure == "referred":
        return Q(referrer__isnull=False, created_at__gte=local_midnight(start), created_at__lt=until)
    owner = Q(pk__in=Deal.objects.filter(status=Deal.Status.ACTIVE, subscribed_on__lte=end).values("customer_id"))
    if measure == "owners":
        return owner
    if measure == "retained":
        # A deal subscribed in the period while another active deal (on another unit)
        # exists by the period's end: the customer owns two units, one bought in the period.
        other_unit = Deal.objects.filter(
            customer_id=OuterRef("customer_id"), status=Deal.Status.ACTIVE, subscribed_on__lte=end
        ).exclude(unit_id=OuterRef("unit_id"))
        repurchasers = (
            Deal.objects.filter(status=Deal.Status.ACTIVE, subscribed_on__gte=start, subscribed_on__lte=end)
            .filter(Exists(other_unit))
            .values("customer_id")
        )
        referrers = Customer.objects.filter(
            referrer__isnull=False, created_at__gte=local_midnight(start), created_at__lt=until
        ).values("referrer_id")
        return owner & (Q(pk__in=repurchasers) | Q(pk__in=referrers))
    return access.NOTHING


def kpi_people_parts(user: User) -> list[QuerySet[Customer]]:
    """``customers_visible_to`` without the project part of the scope (own, team, VIP
    advised): with a project scope, the customers outside the user's projects that the
    dashboard counts live beside the month counts (crm.kpis.counting). One part."""
    people = access.scope_q(user, company="company", owner="owner", advisor="advisor")
    return [Customer.objects.filter(people, is_archived=False)]


def kpi_company_customers(company_id: int) -> QuerySet[Customer]:
    """The company's customers a KPI counts (not archived, as ``customers_visible_to``)."""
    return Customer.objects.filter(company_id=company_id, is_archived=False)


def kpi_rows(user: User, measure: str, *, start: date, end: date) -> QuerySet[Customer]:
    return customers_visible_to(user).filter(kpi_q(measure, start=start, end=end))
