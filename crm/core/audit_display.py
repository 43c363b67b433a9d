"""Reading the audit log as the office staff who check it do: in Chinese.

A row becomes "客户 张三（KH00002101）· 入住日期: 空 → 2026-12-06": the object's label, the
changed fields by their verbose names, values as shown on the pages (choices by their
labels, 是/否, related rows by name, "空" for nothing). Every text goes through
``audit.redact`` again, so rows written before masking existed show no full number either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from crm.core.audit import redact
from crm.core.models import AuditLog

EMPTY = "空"

# Keys of the changes dict that are not model fields.
EXTRA_LABELS = {
    "field": "查看项",
    "source_id": "被合并客户",
    "moved": "转移记录",
    "tags": "标签",
    "owner": "置业顾问",
    "id_number": "身份证号",
    "count": "条数",
    "filters": "筛选条件",
    "masked": "手机号脱敏",
    "rows": "行数",
    "created": "新建",
    "updated": "更新",
    "skipped": "跳过",
    "groups": "角色",
    "permissions": "权限",
    "is_superuser": "超级管理员",
    "is_active": "启用",
    "is_staff": "可登录管理后台",
    "projects": "所属楼盘",
    "file": "文件",
    "kind": "内容",
    "batch": "批次",
    "imported": "导入",
    "only_valid": "仅导入有效行",
    "numbers": "客户编号范围",
    "unmasked": "含完整手机号",
}
REVEAL_FIELDS = {"mobile": "手机号", "mobile2": "备用手机号", "id_number": "身份证号"}


@dataclass(frozen=True)
class AuditLine:
    row: AuditLog
    label: str
    changes: list[str]
    summary: str
    reason: str

    @property
    def text(self) -> str:
        """The one-line reading: "客户 张三（KH00002101）· 入住日期: 空 → 2026-12-06"."""
        parts = [self.label, *self.changes]
        if not self.changes and self.summary:
            parts.append(self.summary)
        return " · ".join(part for part in parts if part)


def _model(target_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    for candidate in (name, name.removesuffix("_id")):
        try:
            field = model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
        if isinstance(field, models.Field):
            return field
    return None


def _value(field: models.Field[Any, Any] | None, value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if field is not None and field.choices and not field.is_relation:
        labels = {str(key): str(label) for key, label in field.flatchoices}
        return labels.get(str(value), str(value))
    if field is not None and field.is_relation and field.related_model is not None and str(value).isdigit():
        related = field.related_model._default_manager.filter(pk=int(value)).first()
        return str(related) if related is not None else f"#{value}"
    if isinstance(value, dict):
        return "，".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)


# Django's own names that read wrong here (auth calls a group "组"; here it is a role).
OVERRIDES = {"groups": "角色", "permissions": "权限", "user_permissions": "权限"}


def _label(field: models.Field[Any, Any] | None, name: str) -> str:
    if name in OVERRIDES:
        return OVERRIDES[name]
    if field is not None:
        return str(field.verbose_name)
    return EXTRA_LABELS.get(name, name)


def change_lines(row: AuditLog) -> list[str]:
    """Each change as "字段: 旧 → 新" (or "字段: 值"), masked."""
    changes = row.changes if isinstance(row.changes, dict) else {}
    if row.action == AuditLog.Action.REVEAL and "field" in changes:
        return [f"查看项: {REVEAL_FIELDS.get(str(changes['field']), str(changes['field']))}"]
    model = _model(row.target_type)
    lines = []
    for name, value in changes.items():
        field = _field(model, name)
        if isinstance(value, list) and len(value) == 2:
            line = f"{_label(field, name)}: {_value(field, value[0])} → {_value(field, value[1])}"
        else:
            line = f"{_label(field, name)}: {_value(field, value)}"
        lines.append(redact(line))
    return lines


def _fallback_labels(rows: Iterable[AuditLog]) -> dict[tuple[str, str], str]:
    """Labels for rows written before target_label existed: read the objects, in bulk."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        if row.target_label:
            continue
        if row.customer_id is not None:
            wanted.setdefault("customers.customer", set()).add(str(row.customer_id))
        elif row.target_id:
            wanted.setdefault(row.target_type, set()).add(row.target_id)
    labels: dict[tuple[str, str], str] = {}
    for target_type, ids in wanted.items():
        model = _model(target_type)
        if model is None:
            continue
        keys = [int(pk) for pk in ids if pk.isdigit()]
        for pk, obj in model._default_manager.in_bulk(keys).items():
            labels[(target_type, str(pk))] = redact(f"{model._meta.verbose_name} {obj}")
    return labels


def describe(rows: Iterable[AuditLog]) -> list[AuditLine]:
    """The rows of a page, read."""
    rows = list(rows)
    fallback = _fallback_labels(rows)
    lines = []
    for row in rows:
        label = row.target_label
        if not label and row.customer_id is not None:
            label = fallback.get(("customers.customer", str(row.customer_id)), f"客户 #{row.customer_id}")
        if not label:
            model = _model(row.target_type)
            name = str(model._meta.verbose_name) if model is not None else row.target_type
            default = f"{name} #{row.target_id}" if row.target_id.isdigit() else name
            label = fallback.get((row.target_type, row.target_id), default)
        lines.append(
            AuditLine(
                row=row,
                label=redact(label),
                changes=change_lines(row),
                summary=redact(row.summary),
                reason=redact(row.reason),
            )
        )
    return lines
