"""Demo rows of 客户活动: a festival tea party held ten days ago (invited by phone, replies,
check-ins and gifts), a site tour in five days with its invitations queued in the care
outbox, and a seminar still being prepared."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from crm.accounts.models import Company, User
from crm.customers.models import Customer, Stage
from crm.events import services
from crm.events.models import Event, Invitee
from crm.lib.dates import at, local_day
from crm.projects.models import Project
from crm.service.models import Gift


def seed(company: Company, seed_value: int) -> int:
    organiser = User.objects.get(company=company, username="service1")
    now = timezone.now()
    today = local_day(now)
    project = Project.objects.filter(company=company, pk__in=organiser.project_ids).order_by("id").first()
    if project is None:
        return 0
    owners = Customer.objects.filter(company=company, project=project, stage=Stage.OWNER, is_archived=False)
    made = 0

    past_on = today - timedelta(days=10)
    party_at = at(past_on - timedelta(days=14), time(9, 0))
    party = services.create_event(
        project,
        actor=organiser,
        title="业主中秋茶话会",
        kind=Event.Kind.FESTIVAL,
        starts_on=past_on,
        starts_at_time=time(15, 0),
        place=f"{project.name}会所",
        capacity=30,
        description="茶话会与游园活动，以游戏形式发放活动礼品（种子001：现场活动礼品赠送）。",
        now=party_at,
    )
    services.add_invitees(party, owners.order_by("id")[:15], actor=organiser, now=party_at)
    services.publish_event(party, actor=organiser)
    gift = Gift.objects.filter(company=company, name="中秋月饼礼盒").first()
    for i, invitee in enumerate(Invitee.objects.filter(event=party).order_by("id")):
        reply = Invitee.Rsvp.NO if i % 5 == 4 else Invitee.Rsvp.YES
        services.record_rsvp(invitee, actor=organiser, rsvp=reply, now=party_at + timedelta(days=2))
        if reply == Invitee.Rsvp.YES and i % 3 != 2:
            services.check_in(invitee, actor=organiser, now=at(past_on, time(14, 50)))
            if gift is not None and i < 6:
                services.issue_event_gift(
                    party, actor=organiser, invitee=invitee, gift=gift, now=at(past_on, time(16, 0))
                )
    services.finish_event(party, actor=organiser)
    made += 1

    tour = services.create_event(
        project,
        actor=organiser,
        title="工地开放日",
        kind=Event.Kind.SITE_TOUR,
        starts_on=today + timedelta(days=5),
        starts_at_time=time(9, 30),
        place=f"{project.name}工地接待处",
        capacity=40,
        description="参观施工现场，讲解客户看不到的施工过程和建筑材料（种子004：组织参观）。",
        now=now,
    )
    services.add_invitees(tour, owners.order_by("-id")[:20], actor=organiser, now=now)
    services.send_invitations(tour, actor=organiser, now=now)
    made += 1

    services.create_event(
        project,
        actor=organiser,
        title="购房政策讲座",
        kind=Event.Kind.SEMINAR,
        starts_on=today + timedelta(days=20),
        starts_at_time=time(14, 0),
        place="售楼处二楼",
        description="首次置业者：购房政策解读、贷款方案介绍（种子003）。",
        now=now,
    )
    return made + 1
