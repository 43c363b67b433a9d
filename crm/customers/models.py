"""Customers, their archive (客户信息档案), family, consent, deals and the 360° timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crm.lib.mobile import mask_mobile


class Stage(models.TextChoices):
    PROSPECT = "prospect", "潜在客户"
    INTERESTED = "interested", "意向客户"
    OWNER = "owner", "成交客户"


class Grade(models.TextChoices):
    A = "A", "A级"
    B = "B", "B级"
    C = "C", "C级"


class Channel(models.TextChoices):
    PHONE = "phone", "来电"
    VISIT = "visit", "来访"
    WEBSITE = "website", "官网"
    WECHAT = "wechat", "微信公众号"
    PARTNER = "partner", "合作平台"
    REGISTRATION = "registration", "售楼处登记"
    EVENT = "event", "活动现场"
    REFERRAL = "referral", "老带新"


class Gender(models.TextChoices):
    UNKNOWN = "", "未知"
    MALE = "M", "男"
    FEMALE = "F", "女"


class ArchiveReason(models.TextChoices):
    WRONG_NUMBER = "wrong_number", "号码错误/空号"
    NOT_PROSPECT = "not_prospect", "非真实客户"
    DUPLICATE = "duplicate", "重复客户（已合并）"
    LOST = "lost", "已流失/无购房意向"
    REQUEST = "request", "客户要求删除"
    OTHER = "other", "其他"


class Tag(models.Model):
    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="tags", verbose_name="公司")
    name = models.CharField("标签", max_length=20)

    class Meta:
        verbose_name = verbose_name_plural = "客户标签"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="uniq_tag_name")]

    def __str__(self) -> str:
        return self.name


class BirthdayFields(models.Model):
    """A birthday that may be kept in the lunar calendar (many customers celebrate 农历生日).

    ``birth_mmdd`` ("0923") is the solar month-day, kept as a plain indexed column:
    ``birthday__month``/``__day`` cannot use an index and on SQLite run Python per row.
    """

    birthday_on = models.DateField("生日(公历)", null=True, blank=True)
    birthday_is_lunar = models.BooleanField("按农历过生日", default=False)
    lunar_month = models.PositiveSmallIntegerField("农历月", null=True, blank=True)
    lunar_day = models.PositiveSmallIntegerField("农历日", null=True, blank=True)
    lunar_is_leap = models.BooleanField("闰月", default=False)
    # Indexed by each concrete model's Meta (a plain index: db_index on a CharField also
    # builds a LIKE-pattern index on PostgreSQL, which equality lookups never use).
    birth_mmdd = models.CharField(max_length=4, blank=True, editable=False)

    class Meta:
        abstract = True


class Customer(BirthdayFields):
    # Foreign keys whose own index a composite index below already leads with, or that are
    # mostly NULL (a partial index), go without one: every index costs each insert, and an
    # import writes 100,000 rows at a time (docs/performance.md, import).
    company = models.ForeignKey(
        "accounts.Company", on_delete=models.PROTECT, related_name="customers", verbose_name="公司", db_index=False
    )
    number = models.CharField("客户编号", max_length=20)
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, blank=True, default=Gender.UNKNOWN)
    mobile = models.CharField("手机号", max_length=20)
    mobile2 = models.CharField("备用手机号", max_length=20, blank=True)
    stage = models.CharField("客户阶段", max_length=12, choices=Stage.choices, default=Stage.PROSPECT)
    grade = models.CharField("客户等级", max_length=1, choices=Grade.choices, default=Grade.C)
    is_vip = models.BooleanField("VIP", default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        verbose_name="置业顾问",
        db_index=False,
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advised_customers",
        verbose_name="VIP专属顾问",
        db_index=False,
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="customers", verbose_name="意向楼盘", db_index=False
    )
    source_channel = models.CharField("来源渠道", max_length=14, choices=Channel.choices)
    referrer = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name="推荐人(老客户)",
        db_index=False,
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name="标签")
    notes = models.TextField("备注", blank=True)

    # Sensitive personal information (PIPL art. 28): encrypted at rest, exact-match blind index.
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_hint = models.CharField("身份证号", max_length=18, blank=True, editable=False)

    # SMS consent per purpose (工信部令第31号: care and marketing messages need consent).
    consent_notification = models.BooleanField("同意接收服务通知", default=True)
    consent_care = models.BooleanField("同意接收关怀短信", default=False)
    consent_marketing = models.BooleanField("同意接收营销短信", default=False)
    consent_source = models.CharField("同意来源", max_length=50, blank=True)
    consent_at = models.DateTimeField("同意时间", null=True, blank=True)
    has_opted_out = models.BooleanField("已退订短信", default=False)
    opted_out_at = models.DateTimeField("退订时间", null=True, blank=True)

    is_archived = models.BooleanField("已归档(无效)", default=False)
    archived_reason = models.CharField("归档原因", max_length=20, choices=ArchiveReason.choices, blank=True)
    archived_note = models.CharField("归档说明", max_length=200, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="已合并到",
        db_index=False,
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="录入人",
        # Never looked up by; staff are deactivated, not deleted (and owners are PROTECTed).
        db_index=False,
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "客户"
        permissions = [
            ("reveal_contact", "查看完整手机号/身份证号"),
            ("reassign_customer", "变更客户归属"),
            ("merge_customers", "合并重复客户"),
            ("import_customers", "导入客户"),
            ("export_customers", "导出客户"),
            ("export_contact", "导出完整联系方式"),
            ("archive_customer", "归档无效客户"),
            ("view_audit", "查看审计日志"),
        ]
        constraints = [
            # One person, one record: the normalised mobile is unique per company.
            models.UniqueConstraint(fields=["company", "mobile"], name="uniq_customer_mobile"),
            models.UniqueConstraint(fields=["company", "number"], name="uniq_customer_number"),
        ]
        indexes = [
            # Customer list for a consultant (scope OWN): owner's page, newest first.
            models.Index(fields=["owner", "-created_at"], name="customer_owner_created"),
            # Customer list for project-scoped roles.
            models.Index(fields=["project", "-created_at"], name="customer_project_created"),
            # Company-wide list, newest first.
            models.Index(fields=["company", "-created_at"], name="customer_company_created"),
            models.Index(fields=["name"], name="customer_name"),
            # Mostly empty or NULL: only the rows that have a value are indexed (lookups are
            # always for a value, which PostgreSQL sees implies the index's condition).
            models.Index(fields=["mobile2"], name="customer_mobile2", condition=~models.Q(mobile2="")),
            models.Index(fields=["birth_mmdd"], name="customer_birth_mmdd", condition=~models.Q(birth_mmdd="")),
            models.Index(
                fields=["id_number_hash"], name="customer_id_number_hash", condition=~models.Q(id_number_hash="")
            ),
            models.Index(fields=["advisor"], name="customer_advisor", condition=models.Q(advisor__isnull=False)),
            models.Index(fields=["referrer"], name="customer_referrer", condition=models.Q(referrer__isnull=False)),
            # The opt-outs of a period (退订管理, the KPI 短信退订): a few rows among a million,
            # not a scan of the customers in scope (bench reports: 137 ms → 5 ms).
            models.Index(fields=["opted_out_at"], name="customer_opted_out_at", condition=models.Q(has_opted_out=True)),
            models.Index(
                fields=["merged_into"], name="customer_merged_into", condition=models.Q(merged_into__isnull=False)
            ),
            # Today's lunar birthdays (care planning): with birth_mmdd's index the planner's
            # "solar OR lunar" becomes a BitmapOr instead of a scan of every customer.
            models.Index(
                fields=["lunar_month", "lunar_day"],
                name="customer_lunar_birthday",
                condition=models.Q(birthday_is_lunar=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）"

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def masked_mobile2(self) -> str:
        return mask_mobile(self.mobile2)


class CustomerProfile(models.Model):
    """The 42-item customer archive of seed 004, filled progressively.

    Items 1 (gender) and 6 (mobile) live on Customer. Items 14 (parents' health), 15
    (children) and 22 (health) are sensitive and hidden unless ARCHIVE_SENSITIVE_FIELDS is
    on (PIPL minimum necessary); see crm.customers.archive for the layout.
    """

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="profile", primary_key=True)
    # 一、基本信息
    address = models.CharField("通讯地址", max_length=200, blank=True)
    employer = models.CharField("公司名称及地址", max_length=200, blank=True)
    office_phone = models.CharField("办公电话", max_length=30, blank=True)
    home_phone = models.CharField("家庭电话", max_length=30, blank=True)
    native_place = models.CharField("籍贯", max_length=50, blank=True)
    education = models.CharField("教育背景", max_length=100, blank=True, help_text="最高学历及毕业学校，是否在意学位")
    # 二、家庭信息
    family_status = models.CharField("家庭状况", max_length=200, blank=True, help_text="收入、关系是否融洽")
    marital_status = models.CharField("婚姻状况", max_length=20, blank=True)
    spouse_info = models.CharField("配偶信息", max_length=200, blank=True, help_text="仅记录客户本人愿意提供的内容")
    spouse_education = models.CharField("配偶教育背景", max_length=100, blank=True)
    spouse_interests = models.CharField("配偶兴趣", max_length=200, blank=True)
    parents_status = models.CharField("父母状况", max_length=200, blank=True, help_text="年龄、健康、兴趣（敏感信息）")
    children_status = models.CharField(
        "子女状况", max_length=200, blank=True, help_text="出生日期、兴趣、就读学校（需监护人单独同意）"
    )
    closest_person = models.CharField("家庭中最亲密的人", max_length=50, blank=True)
    # 三、个人生活、安全信息
    dining_place = models.CharField("最偏好的就餐地点", max_length=100, blank=True)
    shopping_place = models.CharField("偏爱购物场所", max_length=100, blank=True)
    cuisine = models.CharField("最偏爱的菜式", max_length=50, blank=True)
    drinking = models.CharField("饮酒", max_length=100, blank=True)
    smoking = models.CharField("抽烟", max_length=100, blank=True)
    health = models.CharField("健康状况", max_length=200, blank=True, help_text="敏感信息")
    travel_mode = models.CharField("远行交通工具", max_length=50, blank=True)
    social_organizations = models.CharField("所属的社会组织", max_length=100, blank=True)
    social_enthusiasm = models.CharField("社交热衷程度", max_length=50, blank=True)
    # 四、个人房产状况
    current_residence = models.CharField("现居住状况", max_length=300, blank=True)
    property_investment = models.CharField("现房产投资状况", max_length=300, blank=True)
    ideal_residence = models.CharField("理想居住状况(最关注)", max_length=100, blank=True)
    purchase_reason = models.CharField("购房原因", max_length=200, blank=True)
    purchase_details = models.CharField("在我处购买物业的具体情况", max_length=200, blank=True)
    brand_awareness = models.CharField("对本公司的了解", max_length=200, blank=True)
    cares_about_neighbours = models.CharField("是否在意其他业主的素质", max_length=50, blank=True)
    # 五、受社会尊重信息
    job_title = models.CharField("职位", max_length=50, blank=True)
    car_brand = models.CharField("汽车品牌", max_length=50, blank=True)
    plate_number = models.CharField("车牌号", max_length=20, blank=True)
    dress_style = models.CharField("服饰讲究", max_length=100, blank=True)
    info_source = models.CharField("信息主要来源", max_length=100, blank=True)
    admired_person = models.CharField("最佩服的人", max_length=50, blank=True)
    # 六、自我认同价值
    career_goal_long = models.CharField("事业目标(长期)", max_length=200, blank=True)
    career_goal_short = models.CharField("事业目标(短期)", max_length=200, blank=True)
    personal_goal_long = models.CharField("个人目标(长期)", max_length=200, blank=True)
    personal_goal_short = models.CharField("个人目标(短期)", max_length=200, blank=True)
    proudest_thing = models.CharField("自认为最得意的事", max_length=200, blank=True)
    independence = models.CharField("主见", max_length=100, blank=True, help_text="是否有主见，对外来意见的接受程度")
    # PIPL art. 31: children's information only with the guardian's separate consent.
    children_consent_at = models.DateTimeField("子女信息监护人同意时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "客户信息档案"

    def __str__(self) -> str:
        return f"{self.customer.name} 的档案"


class FamilyMember(BirthdayFields):
    class Relation(models.TextChoices):
        SPOUSE = "spouse", "配偶"
        CHILD = "child", "子女"
        PARENT = "parent", "父母"
        OTHER = "other", "其他"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="family", verbose_name="客户")
    relation = models.CharField("关系", max_length=10, choices=Relation.choices)
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, blank=True, default=Gender.UNKNOWN)
    mobile = models.CharField("手机号", max_length=20, blank=True)
    notes = models.CharField("备注", max_length=200, blank=True)
    # Children's data needs the guardian's separate consent (PIPL art. 31).
    guardian_consent_at = models.DateTimeField("监护人同意时间", null=True, blank=True)
    consent_care = models.BooleanField("同意生日关怀", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "家庭成员"
        ordering = ["customer", "relation", "id"]
        indexes = [models.Index(fields=["birth_mmdd"], name="family_birth_mmdd", condition=~models.Q(birth_mmdd=""))]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_relation_display()}）"


class ConsentRecord(models.Model):
    """History of consent given or withdrawn, per purpose (PIPL art. 14/15)."""

    class Purpose(models.TextChoices):
        NOTIFICATION = "notification", "服务通知"
        CARE = "care", "关怀问候"
        MARKETING = "marketing", "营销推广"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents", verbose_name="客户")
    purpose = models.CharField("用途", max_length=12, choices=Purpose.choices)
    is_granted = models.BooleanField("同意")
    source = models.CharField("渠道", max_length=50, blank=True)
    notice_version = models.CharField("告知书版本", max_length=20, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="记录人",
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "同意记录"
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose} {'同意' if self.is_granted else '撤回'}"


class MoveInKind(models.TextChoices):
    BATCH = "batch", "集中入住"
    INDIVIDUAL = "individual", "零星入住"


class Deal(models.Model):
    """A customer buys a unit. Milestone dates drive visits, care messages and gifts."""

    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        CANCELLED = "cancelled", "已退房"

    company = models.ForeignKey("accounts.Company", on_delete=models.PROTECT, related_name="deals", verbose_name="公司")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="deals", verbose_name="客户")
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="deals", verbose_name="楼盘")
    unit = models.ForeignKey("projects.Unit", on_delete=models.PROTECT, related_name="deals", verbose_name="房号")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals", verbose_name="置业顾问"
    )
    price = models.DecimalField("成交总价(元)", max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    subscribed_on = models.DateField("认购日期")
    contracted_on = models.DateField("签约日期", null=True, blank=True)
    # Recorded at subscription (CARE_SIGNING_DEADLINE_DAYS later, moved off statutory
    # holidays): the date the signing reminder names.
    signing_deadline_on = models.DateField("签约截止日", null=True, blank=True)
    full_payment_on = models.DateField("全款到账日期", null=True, blank=True)
    filed_on = models.DateField("合同备案日期", null=True, blank=True)
    delivery_planned_on = models.DateField("计划交房日期", null=True, blank=True)
    delivered_on = models.DateField("实际交房日期", null=True, blank=True)
    moved_in_on = models.DateField("入住日期", null=True, blank=True)
    move_in_kind = models.CharField("入住方式", max_length=10, choices=MoveInKind.choices, blank=True)
    cancelled_on = models.DateField("退房日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "成交"
        ordering = ["-subscribed_on", "-id"]
        constraints = [
            # A unit is sold once: at most one active deal per unit.
            models.UniqueConstraint(
                fields=["unit"], condition=models.Q(status="active"), name="uniq_active_deal_per_unit"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-subscribed_on"], name="deal_customer"),
            models.Index(fields=["project", "-subscribed_on"], name="deal_project"),
            # The report packs' 认购/签约台帐 of a period for the whole company (bench reports:
            # a seq scan of 194,000 deals and a hash of every unit, 75 ms each).
            models.Index(fields=["company", "subscribed_on"], name="deal_company_subscribed"),
            models.Index(
                fields=["company", "contracted_on"],
                name="deal_company_contracted",
                condition=models.Q(contracted_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer.name} · {self.unit}"

    MILESTONES = (
        ("subscribed_on", "认购"),
        ("contracted_on", "签约"),
        ("full_payment_on", "全款到账"),
        ("filed_on", "合同备案"),
        ("delivered_on", "交房"),
        ("moved_in_on", "入住"),
    )

    @property
    def current_milestone(self) -> str:
        label = ""
        for field, name in self.MILESTONES:
            if getattr(self, field):
                label = name
        return label


class TimelineEvent(models.Model):
    """One thing that happened to a customer; the 360° page lists these newest first.

    Every capability writes here through crm.customers.timeline.record().
    """

    class Kind(models.TextChoices):
        CREATED = "created", "新建客户"
        EDITED = "edited", "修改资料"
        STAGE = "stage", "阶段变更"
        OWNER = "owner", "归属变更"
        DEAL = "deal", "成交"
        MILESTONE = "milestone", "成交节点"
        NOTE = "note", "跟进记录"
        MERGED = "merged", "合并客户"
        ARCHIVED = "archived", "归档"
        RESTORED = "restored", "恢复"
        CONSENT = "consent", "短信授权"
        IMPORTED = "imported", "导入"
        VISIT = "visit", "回访"
        MESSAGE = "message", "短信"
        COMPLAINT = "complaint", "投诉"
        GIFT = "gift", "礼品"
        CALL = "call", "来电"
        CONSULTATION = "consultation", "咨询"
        REFERRAL = "referral", "老带新"
        PRIVACY = "privacy", "个人信息申请"
        EVENT = "event", "客户活动"
        PORTRAIT = "portrait", "客户描摹"

    # Indexed by timeline_customer below, which leads with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="events", verbose_name="客户", db_index=False
    )
    kind = models.CharField("类型", max_length=14, choices=Kind.choices)
    occurred_at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    summary = models.CharField("摘要", max_length=300)
    data = models.JSONField("详情", default=dict, blank=True)
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "客户动态"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The 360° page: one customer's events, newest first.
            models.Index(fields=["customer", "-occurred_at", "-id"], name="timeline_customer"),
            # The workbench's latest events across a scope, newest first.
            models.Index(fields=["-occurred_at", "-id"], name="timeline_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d} {self.summary}"


class ImportJob(models.Model):
    """An uploaded import file, from upload to import, owned by the user who uploaded it.

    The file and its validation report wait under MEDIA_ROOT/imports/<token>.* (the
    report holds customers' personal information, so it is not copied into the
    database); this row says whose they are, what was chosen for them, how far the work
    has got and when they are deleted. Any login of the owner can resume the review until
    ``expires_at``; ``crm.customers.jobs.purge_stale_uploads`` deletes the files and the
    row after that. Checking and importing run as jobs (``run_import_jobs``) writing
    their progress here, so the page can show it and a reload finds it again.
    """

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", "客户资料"
        DEALS = "deals", "成交记录"

    class Status(models.TextChoices):
        CHECK_QUEUED = "check_queued", "等待校验"
        CHECKING = "checking", "校验中"
        REVIEW = "review", "待确认"
        FAILED = "failed", "无法读取"
        QUEUED = "queued", "等待导入"
        IMPORTING = "importing", "导入中"
        DONE = "done", "已导入"

    # The moves the services make (crm.customers.importing.jobs); anything else is refused.
    ALLOWED_MOVES: dict[str, frozenset[str]] = {
        Status.CHECK_QUEUED: frozenset({Status.CHECKING}),
        # Back to the queue when the worker checking it was lost (a restart).
        Status.CHECKING: frozenset({Status.REVIEW, Status.FAILED, Status.CHECK_QUEUED}),
        Status.REVIEW: frozenset({Status.CHECK_QUEUED, Status.QUEUED}),
        Status.FAILED: frozenset({Status.CHECK_QUEUED}),
        Status.QUEUED: frozenset({Status.IMPORTING}),
        # Back to the review when the database refused the rows meanwhile, or the worker was lost.
        Status.IMPORTING: frozenset({Status.DONE, Status.REVIEW}),
        Status.DONE: frozenset(),
    }
    WORKING = (Status.CHECKING, Status.IMPORTING)

    company = models.ForeignKey(
        "accounts.Company", on_delete=models.CASCADE, related_name="import_jobs", verbose_name="公司"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs", verbose_name="上传人"
    )
    kind = models.CharField("导入内容", max_length=10, choices=Kind.choices)
    filename = models.CharField("文件名", max_length=255)
    token = models.CharField(max_length=32, unique=True)
    size = models.PositiveBigIntegerField("文件大小", default=0)
    options = models.JSONField("选项", default=dict, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.CHECK_QUEUED)
    only_valid = models.BooleanField("仅导入有效行", default=False)
    step = models.CharField("进度", max_length=20, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField("数据行", default=0)
    invalid = models.PositiveIntegerField("有问题的行", default=0)
    message = models.TextField("说明", blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    # Where the import was confirmed from, for its audit row (written by the job).
    ip = models.GenericIPAddressField("确认导入的IP", null=True, blank=True)
    created_at = models.DateTimeField("上传时间")
    updated_at = models.DateTimeField("更新时间")
    expires_at = models.DateTimeField("保留至")

    class Meta:
        verbose_name = verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-id"]
        indexes = [
            # run_import_jobs: the queued jobs, oldest first, and the stale working ones.
            models.Index(fields=["status", "updated_at"], name="importjob_due"),
            # purge_stale_uploads: the expired ones.
            models.Index(fields=["expires_at"], name="importjob_expiry"),
            # The import page: the user's unfinished uploads.
            models.Index(fields=["owner", "-created_at"], name="importjob_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.filename}（{self.get_status_display()}）"

    @property
    def is_working(self) -> bool:
        """Checked or imported right now, or waiting for it: the page shows progress."""
        return self.status in {
            self.Status.CHECK_QUEUED,
            self.Status.CHECKING,
            self.Status.QUEUED,
            self.Status.IMPORTING,
        }

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0


class ImportColumnChoice(models.Model):
    """A user's answer to "which column is this?" for a header of an import file that no
    synonym matches (crm.customers.importing.columns), applied to that user's next files."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_column_choices", verbose_name="用户"
    )
    kind = models.CharField("导入内容", max_length=10, choices=ImportJob.Kind.choices)
    header = models.CharField("表头（规范化）", max_length=100)
    key = models.CharField("对应的列", max_length=30, blank=True, help_text="空：不导入此列")

    class Meta:
        verbose_name = verbose_name_plural = "导入列对应"
        constraints = [models.UniqueConstraint(fields=["user", "kind", "header"], name="uniq_import_column_choice")]

    def __str__(self) -> str:
        return f"{self.header} → {self.key or '不导入'}"


