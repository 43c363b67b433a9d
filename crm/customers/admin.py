from django.contrib import admin

from crm.customers.models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["name", "company"]
    search_fields = ["name"]
