"""Customer and deal services: dedup, merge, reassignment, archive, consent, reveal, milestones."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from crm.core.errors import DomainError
from crm.core.models import AuditLog
from crm.customers import services
from crm.customers.models import ArchiveReason, Customer, CustomerProfile, Deal, FamilyMember, Stage, TimelineEvent
from crm.lib import crypto
from crm.projects.models import Unit

Kind = TimelineEvent.Kind


def kinds(customer):
    return list(customer.events.order_by("id").values_list("kind", flat=True))


class TestCreate:
    def test_a_new_customer_gets_a_number_an_audit_row_and_a_timeline_event(self, customer, consultant):
        assert customer.number == "KH00000001"
        assert customer.mobile == "13812345678"
        assert kinds(customer) == [Kind.CREATED]
        assert AuditLog.objects.filter(action="create", customer_id=customer.pk, actor=consultant).exists()
        # The archive row is written with the first item recorded in it, not empty beforehand.
        assert not CustomerProfile.objects.filter(customer=customer).exists()
        services.update_profile(customer, actor=consultant, address="郑州市金水区花园路88号")
        assert CustomerProfile.objects.get(customer=customer).address == "郑州市金水区花园路88号"

    def test_the_registering_user_is_the_default_owner_and_their_company_the_company(self, consultant, project):
        c = services.create_customer(
            actor=consultant, name="周一", mobile="13900000001", project=project, source_channel="visit"
        )
        assert (c.owner, c.company, c.project, c.created_by) == (consultant, consultant.company, project, consultant)

    def test_consent_without_a_source_is_recorded_with_the_callers_default(self, consultant, project):
        given = {"name": "周二", "project": project, "source_channel": "visit", "consent_care": True}
        c = services.create_customer(actor=consultant, mobile="13900000002", default_consent_source="接口", **given)
        assert c.consent_source == "接口"
        assert c.consents.get(purpose="care").source == "接口"
        stated = services.create_customer(
            actor=consultant, mobile="13900000003", default_consent_source="接口", consent_source="登记表", **given
        )
        assert stated.consent_source == "登记表"
        unconsented = services.create_customer(
            actor=consultant, mobile="13900000004", default_consent_source="接口", **given | {"consent_care": False}
        )
        assert unconsented.consent_source == ""

    def test_registering_needs_a_project_and_a_company(self, consultant, django_user_model):
        with pytest.raises(DomainError, match="意向楼盘") as exc:
            services.create_customer(actor=consultant, name="周三", mobile="13900000005", source_channel="visit")
        assert exc.value.field == "project"
        homeless = django_user_model.objects.create(username="homeless")
        with pytest.raises(DomainError, match="未关联公司"):
            services.create_customer(actor=homeless, name="周三", mobile="13900000005", source_channel="visit")
        assert not Customer.objects.exists()

    def test_numbers_keep_counting_per_company(self, make_customer):
        numbers = [make_customer(f"客户{i}").number for i in range(3)]
        assert numbers == ["KH00000001", "KH00000002", "KH00000003"]

    def test_a_duplicate_mobile_in_another_format_is_detected_with_the_existing_record(self, customer, make_customer):
        with pytest.raises(services.DuplicateCustomer) as exc:
            make_customer("张三丰", mobile="+86 138-1234-5678")
        assert exc.value.existing == customer
        assert exc.value.field == "mobile"
        assert Customer.objects.count() == 1

    def test_a_mobile_known_as_someones_backup_number_is_a_duplicate(self, make_customer):
        first = make_customer("李四", mobile="13900000001", mobile2="13700000002")
        with pytest.raises(services.DuplicateCustomer) as exc:
            make_customer("李四妻", mobile="13700000002")
        assert exc.value.existing == first

    def test_missing_name_is_refused(self, make_customer):
        with pytest.raises(DomainError, match="姓名不能为空") as exc:
            make_customer("  ")
        assert exc.value.field == "name"

    def test_a_landline_is_not_a_mobile(self, make_customer):
        with pytest.raises(DomainError, match="固定电话"):
            make_customer("王五", mobile="01088886666")

    def test_id_numbers_are_stored_encrypted_with_a_blind_index(self, make_customer):
        c = make_customer("赵六", id_number="11010519491231002X")
        assert "11010519491231002X" not in c.id_number_encrypted
        assert c.id_number_hint == "1101**********002X"
        assert Customer.objects.get(id_number_hash=crypto.blind_index("11010519491231002X")) == c

    def test_a_lunar_birthday_gets_its_lunar_month_and_day(self, make_customer):
        # 1980-02-16 was 正月初一 (Spring Festival 1980).
        c = make_customer("钱七", birthday_on=date(1980, 2, 16), birthday_is_lunar=True)
        assert (c.lunar_month, c.lunar_day, c.lunar_is_leap) == (1, 1, False)
        assert c.birth_mmdd == ""

    def test_a_lunar_birthday_born_in_a_leap_month_keeps_the_leap_month(self, make_customer, customer, consultant):
        # 2023-04-01 was 闰二月十一.
        c = make_customer("闰月", birthday_on=date(2023, 4, 1), birthday_is_lunar=True)
        assert (c.lunar_month, c.lunar_day, c.lunar_is_leap) == (2, 11, True)
        member = services.add_family_member(
            customer,
            actor=consultant,
            relation=FamilyMember.Relation.SPOUSE,
            name="李梅",
            birthday_on=date(2023, 4, 1),
            birthday_is_lunar=True,
        )
        assert (member.lunar_month, member.lunar_day, member.lunar_is_leap) == (2, 11, True)

    def test_a_solar_birthday_is_indexed_by_month_and_day(self, make_customer):
        assert make_customer("孙八", birthday_on=date(1985, 9, 23)).birth_mmdd == "0923"


class TestUpdate:
    def test_stage_change_is_audited_and_on_the_timeline(self, customer, consultant):
        services.update_customer(customer, actor=consultant, stage=Stage.INTERESTED, grade="A")
        assert kinds(customer)[-2:] == [Kind.STAGE, Kind.EDITED]
        log = AuditLog.objects.filter(action="update", customer_id=customer.pk).get()
        assert log.changes["stage"] == ["prospect", "interested"]
        assert log.changes["grade"] == ["C", "A"]

    def test_changing_to_another_customers_mobile_is_refused(self, customer, make_customer, consultant):
        other = make_customer("李四")
        with pytest.raises(services.DuplicateCustomer):
            services.update_customer(other, actor=consultant, mobile="13812345678")

    def test_saving_without_changes_writes_nothing(self, customer, consultant):
        before = AuditLog.objects.count()
        services.update_customer(customer, actor=consultant, name="张三")
        assert AuditLog.objects.count() == before


class TestReassignArchiveMerge:
    def test_bulk_reassignment_logs_each_customer(self, make_customer, consultant, teammate, leader):
        customers = [make_customer(f"客户{i}") for i in range(3)]
        moved = services.reassign_customers(customers, actor=leader, new_owner=teammate, reason="离职交接")
        assert moved == 3
        assert Customer.objects.filter(owner=teammate).count() == 3
        assert AuditLog.objects.filter(action="reassign", reason="离职交接").count() == 3
        assert all(kinds(c)[-1] == Kind.OWNER for c in customers)

    def test_archiving_keeps_the_record_with_its_reason(self, customer, leader):
        services.archive_customer(customer, actor=leader, reason=ArchiveReason.WRONG_NUMBER, note="空号")
        customer.refresh_from_db()
        assert customer.is_archived
        assert customer.archived_reason == "wrong_number"
        assert Customer.objects.filter(pk=customer.pk).exists()
        with pytest.raises(DomainError, match="已归档"):
            services.archive_customer(customer, actor=leader, reason=ArchiveReason.OTHER)

    def test_bulk_archiving_skips_customers_already_archived(self, make_customer, leader):
        archived = services.archive_customer(make_customer("旧档"), actor=leader, reason=ArchiveReason.LOST)
        fresh = [make_customer(f"客户{i}") for i in range(2)]
        count = services.archive_customers(
            [archived, *fresh], actor=leader, reason=ArchiveReason.WRONG_NUMBER, note="空号"
        )
        assert count == 2
        for c in fresh:
            c.refresh_from_db()
            assert (c.is_archived, c.archived_reason, c.archived_note) == (True, "wrong_number", "空号")
            assert kinds(c)[-1] == Kind.ARCHIVED
        archived.refresh_from_db()
        assert archived.archived_reason == ArchiveReason.LOST
        assert AuditLog.objects.filter(action="archive", actor=leader).count() == 3

    def test_bulk_archiving_with_an_unknown_reason_archives_none(self, make_customer, leader):
        customers = [make_customer(f"客户{i}") for i in range(2)]
        with pytest.raises(DomainError, match="归档原因"):
            services.archive_customers(customers, actor=leader, reason="whatever")
        assert not Customer.objects.filter(is_archived=True).exists()

    def test_archive_needs_a_known_reason(self, customer, leader):
        with pytest.raises(DomainError, match="归档原因"):
            services.archive_customer(customer, actor=leader, reason="whatever")

    def test_restore_brings_an_archived_customer_back(self, customer, leader):
        services.archive_customer(customer, actor=leader, reason=ArchiveReason.LOST)
        services.restore_customer(customer, actor=leader)
        customer.refresh_from_db()
        assert not customer.is_archived
        assert kinds(customer)[-1] == Kind.RESTORED

    def test_merge_moves_every_related_record_and_archives_the_duplicate(
        self, make_customer, director, consultant, unit
    ):
        target = make_customer("张三", mobile="13812345678")
        source = make_customer("张三(重复)", mobile="13912345678", birthday_on=date(1980, 5, 6))
        deal = services.create_deal(actor=consultant, customer=source, unit=unit, subscribed_on=date(2026, 11, 1))
        services.add_family_member(source, actor=consultant, relation="spouse", name="李梅")
        services.merge_customers(target, source, actor=director)
        target.refresh_from_db()
        source.refresh_from_db()
        assert Deal.objects.get(pk=deal.pk).customer == target
        assert FamilyMember.objects.get(name="李梅").customer == target
        assert target.mobile2 == "13912345678"
        assert target.birthday_on == date(1980, 5, 6)
        assert target.stage == Stage.OWNER
        assert source.is_archived
        assert source.merged_into == target
        assert source.events.count() == 0
        assert Kind.MERGED in kinds(target)
        assert AuditLog.objects.filter(action="merge", customer_id=target.pk).exists()

    def test_a_merged_duplicate_points_new_registrations_at_the_survivor(self, make_customer, director):
        target = make_customer("张三", mobile="13812345678")
        source = make_customer("张三", mobile="13912345678")
        services.merge_customers(target, source, actor=director)
        with pytest.raises(services.DuplicateCustomer) as exc:
            make_customer("张三", mobile="13912345678")
        assert exc.value.existing == target

    def test_a_duplicate_registration_is_folded_into_the_existing_record(self, customer, consultant):
        services.merge_intake(
            customer,
            actor=consultant,
            mobiles=["not a number", "+86 138-1234-5678"],
            name=" 张三丰 ",
            note="活动现场" + "。" * 300,
            source_channel="event",
        )
        assert Customer.objects.count() == 1
        event = customer.events.get(kind=Kind.MERGED)
        assert event.summary.startswith("重复登记已合并（张三丰，渠道：")
        assert len(event.summary) < 230  # the note is kept to the form's 200 characters
        assert AuditLog.objects.filter(action="merge", customer_id=customer.pk, actor=consultant).exists()

    def test_an_unknown_channel_is_left_out_of_the_merged_registration(self, customer, consultant):
        services.merge_intake(customer, actor=consultant, mobiles=["13812345678"], source_channel="carrier pigeon")
        assert customer.events.get(kind=Kind.MERGED).summary == "重复登记已合并（张三）"

    def test_a_registration_whose_mobiles_no_longer_match_is_not_merged(self, customer, make_customer, consultant):
        other = make_customer("李四")
        for mobiles in ([other.mobile], ["13900000000", ""], []):
            with pytest.raises(DomainError, match="不再重复") as exc:
                services.merge_intake(customer, actor=consultant, mobiles=mobiles, name="张三丰")
            assert exc.value.field == "mobile"
        assert not customer.events.filter(kind=Kind.MERGED).exists()
        assert not AuditLog.objects.filter(action="merge").exists()

    def test_a_customer_cannot_be_merged_with_itself(self, customer, director):
        with pytest.raises(DomainError, match="自身"):
            services.merge_customers(customer, customer, actor=director)


class TestConsentAndReveal:
    def test_withdrawing_consent_takes_effect_at_once_and_is_recorded(self, make_customer, service):
        c = make_customer("周九", consent_care=True, consent_source="登记表")
        services.set_consent(c, actor=service, purpose="care", granted=False, source="电话")
        c.refresh_from_db()
        assert c.consent_care is False
        assert list(c.consents.values_list("purpose", "is_granted")) == [("care", False), ("care", True)]
        assert kinds(c)[-1] == Kind.CONSENT

    def test_revealing_a_mobile_needs_a_reason_and_is_audited(self, customer, consultant):
        with pytest.raises(DomainError, match="事由"):
            services.reveal_contact(customer, actor=consultant, field="mobile", reason=" ")
        value = services.reveal_contact(customer, actor=consultant, field="mobile", reason="回访客户", ip="10.0.0.8")
        assert value == "13812345678"
        log = AuditLog.objects.get(action="reveal")
        assert (log.actor, log.customer_id, log.reason, log.ip) == (consultant, customer.pk, "回访客户", "10.0.0.8")
        assert log.changes == {"field": "mobile"}

    def test_a_role_without_the_permission_cannot_reveal(self, customer, supervisor):
        with pytest.raises(DomainError, match="权限"):
            services.reveal_contact(customer, actor=supervisor, field="mobile", reason="看看")
        assert not AuditLog.objects.filter(action="reveal").exists()

    def test_an_id_number_is_decrypted_only_on_reveal(self, make_customer, consultant):
        c = make_customer("吴十", id_number="11010519491231002X")
        assert (
            services.reveal_contact(c, actor=consultant, field="id_number", reason="签约核对") == "11010519491231002X"
        )


class TestOptOutFlag:
    def test_marking_an_opt_out_sets_the_flag_and_its_time_and_nothing_else(self, customer):
        at = timezone.now() - timedelta(minutes=5)
        assert services.mark_opted_out(customer, at=at) == 1
        customer.refresh_from_db()
        assert (customer.has_opted_out, customer.opted_out_at, customer.updated_at) == (True, at, at)
        assert kinds(customer) == [Kind.CREATED]  # why it happened is the caller's to record

    def test_clearing_an_opt_out_by_id(self, customer):
        services.mark_opted_out(customer.pk, at=timezone.now())
        assert services.clear_opt_out(customer.pk, at=timezone.now()) == 1
        customer.refresh_from_db()
        assert (customer.has_opted_out, customer.opted_out_at) == (False, None)
        assert services.mark_opted_out(0, at=timezone.now()) == 0


class TestDeals:
    def test_subscribing_reserves_the_unit_and_makes_the_customer_an_owner(self, customer, consultant, unit):
        deal = services.create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 11, 20))
        unit.refresh_from_db()
        customer.refresh_from_db()
        assert unit.status == Unit.Status.RESERVED
        assert customer.stage == Stage.OWNER
        assert deal.price == unit.price
        assert kinds(customer)[-2:] == [Kind.STAGE, Kind.DEAL]

    def test_an_archived_customer_cannot_subscribe(self, customer, consultant, leader, unit):
        services.archive_customer(customer, actor=leader, reason=ArchiveReason.LOST)
        with pytest.raises(DomainError, match="请先恢复"):
            services.create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 1, 5))
        assert not Deal.objects.exists()
        unit.refresh_from_db()
        assert unit.status == Unit.Status.AVAILABLE

    def test_a_unit_cannot_be_sold_twice(self, customer, make_customer, consultant, unit):
        services.create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 11, 20))
        with pytest.raises(DomainError, match="已被认购") as exc:
            services.create_deal(
                actor=consultant, customer=make_customer("李四"), unit=unit, subscribed_on=date(2026, 11, 21)
            )
        assert exc.value.field == "unit"

    def test_dates_out_of_order_are_refused_on_their_field(self, customer, consultant, unit):
        with pytest.raises(DomainError, match="签约日期不能早于认购日期") as exc:
            services.create_deal(
                actor=consultant,
                customer=customer,
                unit=unit,
                subscribed_on=date(2026, 11, 20),
                contracted_on=date(2026, 11, 1),
            )
        assert exc.value.field == "contracted_on"
        assert not Deal.objects.exists()
        unit.refresh_from_db()
        assert unit.status == Unit.Status.AVAILABLE

    def test_milestones_move_the_unit_status_and_land_on_the_timeline(self, customer, consultant, unit):
        deal = services.create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 1, 5))
        services.update_deal(deal, actor=consultant, contracted_on=date(2026, 1, 9))
        unit.refresh_from_db()
        assert unit.status == Unit.Status.SOLD
        services.update_deal(deal, actor=consultant, delivered_on=date(2026, 10, 30))
        unit.refresh_from_db()
        assert unit.status == Unit.Status.DELIVERED
        summaries = list(customer.events.filter(kind=Kind.MILESTONE).order_by("id").values_list("summary", flat=True))
        assert summaries == ["签约：2026-01-09（1号楼-1801）", "交房：2026-10-30（1号楼-1801）"]

    def test_move_in_needs_its_kind(self, customer, consultant, unit):
        deal = services.create_deal(
            actor=consultant,
            customer=customer,
            unit=unit,
            subscribed_on=date(2026, 1, 5),
            contracted_on=date(2026, 1, 9),
            delivered_on=date(2026, 10, 1),
        )
        with pytest.raises(DomainError, match="入住方式"):
            services.update_deal(deal, actor=consultant, moved_in_on=date(2026, 10, 3))

    def test_cancelling_frees_the_unit_and_keeps_the_deal(self, customer, make_customer, consultant, unit):
        deal = services.create_deal(actor=consultant, customer=customer, unit=unit, subscribed_on=date(2026, 11, 1))
        services.cancel_deal(deal, actor=consultant, reason="客户资金问题")
        unit.refresh_from_db()
        assert unit.status == Unit.Status.AVAILABLE
        assert Deal.objects.get(pk=deal.pk).status == Deal.Status.CANCELLED
        again = services.create_deal(
            actor=consultant, customer=make_customer("李四"), unit=unit, subscribed_on=date(2026, 11, 5)
        )
        assert again.pk != deal.pk
        with pytest.raises(DomainError, match="已退房"):
            services.update_deal(deal, actor=consultant, contracted_on=date(2026, 11, 6))


class TestFamily:
    def test_a_childs_birthday_needs_the_guardians_consent(self, customer, consultant):
        with pytest.raises(DomainError, match="监护人"):
            services.add_family_member(
                customer, actor=consultant, relation="child", name="小明", birthday_on=date(2018, 3, 1)
            )

    def test_a_spouse_with_a_birthday_is_kept_with_its_index(self, customer, consultant):
        m = services.add_family_member(
            customer, actor=consultant, relation="spouse", name="李梅", birthday_on=date(1986, 7, 7)
        )
        assert m.birth_mmdd == "0707"


def test_a_duplicate_backup_number_is_reported_on_the_backup_field(customer, make_customer):
    with pytest.raises(services.DuplicateCustomer) as exc:
        make_customer("李四", mobile="13900000009", mobile2="13812345678")
    assert exc.value.field == "mobile2"


def test_bulk_tagging_is_audited_and_skips_customers_already_tagged(make_customer, leader, company):
    from crm.customers.models import Tag

    tag = Tag.objects.create(company=company, name="学区需求")
    a, b = make_customer("甲"), make_customer("乙")
    a.tags.add(tag)
    assert services.tag_customers([a, b], actor=leader, tag=tag) == 1
    assert set(b.tags.values_list("name", flat=True)) == {"学区需求"}
    assert AuditLog.objects.filter(action="update", customer_id=b.pk).exists()
    assert not AuditLog.objects.filter(action="update", customer_id=a.pk).exists()


def test_childrens_information_needs_the_guardians_consent(customer, consultant):
    from django.utils import timezone

    from crm.customers.models import CompanyPrivacy

    CompanyPrivacy.objects.create(company_id=customer.company_id, archive_sensitive_fields=True)
    with pytest.raises(DomainError, match="监护人"):
        services.update_profile(customer, actor=consultant, children_status="女儿8岁，就读实验小学")
    profile = services.update_profile(
        customer, actor=consultant, children_status="女儿8岁，就读实验小学", children_consent_at=timezone.now()
    )
    assert profile.children_consent_at is not None
    services.update_profile(customer, actor=consultant, children_status="女儿9岁")  # consent already on file
