from django.contrib import admin

from crm.projects.models import Building, Project, Unit
from crm.projects.selectors import UNIT_ORDER


class BuildingInline(admin.TabularInline[Building, Project]):
    model = Building
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ["name", "code", "city", "is_active"]
    search_fields = ["name", "code"]
    inlines = [BuildingInline]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin[Unit]):
    list_display = ["__str__", "layout", "area", "price", "status"]
    list_filter = ["project", "status"]
    search_fields = ["number"]
    list_select_related = ["building__project"]
    ordering = UNIT_ORDER  # 1号楼-704 before 1号楼-1303
