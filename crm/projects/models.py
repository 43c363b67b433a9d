"""Projects (楼盘), their buildings and units."""

from __future__ import annotations

from django.db import models


class Project(models.Model):
    company = models.ForeignKey(
        "accounts.Company", on_delete=models.PROTECT, related_name="projects", verbose_name="公司"
    )
    name = models.CharField("楼盘名称", max_length=100)
    code = models.CharField("楼盘编码", max_length=20, help_text="用于客户编号等，如 JHY")
    city = models.CharField("城市", max_length=30, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    sales_phone = models.CharField("销售热线", max_length=30, blank=True)
    # The move-in greeting names both (seed 001: 项目客服电话, 项目物业管理处电话); a
    # message whose phone is blank is held until it is filled in, never sent with a gap.
    service_phone = models.CharField("客服电话", max_length=30, blank=True, help_text="客户关系中心电话")
    property_phone = models.CharField("物业电话", max_length=30, blank=True, help_text="物业管理中心电话")
    is_active = models.BooleanField("在售", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "楼盘"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="uniq_project_name"),
            models.UniqueConstraint(fields=["company", "code"], name="uniq_project_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="buildings", verbose_name="楼盘")
    name = models.CharField("楼栋", max_length=30)
    floors = models.PositiveSmallIntegerField("层数", default=1)

    class Meta:
        verbose_name = verbose_name_plural = "楼栋"
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_building_name")]

    def __str__(self) -> str:
        return f"{self.project.name} {self.name}"


class Unit(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", "可售"
        RESERVED = "reserved", "已认购"
        SOLD = "sold", "已签约"
        DELIVERED = "delivered", "已交房"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="units", verbose_name="楼盘")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="units", verbose_name="楼栋")
    number = models.CharField("房号", max_length=20)
    layout = models.CharField("户型", max_length=30, blank=True, help_text="如 三室两厅两卫")
    area = models.DecimalField("建筑面积(㎡)", max_digits=8, decimal_places=2, null=True, blank=True)
    price = models.DecimalField("总价(元)", max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.AVAILABLE)

    class Meta:
        verbose_name = verbose_name_plural = "房源"
        ordering = ["building", "number"]
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="uniq_unit_number")]

    def __str__(self) -> str:
        return f"{self.building} {self.number}"

    @property
    def label(self) -> str:
        return f"{self.building.name}-{self.number}"