class CompanyPrivacy(models.Model):
    """A company's privacy settings (docs/privacy.md). Without a row the settings'
    defaults apply (ARCHIVE_SENSITIVE_FIELDS, EXPORT_APPROVAL_THRESHOLD, ...)."""

    company = models.OneToOneField(
        "accounts.Company", on_delete=models.CASCADE, related_name="privacy", primary_key=True, verbose_name="公司"
    )
    # PIPL art. 6/28/31: parents' health, children and health (seed 004 items 14, 15, 22).
    archive_sensitive_fields = models.BooleanField(
        "档案敏感项（父母健康、子女、健康状况）",
        default=False,
        help_text="默认关闭（最小必要）；开启后，子女信息仍须先记录监护人单独同意",
    )
    export_approval_threshold = models.PositiveIntegerField(
        "导出审批阈值（客户数）", default=50, help_text="一次导出超过此数量的客户需主管审批"
    )
    open_limit_per_hour = models.PositiveIntegerField(
        "每小时查看客户上限", default=200, help_text="一小时内打开超过此数量的不同客户即暂停并告警"
    )
    reveal_limit_per_hour = models.PositiveIntegerField(
        "每小时查看完整号码上限", default=20, help_text="一小时内查看完整号码超过此数量即暂停并告警"
    )
    duplicate_limit_per_hour = models.PositiveIntegerField(
        "每小时重复号码提示上限", default=10, help_text="一小时内登记时撞到无权查看客户的号码超过此数量即暂停并告警"
    )

    class Meta:
        verbose_name = verbose_name_plural = "公司隐私设置"

    def __str__(self) -> str:
        return f"{self.company} 隐私设置"


