"""A report pack as an Excel workbook (one sheet per section, crm.core.xlsx) or a PDF
(reportlab, Chinese text): both read only the stored snapshot and the author's text, so
an export of a submitted pack is the same whenever it is made. Watermarked and audited.

The PDF's Chinese font: a TrueType CJK font embedded (subset) when the system has one
(Debian fonts-wqy-zenhei, fonts-wqy-microhei, fonts-droid-fallback; reportlab cannot embed
the CFF outlines of fonts-noto-cjk), else reportlab's built-in CID font STSong-Light, which
needs no font file on the server (the reader supplies it, as every common PDF viewer does),
so a fresh machine still writes readable Chinese.
"""

from __future__ import annotations

import io
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.utils import timezone

from crm.core import audit
from crm.core.xlsx import Workbook
from crm.customers.exporting import Export, watermark
from crm.reports.building import text_labels

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.reports.models import ReportPack

PDF_CONTENT_TYPE = "application/pdf"
TRUETYPE_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
EMBEDDED_FONT = "ReportCJK"
CID_FONT = "STSong-Light"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def section_heading(section: dict[str, Any]) -> str:
    number = section.get("number")
    return f"{number}. {section['title']}" if number else str(section["title"])


def section_text(pack: ReportPack, section: dict[str, Any]) -> str:
    field = section.get("text")
    if field == "summary":
        return pack.summary
    if field == "next_focus":
        return pack.next_focus
    return ""


def erasure_note(pack: ReportPack) -> str:
    """Whether an erasure changed the pack (crm.reports.erasure), without naming anyone."""
    if not pack.erasure_count or pack.erased_at is None:
        return ""
    return (
        f"应客户个人信息删除要求修改 {pack.erasure_count} 次，"
        f"最近一次 {timezone.localtime(pack.erased_at):%Y-%m-%d %H:%M}"
    )


def _title(pack: ReportPack) -> str:
    return f"{pack.scope_label} {pack.get_kind_display()}（{pack.period_label}，第{pack.version}版）"


def _filename(pack: ReportPack, ext: str) -> tuple[str, str]:
    stamp = f"{pack.period_start:%Y%m%d}-{pack.period_end:%Y%m%d}"
    return (
        f"{pack.scope_label}_{pack.get_kind_display()}_{stamp}_v{pack.version}.{ext}",
        f"report_{pack.kind}_{stamp}_v{pack.version}.{ext}",
    )


def _sheet_name(index: int, section: dict[str, Any], used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("", section_heading(section))[:28] or f"第{index}部分"
    name, n = base, 2
    while name in used:
        name = f"{base[:26]}_{n}"
        n += 1
    used.add(name)
    return name


def export_excel(pack: ReportPack, user: User, *, now: datetime, ip: str | None = None) -> Export:
    """One sheet per section: its heading, figures, the author's text, then each table
    with a formatted Chinese header."""
    workbook = Workbook()
    used: set[str] = set()
    cover = workbook.add_sheet("封面", widths=(24, 60))
    cover.append_note(watermark(user, now=now))
    cover.append_header(("项目", "内容"))
    summary_label, focus_label = text_labels(pack.kind)
    for label, value in (
        ("报告", pack.get_kind_display()),
        ("范围", pack.scope_label),
        ("期间", pack.period_label),
        ("版本", f"第{pack.version}版"),
        ("状态", pack.get_status_display()),
        ("生成时间", f"{timezone.localtime(pack.generated_at):%Y-%m-%d %H:%M}"),
        ("撰写人", str(pack.author) if pack.author else ""),
        *((("个人信息删除", erasure_note(pack)),) if pack.erasure_count else ()),
        (summary_label, pack.summary),
        (focus_label, pack.next_focus),
    ):
        cover.append((label, value))
    used.add("封面")
    for i, section in enumerate(pack.data.get("sections", []), start=1):
        sheet = workbook.add_sheet(_sheet_name(i, section, used), widths=[18] * 10)
        sheet.append_note(section_heading(section))
        if section.get("note"):
            sheet.append((section["note"],))
        text = section_text(pack, section)
        if section.get("text"):
            sheet.append((text or "（未填写）",))
        if section.get("figures"):
            sheet.append_header(("指标", "数值", "单位"))
            for f in section["figures"]:
                sheet.append((f["label"], f["value"], f["unit"]))
        for t in section.get("tables", []):
            sheet.append(())
            sheet.append_note(t["title"])
            sheet.append_header(t["columns"])
            if not t["rows"]:
                sheet.append(("（无）",))
            for row in t["rows"]:
                sheet.append(row)
    file = workbook.save()
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, target=pack, summary=f"导出报告 Excel：{_title(pack)}", ip=ip)
    name, ascii_name = _filename(pack, "xlsx")
    return Export(file, name, len(pack.data.get("sections", [])), ascii_filename=ascii_name)


