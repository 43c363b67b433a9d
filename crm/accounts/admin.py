from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from crm.accounts.models import Company, Department, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ["username", "display_name", "team", "is_active", "last_login"]
    list_filter = ["groups", "team", "is_active"]
    search_fields = ["username", "display_name"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("组织", {"fields": ("company", "department", "team", "projects", "display_name", "mobile")}),
    )
    filter_horizontal = ("groups", "user_permissions", "projects")


admin.site.register(Company)
admin.site.register(Department)
admin.site.register(Team)