class ExportRequest(models.Model):
    """A bulk export waiting for, or given, a supervisor's approval (DESIGN 3.7).

    An export of more customers than the company's threshold is not written at once: the
    filters are kept here, a supervisor approves or rejects, and the requester downloads
    the approved file once (it is built at download time from the kept filters, through
    the requester's scope, so it never holds a customer they could not see).
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"
        DOWNLOADED = "downloaded", "已下载"

    ALLOWED_MOVES: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.APPROVED, Status.REJECTED}),
        Status.APPROVED: frozenset({Status.DOWNLOADED}),
        Status.REJECTED: frozenset(),
        Status.DOWNLOADED: frozenset(),
    }

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", "客户"
        DEALS = "deals", "成交"

    company = models.ForeignKey(
        "accounts.Company", on_delete=models.CASCADE, related_name="export_requests", verbose_name="公司"
    )
    kind = models.CharField("导出内容", max_length=10, choices=Kind.choices, default=Kind.CUSTOMERS)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_requests", verbose_name="申请人"
    )
    params = models.JSONField("筛选条件", default=dict, blank=True)
    filters_text = models.CharField("筛选说明", max_length=300, blank=True)
    count = models.PositiveIntegerField("客户数")
    with_contact = models.BooleanField("含完整手机号", default=False)
    purpose = models.CharField("用途", max_length=200)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField("申请时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=200, blank=True)
    downloaded_at = models.DateTimeField("下载时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导出审批"
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_export", "审批批量导出")]
        indexes = [
            # The approvers' queue and workbench card: a company's waiting requests.
            models.Index(fields=["company", "status", "-requested_at"], name="exportrequest_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.requested_by} 导出{self.get_kind_display()} {self.count} 条（{self.get_status_display()}）"


class AccessEvent(models.Model):
    """One counted access (crm.customers.guard): a customer's 360° page opened (at most one
    row per user, customer and hour) or a registration that hit the mobile of a customer
    the user cannot see. Counted per user over the last hour to stop scraping."""

    class Kind(models.TextChoices):
        OPEN = "open", "查看客户"
        DUPLICATE = "duplicate", "重复号码提示"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    customer_id = models.BigIntegerField()
    at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "访问计数"
        indexes = [
            # crm.customers.guard: the user's events of one kind in the last hour.
            models.Index(fields=["user", "kind", "-at"], name="accessevent_user_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.customer_id} {self.at:%H:%M}"


class AccessAlert(models.Model):
    """A user stopped for unusual access (too many customers opened, numbers revealed or
    hidden duplicates hit in an hour), for their supervisors to look at (workbench card)."""

    class Kind(models.TextChoices):
        OPENS = "opens", "查看客户过多"
        REVEALS = "reveals", "查看完整号码过多"
        DUPLICATES = "duplicates", "重复号码试探过多"

    company = models.ForeignKey(
        "accounts.Company", on_delete=models.CASCADE, related_name="access_alerts", verbose_name="公司"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_alerts", verbose_name="员工"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    count = models.PositiveIntegerField("一小时内次数")
    limit = models.PositiveIntegerField("上限")
    raised_at = models.DateTimeField("告警时间")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="处理人",
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolution = models.CharField("处理说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "异常访问告警"
        ordering = ["-raised_at", "-id"]
        permissions = [("view_security_audit", "查看登录、权限审计与异常访问告警")]
        indexes = [
            # The supervisors' card and page: a company's open alerts.
            models.Index(fields=["company", "resolved_at", "-raised_at"], name="accessalert_open"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()}（{self.count}/{self.limit}）"
