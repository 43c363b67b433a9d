"""Demo complaints from outside: a few sent on the public page (渠道 网站) with photos, one
through the website's integration client 官网表单, which is created here too (its key is
made and thrown away: nobody needs it in the demo; 系统设置 → 投诉接入方 → 重新生成密钥
gives a usable one). Two of them have no category and wait for the director (待分类)."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from crm.accounts.models import Company
from crm.complaints import integrations, services
from crm.complaints.models import Category, Channel, IntegrationClient
from crm.projects.models import Project

CLIENT_NAME = "官网表单"
PAGE_SOURCE = "投诉人通过网上投诉页面提交"
# (name, mobile, content, place, unit, category or None for 待分类, photos, hours ago)
Row = tuple[str, str, str, str, str, str | None, int, int]
PUBLIC: tuple[Row, ...] = (
    ("林女士", "13600001001", "楼道灯坏了一个月没人修，晚上回家很不安全", "3 栋大堂", "3-1-502", None, 2, 5),
    ("郑先生", "13600001002", "地下车库入口积水，车开不进去", "地下车库 B1 入口", "", None, 1, 20),
    ("何女士", "13600001003", "交房时发现卧室墙面有裂缝，物业说找开发商", "", "5-2-1101", "售后", 3, 50),
)
VIA_CLIENT: Row = ("吴先生", "13600001004", "官网上的样板间开放时间与售楼处说的不一致", "售楼处", "", "房屋信息", 1, 8)
# The colours of the demo photos: a wall, a stain, the floor.
WALL, STAIN, FLOOR = (214, 208, 196), (120, 104, 82), (150, 150, 150)


def photo(name: str, variant: int) -> SimpleUploadedFile:
    """A small JPEG that looks like a photo of a stained wall (made, not shipped)."""
    image = Image.new("RGB", (480, 360), WALL)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 280, 480, 360), fill=FLOOR)
    x = 80 + 90 * variant
    draw.ellipse((x, 120, x + 140 + 20 * variant, 230), fill=STAIN)
    draw.line((x + 40, 40, x + 60, 280), fill=(90, 80, 70), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def _intake(company: Company, project: Project, row: Row) -> services.Intake:
    name, mobile, content, place, unit, category_name, photos, _hours = row
    category = (
        Category.objects.get(company=company, name=category_name)
        if category_name
        else services.unsorted_category(company)
    )
    return services.Intake(
        channel=Channel.WEBSITE,
        complainant_name=name,
        complainant_mobile=mobile,
        content=content,
        project=project,
        category=category,
        event_place=place,
        unit_text=unit,
        attachments=tuple(photo(f"IMG_{i + 1:04d}.jpg", i) for i in range(photos)),
    )


def seed(company: Company, seed_value: int) -> int:
    services.ensure_default_categories(company)
    projects = list(Project.objects.filter(company=company).order_by("id"))
    now = timezone.now()
    made = 0
    for i, row in enumerate(PUBLIC):
        services.register_external_complaint(
            _intake(company, projects[i % len(projects)], row),
            company=company,
            source=PAGE_SOURCE,
            now=now - timedelta(hours=row[-1]),
        )
        made += 1
    client = IntegrationClient(company=company, name=CLIENT_NAME, channel=IntegrationClient.Kind.WEBSITE)
    integrations.issue_key(client)  # saves the client; the key is not kept anywhere
    complaint = integrations.submit(
        client, _intake(company, projects[0], VIA_CLIENT), now=now - timedelta(hours=VIA_CLIENT[-1])
    )
    if complaint.assignee is not None:
        services.perform(complaint, "acknowledge", actor=complaint.assignee, now=now - timedelta(hours=6))
    made += 1
    return made
