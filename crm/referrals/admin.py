"""老带新 in the admin: read-only (every change goes through crm.referrals.services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm.referrals.models import Referral, Reward


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnly):
    list_display = ("id", "referrer", "referred", "channel", "visited_on", "created_at")
    list_filter = ("channel",)
    raw_id_fields = ("referrer", "referred")


@admin.register(Reward)
class RewardAdmin(ReadOnly):
    list_display = ("id", "referral", "kind", "amount", "state", "proposed_at")
    list_filter = ("state", "kind")
