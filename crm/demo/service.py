"""Demo duty roster and handovers (客服运营): day and night shifts at 锦华苑 over the last
week, kept by 孙伟 (值班) and 刘芳 (客服专员), with a duty log, handovers mostly accepted,
the latest one refused once for missing keys (公物缺失不接) and still open on the
director's card, and a spot check by the director."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, time, timedelta
from itertools import pairwise

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.accounts.models import Company, User
from crm.core.errors import DomainError
from crm.lib.dates import at, local_day
from crm.projects.models import Project
from crm.service import jobs, services
from crm.service.models import (
    DisplayItem,
    DisplayStatus,
    DutyCheck,
    Gift,
    GiftTask,
    HandoverItem,
    MaterialKind,
    Occasion,
    Shift,
)

DAYS = 7
LOG = (
    ("call", "业主来电咨询交房时间，已告知计划交房日期"),
    ("visit", "客户来访了解车位销售情况，已引导至销售部"),
    ("call", "来电反映小区门禁故障，已转物业"),
    ("incident", "售楼处空调漏水，已通知工程部"),
)


def _plan(director: User, manager: User, project: Project, officer: User, start: datetime, hours: int) -> Shift | None:
    for lead in (None, manager):
        try:
            return services.plan_shift(
                actor=director,
                project=project,
                officer=officer,
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                manager=lead,
                now=start - timedelta(days=7),
            )
        except DomainError as exc:
            if exc.field != "manager":
                return None  # e.g. next year's calendar not entered yet
    return None


GIFTS = (("定制保温杯", "个", 80), ("品牌雨伞", "把", 45), ("毛绒玩具", "个", 30), ("中秋月饼礼盒", "盒", 168))


def seed(company: Company, seed_value: int) -> int:
    return seed_duty(company) + seed_gifts(company) + seed_inspection(company) + seed_materials(company)


MATERIALS = (
    (MaterialKind.LAYOUT, "A户型 三室两厅 128㎡", "png"),
    (MaterialKind.ADVERSE, "红线内外不利因素告知书", "pdf"),
    (MaterialKind.BROCHURE, "项目楼书（二期）", "pdf"),
)


def _demo_pdf(title: str) -> bytes:
    """A minimal one-page PDF (no font embedded: the text is ASCII)."""
    text = title.encode("ascii", "ignore") or b"EstateCRM demo"
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _demo_png(shade: int) -> bytes:
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 420), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 600, 380), outline=(shade, 80, 80), width=6)
    draw.line((320, 40, 320, 380), fill=(shade, 80, 80), width=4)
    draw.line((40, 210, 600, 210), fill=(shade, 80, 80), width=4)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed_materials(company: Company) -> int:
    """Each project's sales materials (a layout plan in two versions, the adverse-factor
    notice, the brochure) uploaded by the director, and the display checklist (the
    inspections above confirmed it; an item added since at the first project has never been
    checked, which the workbench flags)."""
    director = User.objects.get(company=company, username="director1")
    now = timezone.now()
    made = 0
    projects = list(Project.objects.filter(company=company).order_by("id"))
    for project in projects:
        services.ensure_display_items(project)
        for kind, title, ext in MATERIALS:
            data = _demo_png(120) if ext == "png" else _demo_pdf("Demo material")
            upload = SimpleUploadedFile(f"{title}.{ext}", data)
            with suppress(DomainError):
                material = services.add_material(
                    project,
                    actor=director,
                    kind=kind,
                    title=title,
                    upload=upload,
                    note="首版",
                    now=now - timedelta(days=30),
                )
                made += 1
                if ext == "png":
                    services.add_version(
                        material,
                        actor=director,
                        upload=SimpleUploadedFile(f"{title}.png", _demo_png(30)),
                        note="更正面积标注",
                        now=now - timedelta(days=3),
                    )
    if projects:
        # Added to the checklist after the last inspection: never checked yet, so flagged.
        DisplayItem.objects.get_or_create(
            project=projects[0], name="物业收费标准", defaults={"standard": "前期物业服务收费标准", "sort_order": 20}
        )
    return made


FINDINGS = (
    ("水吧及咖啡厅", "咖啡机下方有水渍", "property", "保洁已清理"),
    ("沙盘区及次接待区", "沙盘灯带部分不亮", "engineering", "工程部已更换灯带"),
    ("置业顾问仪容仪表", "一名置业顾问未佩戴胸牌", "sales", "已提醒并佩戴"),
)


def seed_inspection(company: Company) -> int:
    """The last five days' inspections of every project by 刘芳 (客服专员): completed by
    09:40 except one at 10:20 (flagged), each with a finding handled before 11:00 except
    one handled late, and the daily reports."""
    inspector = User.objects.get(company=company, username="service1")
    today = local_day(timezone.now())
    made = 0
    for offset in range(5, 0, -1):
        day = today - timedelta(days=offset)
        for project in Project.objects.filter(company=company).order_by("id"):
            insp = services.start_inspection(project, actor=inspector, now=at(day, time(9, 0)))
            area, text, department, handled = FINDINGS[(offset + project.pk) % len(FINDINGS)]
            finding = services.report_finding(
                insp, actor=inspector, area=area, description=text, department=department, now=at(day, time(9, 15))
            )
            for result in insp.results.all():
                bad = result.area == area
                services.record_result(
                    result, actor=inspector, value="problem" if bad else "ok", note=text if bad else ""
                )
            for check in insp.display_checks.all():
                # One day the opening prices on the wall were last month's.
                outdated = offset == 3 and check.name == "开盘价格"
                services.record_display(
                    check,
                    actor=inspector,
                    status=DisplayStatus.OUTDATED if outdated else DisplayStatus.DISPLAYED,
                    note="公示价格未更新为本期价格" if outdated else "",
                    now=at(day, time(9, 30)),
                )
            late = offset == 2 and project == Project.objects.filter(company=company).order_by("id").first()
            services.complete_inspection(insp, actor=inspector, now=at(day, time(10, 20) if late else time(9, 40)))
            services.handle_finding(
                finding, actor=inspector, note=handled, now=at(day, time(11, 30) if late else time(10, 30))
            )
            made += 1
        jobs.write_inspection_reports(now=at(day, time(18, 30)))
    return made


def seed_gifts(company: Company) -> int:
    """The catalogue with stock at every project, this month's birthday list, the gift tasks
    of recent deals, half of them handed over, and an on-site gift to a walk-in."""
    staff = {u.username: u for u in User.objects.filter(company=company)}
    director = staff["director1"]
    now = timezone.now()
    gifts = [
        Gift.objects.get_or_create(company=company, name=name, defaults={"unit": unit, "price": price})[0]
        for name, unit, price in GIFTS
    ]
    projects = list(Project.objects.filter(company=company).order_by("id"))
    for gift in gifts:
        for project in projects:
            services.stock_in(gift, actor=director, project=project, quantity=50, note="首批采购", now=now)
    jobs.prepare_birthday_lists(now=now)
    jobs.create_gift_tasks(now=now)
    made = 0
    for i, task in enumerate(GiftTask.objects.filter(company=company).select_related("customer", "consultant")):
        if i % 2:
            continue
        with suppress(DomainError):
            services.issue_gift(
                gifts[0] if task.occasion == Occasion.SUBSCRIPTION else gifts[1],
                actor=task.consultant,
                project=Project.objects.get(pk=task.project_id),
                quantity=1,
                occasion=task.occasion,
                customer=task.customer,
                task=task,
                now=now,
            )
            made += 1
    consultant = staff["consultant1"]
    services.issue_gift(
        gifts[2],
        actor=consultant,
        project=projects[0],
        quantity=1,
        occasion=Occasion.ON_SITE,
        visitor_name="带孩子的来访客户",
        reason="客户带小朋友看房",
        now=now,
    )
    return made + 1


def seed_duty(company: Company) -> int:
    staff = {u.username: u for u in User.objects.filter(company=company)}
    director, first, second = staff["director1"], staff["duty1"], staff["service1"]
    services.ensure_default_items(company)
    project = Project.objects.filter(company=company).order_by("id").first()
    if project is None:
        return 0
    now = timezone.now()
    today = local_day(now)
    shifts: list[Shift] = []
    for offset in range(DAYS, 0, -1):
        day = today - timedelta(days=offset)
        for n, (hour, hours) in enumerate(((8, 12), (20, 12))):
            officer = first if (offset * 2 + n) % 2 else second
            shift = _plan(director, director, project, officer, at(day, time(hour)), hours)
            if shift is not None and shift.ends_at <= now:
                shifts.append(shift)
    for i, shift in enumerate(shifts):
        kind, content = LOG[i % len(LOG)]
        services.log_duty(
            shift,
            actor=shift.officer,
            kind=kind,
            content=content,
            at=shift.starts_at + timedelta(hours=2),
            is_escalated=kind == "incident",
        )
    for i, (shift, following) in enumerate(pairwise(shifts)):
        end = shift.ends_at
        handover = services.start_handover(
            shift, actor=shift.officer, incoming=following.officer, now=end - timedelta(minutes=15)
        )
        services.update_handover(
            handover,
            actor=shift.officer,
            log_summary=f"本班值班记录 {shift.log_entries.count()} 条，均已处理",
            open_matters="空调维修待工程部回复" if i % 4 == 3 else "",
            major_repair_open=False,
            major_repair_note="",
            now=end - timedelta(minutes=10),
        )
        last = i == len(shifts) - 2
        if last:
            keys = handover.items.get(name="钥匙")
            services.check_item(
                keys, actor=shift.officer, state=HandoverItem.State.MISSING, now=end - timedelta(minutes=8)
            )
        services.submit_handover(handover, actor=shift.officer, now=end - timedelta(minutes=5))
        # The latest one is refused and stays open: the director sees it.
        with suppress(services.HandoverRefused):
            services.accept_handover(handover, actor=following.officer, log_clear=True, area_clean=True, now=end)
    for shift in shifts[1::5]:
        services.record_spot_check(
            shift,
            actor=director,
            result=DutyCheck.Result.OK,
            note="值班人员在岗，着装规范",
            now=shift.starts_at + timedelta(hours=3),
        )
    return len(shifts)