# ---------------------------------------------------------------- PDF


def chinese_font() -> str:
    """Register and name the font for Chinese text (see the module docstring)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    if EMBEDDED_FONT in registered:
        return EMBEDDED_FONT
    for path in TRUETYPE_CANDIDATES:
        if Path(path).exists():
            try:
                pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, path))
            except TTFError:
                continue
            return EMBEDDED_FONT
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def _escape(value: Any) -> str:
    from xml.sax.saxutils import escape

    return escape("" if value is None else str(value)).replace("\n", "<br/>")


def render_pdf(pack: ReportPack, user: User, *, now: datetime, font: str | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    font = font or chinese_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=11)
    h1 = ParagraphStyle("h1", parent=base, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12, leading=17, spaceBefore=10, spaceAfter=4)
    h3 = ParagraphStyle("h3", parent=base, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2)
    muted = ParagraphStyle("muted", parent=small, textColor=colors.grey)

    buffer = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=_title(pack),
        author=str(pack.author or ""),
    )
    width = page[0] - 24 * mm
    story: list[Any] = [
        Paragraph(_escape(_title(pack)), h1),
        Paragraph(_escape(watermark(user, now=now)), muted),
        Paragraph(
            _escape(
                f"状态：{pack.get_status_display()}　生成时间：{timezone.localtime(pack.generated_at):%Y-%m-%d %H:%M}"
                + (f"　{erasure_note(pack)}" if pack.erasure_count else "")
            ),
            small,
        ),
    ]
    for section in pack.data.get("sections", []):
        story.append(Paragraph(_escape(section_heading(section)), h2))
        if section.get("note"):
            story.append(Paragraph(_escape(section["note"]), base))
        if section.get("text"):
            story.append(Paragraph(_escape(section_text(pack, section) or "（未填写）"), base))
        if section.get("figures"):
            story.append(
                Paragraph(
                    _escape(
                        "；".join(
                            f"{f['label']}：{f['value'] if f['value'] != '' else '—'}{f['unit']}"
                            for f in section["figures"]
                        )
                    ),
                    base,
                )
            )
        for t in section.get("tables", []):
            story.append(Paragraph(_escape(t["title"]), h3))
            if not t["rows"]:
                story.append(Paragraph("（无）", small))
                continue
            data = [[Paragraph(_escape(c), small) for c in t["columns"]]]
            data += [[Paragraph(_escape(v), small) for v in row] for row in t["rows"]]
            grid = LongTable(data, colWidths=[width / len(t["columns"])] * len(t["columns"]), repeatRows=1)
            grid.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F3E5E6")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(grid)
        story.append(Spacer(1, 4 * mm))
    doc.build(story)
    return buffer.getvalue()


def export_pdf(pack: ReportPack, user: User, *, now: datetime, ip: str | None = None) -> Export:
    content = render_pdf(pack, user, now=now)
    file: IO[bytes] = tempfile.NamedTemporaryFile(suffix=".pdf")  # noqa: SIM115 - the response closes it
    file.write(content)
    file.seek(0)
    audit.log(audit.AuditLog.Action.EXPORT, actor=user, target=pack, summary=f"导出报告 PDF：{_title(pack)}", ip=ip)
    name, ascii_name = _filename(pack, "pdf")
    return Export(file, name, len(pack.data.get("sections", [])), ascii_filename=ascii_name)
