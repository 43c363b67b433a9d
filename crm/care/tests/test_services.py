"""Care services on their own: deciding drafts and opting out (the pages are in test_views)."""

from datetime import date

import pytest

from crm.care import services
from crm.care.models import Draft, OutboundMessage
from crm.care.rules import Trigger
from crm.care.tests.conftest import local
from crm.core.errors import DomainError
from crm.core.models import AuditLog
from crm.customers.models import TimelineEvent

SEND_ON = date(2026, 9, 25)  # 中秋
BEFORE = local(date(2026, 9, 24), 17)


@pytest.fixture
def construction_draft(owner, project):
    """A draft with its {进度} still blank, as the planning job writes it."""
    rule = services.rule_for(project.pk, Trigger.CONSTRUCTION)
    return services.create_draft(rule, occasion=SEND_ON.isoformat(), send_on=SEND_ON)


def filled(draft):
    return draft.text.replace("{进度}", "完成主体结构封顶")


class TestEditAndApprove:
    def test_the_approvers_edit_and_approval_queue_the_edited_text(self, construction_draft, approver, owner):
        queued = services.edit_and_approve_draft(
            construction_draft, actor=approver, text=filled(construction_draft), comment="同意", now=BEFORE
        )
        assert queued == 1
        construction_draft.refresh_from_db()
        assert construction_draft.status == Draft.Status.APPROVED
        assert (construction_draft.decided_by, construction_draft.comment) == (approver, "同意")
        [message] = OutboundMessage.objects.filter(draft=construction_draft)
        assert message.customer == owner
        assert message.text == construction_draft.text
        assert "完成主体结构封顶" in message.text

    def test_a_refused_approval_undoes_the_edit(self, construction_draft, approver):
        original = construction_draft.text
        typed = filled(construction_draft).replace("请您持续关注", "预计{日期}交付")
        with pytest.raises(DomainError, match="未填写") as exc:
            services.edit_and_approve_draft(construction_draft, actor=approver, text=typed, now=BEFORE)
        assert exc.value.field == "text"
        construction_draft.refresh_from_db()
        assert (construction_draft.status, construction_draft.text) == (Draft.Status.PENDING, original)

    def test_past_the_send_window_nothing_is_edited_or_queued(self, construction_draft, approver):
        original = construction_draft.text
        with pytest.raises(DomainError, match="已过发送时间"):
            services.edit_and_approve_draft(
                construction_draft, actor=approver, text=filled(construction_draft), now=local(SEND_ON, 20)
            )
        construction_draft.refresh_from_db()
        assert construction_draft.text == original
        assert not OutboundMessage.objects.exists()

    def test_care_staff_may_edit_but_not_approve(self, construction_draft, service):
        original = construction_draft.text
        with pytest.raises(DomainError, match="审批人"):
            services.edit_and_approve_draft(
                construction_draft, actor=service, text=filled(construction_draft), now=BEFORE
            )
        construction_draft.refresh_from_db()
        assert construction_draft.text == original
        services.edit_draft(construction_draft, actor=service, text=filled(construction_draft))
        construction_draft.refresh_from_db()
        assert "完成主体结构封顶" in construction_draft.text
        assert construction_draft.status == Draft.Status.PENDING

    def test_an_unchanged_text_is_not_written_even_once_decided(self, construction_draft, approver):
        services.reject_draft(construction_draft, actor=approver, comment="进度待确认")
        services.edit_draft(construction_draft, actor=approver, text=construction_draft.text)
        with pytest.raises(DomainError, match="只有待审批"):
            services.edit_draft(construction_draft, actor=approver, text=filled(construction_draft))
        with pytest.raises(DomainError, match="已审批"):
            services.edit_and_approve_draft(
                construction_draft, actor=approver, text=construction_draft.text, now=BEFORE
            )


class TestOptOut:
    def test_opting_out_marks_the_customer_and_cancels_what_is_scheduled(self, owner, consultant):
        assert services.opt_out(owner, actor=consultant, source="客户来电要求") == 0
        owner.refresh_from_db()
        assert owner.has_opted_out
        assert owner.opted_out_at is not None
        event = owner.events.filter(kind=TimelineEvent.Kind.CONSENT).latest("id")
        assert event.summary == "退订短信（客户来电要求），取消待发短信 0 条"
        assert AuditLog.objects.filter(customer_id=owner.pk, summary="退订短信：客户来电要求").exists()

    def test_opting_in_again_needs_a_source_and_clears_the_opt_out(self, owner, consultant):
        services.opt_out(owner, actor=None, source="短信回复“TD”")
        with pytest.raises(DomainError, match="重新同意的方式"):
            services.opt_in_again(owner, actor=consultant, source=" ")
        services.opt_in_again(owner, actor=consultant, source="电话确认")
        owner.refresh_from_db()
        assert (owner.has_opted_out, owner.opted_out_at) == (False, None)
        assert owner.events.filter(kind=TimelineEvent.Kind.CONSENT).latest("id").summary == "恢复接收短信（电话确认）"
