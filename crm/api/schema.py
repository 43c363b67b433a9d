"""OpenAPI post-processing: the error answers every operation can give, documented once.

drf-spectacular documents the answers a view's ``@extend_schema`` names (usually 200 or
201). The API also answers, for every operation, with the errors its common machinery
raises: 401 without a valid token, 403 without the permission, 404 for an id outside the
caller's scope, a page past the end or an unknown ``?format=``, 400 for invalid input, 415 for a body in another
format, 429 when throttled (crm/api/errors.py writes them all, in Chinese). This hook adds
those answers to each operation that can give them, so a client (and the schemathesis run
in tests/test_api_conformance.py) finds every status code it receives in the schema.
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular import openapi
from rest_framework import serializers

ERROR_COMPONENT = "Error"
VALIDATION_COMPONENT = "ValidationErrors"

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string", "readOnly": True}},
    "required": ["detail"],
}
# DRF's validation errors: {"field": ["message", ...], "non_field_errors": [...]} (nested for
# nested fields), {"detail": "..."} for a body that is not JSON, or a bare list of messages.
_VALIDATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {"type": "string"}},
    ],
    "description": "字段名 → 错误信息列表（中文）；non_field_errors 为整体错误；detail 为请求本身的问题",
}
# RFC 3339 "full-time" (JSON Schema's "time" format) requires a UTC offset; DRF writes a
# wall-clock time such as "10:30:00" (a send window is local to the company).
_LOCAL_TIME = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"}

_ERRORS: dict[str, str] = {
    "400": "请求内容有误（中文说明）",
    "401": "未登录或令牌无效、已过期",
    "403": "没有这项操作的权限",
    "404": "不存在或无权查看；页码超出范围；或 format 参数不是可用的格式",
    "415": "不支持的请求格式",
    "429": "请求过于频繁，请稍后再试（见 Retry-After）",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with read-only choices that may be empty documented so.

    DRF drops ``allow_blank``/``allow_null`` from a ModelSerializer field listed in
    ``read_only_fields``, so a model's ``CharField(choices=..., blank=True)`` (an event's
    from-status, a deal's move-in kind) was documented as the enum alone while the API
    answers ``""`` for it.
    """

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        if isinstance(field, serializers.ChoiceField) and field.read_only:
            model_field = _model_field(field)
            blank = bool(model_field is not None and model_field.blank and not field.allow_blank)
            null = bool(model_field is not None and model_field.null and not field.allow_null)
            if blank or null:
                field = copy.copy(field)
                field.allow_blank = field.allow_blank or blank
                field.allow_null = field.allow_null or null
        return super()._map_serializer_field(field, direction, bypass_extensions)  # type: ignore[no-untyped-call]


def _model_field(field: Any) -> Any:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return None
    try:
        return model._meta.get_field(field.source)
    except Exception:  # a property or method, not a model field
        return None


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: add the common error answers and fix local times."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_COMPONENT, _ERROR_SCHEMA)
    schemas[VALIDATION_COMPONENT] = _VALIDATION_SCHEMA
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                _add_to_operation(operation)
    for component in schemas.values():
        _replace_time_format(component)
    return result


def _add_to_operation(operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    has_query = any(p.get("in") == "query" for p in parameters)
    has_body = "requestBody" in operation
    anonymous = {} in operation.get("security", [{}])
    codes = ["429"]
    if has_body or has_query:
        codes.append("400")
    if has_body:
        codes.append("415")
    if not anonymous:
        codes += ["401", "403"]
    # 404 too for ``?format=`` naming no renderer (DRF's URL format override, every operation).
    codes.append("404")
    responses = operation.setdefault("responses", {})
    for code in sorted(codes):
        if code in responses:
            continue
        component = VALIDATION_COMPONENT if code == "400" else ERROR_COMPONENT
        responses[code] = {
            "description": _ERRORS[code],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
        }


def _replace_time_format(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node.update(_LOCAL_TIME)
        for value in node.values():
            _replace_time_format(value)
    elif isinstance(node, list):
        for value in node:
            _replace_time_format(value)
