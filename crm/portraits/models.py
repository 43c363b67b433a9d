"""客户描摹 (customer portraits): seed 001 asks every consultant for three portraits a quarter
— the customer's industry, family structure, hobbies and interests, living situation —
analysed over the customer group. A portrait is structured (choices, so the quarter can be
counted per field and project) with free text beside each part.

The free text quotes the customer's personal life: it is in the PI registry and the
erasure plan blanks it (crm.privacy.erasure).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Industry(models.TextChoices):
    GOVERNMENT = "government", "政府机关/事业单位"
    FINANCE = "finance", "金融"
    IT = "it", "IT/互联网"
    EDUCATION = "education", "教育"
    MEDICAL = "medical", "医疗卫生"
    MANUFACTURING = "manufacturing", "制造业"
    REAL_ESTATE = "real_estate", "房地产/建筑"
    TRADE = "trade", "商贸/零售"
    BUSINESS_OWNER = "owner", "私营业主"
    FREELANCE = "freelance", "自由职业"
    RETIRED = "retired", "退休"
    OTHER = "other", "其他"


class FamilyStructure(models.TextChoices):
    SINGLE = "single", "单身"
    COUPLE = "couple", "二人世界"
    ONE_CHILD = "one_child", "三口之家"
    TWO_CHILDREN = "two_children", "二孩及以上家庭"
    THREE_GENERATIONS = "three_generations", "三代同堂"
    OTHER = "other", "其他"


class Hobby(models.TextChoices):
    SPORTS = "sports", "运动健身"
    TRAVEL = "travel", "旅游"
    READING = "reading", "阅读"
    ARTS = "arts", "音乐艺术"
    FOOD = "food", "美食"
    COLLECTING = "collecting", "收藏"
    TEA_CARDS = "tea_cards", "茶道/棋牌"
    GARDENING = "gardening", "园艺"
    OTHER = "other", "其他"


class LivingSituation(models.TextChoices):
    RENTING = "renting", "租房"
    OWN_HOME = "own_home", "自有住房（一套）"
    SEVERAL_HOMES = "several_homes", "自有住房（多套）"
    WITH_PARENTS = "with_parents", "与父母同住"
    DORMITORY = "dormitory", "单位宿舍"
    OTHER = "other", "其他"


class PurchaseMotive(models.TextChoices):
    FIRST_HOME = "first_home", "首次置业"
    UPGRADE = "upgrade", "改善居住"
    INVESTMENT = "investment", "投资"
    SCHOOL = "school", "子女教育"
    RETIREMENT = "retirement", "养老"
    WEDDING = "wedding", "婚房"
    OTHER = "other", "其他"


class DecisionMaker(models.TextChoices):
    SELF = "self", "本人"
    SPOUSE = "spouse", "配偶"
    COUPLE = "couple", "夫妻共同"
    PARENTS = "parents", "父母"
    CHILDREN = "children", "子女"
    OTHER = "other", "其他"


# The structured fields, in the order of the form and the analysis page.
CHOICE_FIELDS: tuple[tuple[str, str, type[models.TextChoices]], ...] = (
    ("industry", "行业", Industry),
    ("family_structure", "家庭架构", FamilyStructure),
    ("hobby", "爱好", Hobby),
    ("living_situation", "居住现状", LivingSituation),
    ("purchase_motive", "购房动机", PurchaseMotive),
    ("decision_maker", "购房决策人", DecisionMaker),
)
# The free text, blanked when the customer is erased (crm.privacy.erasure).
FREE_TEXT_FIELDS = ("occupation", "family_note", "interests", "living_note", "notes")


class Portrait(models.Model):
    """One consultant's portrait of one customer, counted in the quarter it was submitted."""

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="+")
    # The customer's project when the portrait was submitted: the analysis is per project.
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name="楼盘")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="portraits", verbose_name="客户"
    )
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="portraits", verbose_name="置业顾问"
    )
    quarter = models.CharField("季度", max_length=6, help_text="如 2026Q3，按提交日期")
    submitted_on = models.DateField("提交日期")
    submitted_at = models.DateTimeField("提交时间")
    updated_at = models.DateTimeField("修改时间")

    industry = models.CharField("行业", max_length=16, choices=Industry.choices)
    occupation = models.CharField("职业/单位说明", max_length=100, blank=True)
    family_structure = models.CharField("家庭架构", max_length=20, choices=FamilyStructure.choices)
    family_note = models.CharField("家庭情况说明", max_length=200, blank=True)
    hobby = models.CharField("主要爱好", max_length=12, choices=Hobby.choices)
    interests = models.TextField("爱好与兴趣趋向", max_length=500, blank=True)
    living_situation = models.CharField("居住现状", max_length=16, choices=LivingSituation.choices)
    living_note = models.CharField("居住现状说明", max_length=200, blank=True)
    purchase_motive = models.CharField("购房动机", max_length=12, choices=PurchaseMotive.choices)
    decision_maker = models.CharField("购房决策人", max_length=10, choices=DecisionMaker.choices)
    notes = models.TextField("其他描摹与维护建议", max_length=1000, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "客户描摹"
        ordering = ("-submitted_at", "-id")
        permissions = [
            ("analyse_portraits", "查看客户描摹分析"),
            ("export_portraits", "导出客户描摹"),
        ]
        indexes = [
            # The quota page, the card and the reminder job (remind_portrait_quota) count a
            # consultant's portraits in one quarter.
            models.Index(fields=("consultant", "quarter"), name="portrait_consultant_quarter"),
            # The analysis page and the KPI counts read a company's quarter or period.
            models.Index(fields=("company", "submitted_on"), name="portrait_company_day"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.quarter}"
