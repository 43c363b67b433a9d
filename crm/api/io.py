"""Import and export over the API: the same reading, validation, writing and workbooks as
the pages (crm.customers.importing, crm.customers.exporting), for integrations.

- ``POST /api/customers/import/`` and ``POST /api/deals/import/`` (multipart): ``file``,
  optional whole-file values (``project``, and for customers ``source_channel`` and
  ``owner``), ``encoding`` and ``columns``. ``commit`` false (the default) answers the
  per-row report — line, column, value, Chinese message — and writes nothing;
  ``commit=true`` writes the file when it has no problem, or with ``only_valid=true`` its
  valid rows, and answers the count; ``commit=true`` on a file with problems and without
  ``only_valid`` writes nothing and answers 400 with the report. The call is synchronous:
  the upload is kept under MEDIA_ROOT/imports only while it runs.
- ``GET /api/customers/export/`` and ``GET /api/deals/export/``: the list page's workbook,
  through the same filter form, scope, masking, watermark and audit row.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

from django.http import FileResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, parsers, renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.accounts.access import company_of
from crm.core.audit import client_ip
from crm.core.xlsx import CONTENT_TYPE
from crm.customers import exporting, importing
from crm.customers.filters import CustomerFilterForm, DealFilterForm
from crm.customers.models import Channel, Customer, Deal
from crm.lib.numbers import parse_id
from crm.lib.textfile import ENCODINGS
from crm.projects.models import Project

from .serializers import ErrorSerializer

if TYPE_CHECKING:
    from crm.accounts.models import User


def _staff(request: Request) -> User:
    return cast("User", request.user)


# ---------------------------------------------------------------- serializers


class ImportRequestSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(label="文件", help_text="Excel 工作簿（.xlsx、.xls）或 CSV、文本文件（.csv、.txt）")
    commit = serializers.BooleanField(
        label="写入", default=False, help_text="false（默认）：只校验，返回逐行报告，不写入任何数据"
    )
    only_valid = serializers.BooleanField(
        label="仅导入有效行", default=False, help_text="与 commit=true 一起使用：有问题的行跳过，其余写入"
    )
    encoding = serializers.ChoiceField(
        label="文件编码",
        choices=[("", "自动识别"), *ENCODINGS.items()],
        required=False,
        default="",
        help_text="CSV/文本文件的编码；不填则自动识别",
    )
    project = serializers.CharField(
        label="楼盘（整个文件）", required=False, default="", help_text="楼盘 id、名称或编码：用于文件中楼盘为空的行"
    )
    columns = serializers.JSONField(
        label="列的对应",
        required=False,
        default=dict,
        help_text='文件中系统不认识的列名对应哪一列，如 {"客户联系号码": "手机号"}；值为空字符串表示不导入该列',
    )


class CustomerImportRequestSerializer(ImportRequestSerializer):
    source_channel = serializers.ChoiceField(
        label="来源渠道（整个文件）",
        choices=[("", "按文件"), *Channel.choices],
        required=False,
        default="",
        help_text="用于文件中来源渠道为空的行",
    )
    owner = serializers.CharField(
        label="置业顾问（整个文件）",
        required=False,
        default="",
        help_text="员工 id 或用户名：用于文件中置业顾问为空的行",
    )


class RowErrorSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(label="行号", help_text="打开文件时看到的行号（第一行为 1）")
    column = serializers.CharField(label="列")
    value = serializers.CharField(label="内容")
    message = serializers.CharField(label="原因")


class FileInfoSerializer(serializers.Serializer[Any]):
    format = serializers.CharField(label="格式", help_text="xlsx、xls 或 text")
    encoding = serializers.CharField(label="编码", help_text="文本文件的编码，如 gb18030、utf-8-sig、utf-16")
    delimiter = serializers.CharField(label="分隔符")
    sheet = serializers.CharField(label="工作表")


# Built by inline_serializer: a field called "errors" cannot be declared on a Serializer class.
ImportReportSerializer = inline_serializer(
    name="ImportReport",
    fields={
        "kind": serializers.CharField(label="导入内容", help_text="customers 或 deals"),
        "filename": serializers.CharField(label="文件名"),
        "file": FileInfoSerializer(label="文件"),
        "total": serializers.IntegerField(label="数据行"),
        "valid": serializers.IntegerField(label="有效行"),
        "invalid": serializers.IntegerField(label="有问题的行"),
        "errors": RowErrorSerializer(many=True, label="问题"),
        "missing": serializers.ListField(child=serializers.CharField(), label="缺少的必填列"),
        "needs": serializers.ListField(child=serializers.CharField(), label="需要为整个文件选择的值"),
        "notes": serializers.ListField(child=serializers.CharField(), label="说明"),
        "committed": serializers.BooleanField(label="已写入"),
        "imported": serializers.IntegerField(label="写入条数"),
        "skipped": serializers.IntegerField(label="跳过的有问题的行"),
        "first_number": serializers.CharField(label="第一个客户编号"),
        "last_number": serializers.CharField(label="最后一个客户编号"),
        "detail": serializers.CharField(label="未写入的原因", required=False),
    },
)


def report_data(report: importing.Report, result: importing.ImportResult | None = None) -> dict[str, Any]:
    """The report as the API answers it (ImportReportSerializer)."""
    info = report.file.to_dict() if report.file else {"format": "", "encoding": "", "delimiter": "", "sheet": ""}
    info.pop("detected", None)
    return {
        "kind": report.kind,
        "filename": report.filename,
        "file": info,
        "total": report.total,
        "valid": report.valid,
        "invalid": report.invalid,
        "errors": [{"line": e.line, "column": e.field, "value": e.value, "message": e.message} for e in report.errors],
        "missing": report.missing_labels,
        "needs": report.needs_labels,
        "notes": report.notes,
        "committed": result is not None,
        "imported": result.imported if result else 0,
        "skipped": result.skipped if result else 0,
        "first_number": result.first_number if result else "",
        "last_number": result.last_number if result else "",
    }


# ---------------------------------------------------------------- import


class _ImportView(APIView):
    kind = importing.CUSTOMERS
    request_serializer: type[ImportRequestSerializer] = CustomerImportRequestSerializer
    parser_classes = (parsers.MultiPartParser, parsers.FormParser)
    renderer_classes = (renderers.JSONRenderer,)

    def post(self, request: Request) -> Response:
        user = _staff(request)
        if not importing.may_import(user, self.kind):
            raise exceptions.PermissionDenied(
                "您没有导入成交记录的权限。" if self.kind == importing.DEALS else "您没有导入客户的权限。"
            )
        serializer = self.request_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        options = importing.Options(
            encoding=data["encoding"],
            values=self._values(user, data),
            choices={**importing.saved_choices(user, self.kind), **self._choices(data["columns"])},
        )
        token = ""
        try:
            token = importing.store_upload(upload)
            path = importing.upload_path(token)
            filename = upload.name or ""
            validation = importing.validate_file(path, self.kind, user=user, filename=filename, options=options)
            report = validation.report
            if not data["commit"]:
                return Response(report_data(report))
            if report.blocked:
                return self._refused(report, f"{report.blocked_message()}，未导入任何数据")
            if report.errors and not data["only_valid"]:
                return self._refused(report, f"文件中有 {report.invalid} 行存在问题，未导入任何数据")
            result = importing.import_file(
                path,
                self.kind,
                user=user,
                filename=filename,
                batch=token,
                only_valid=data["only_valid"],
                ip=client_ip(request),
                prevalidated=validation,
                options=options,
            )
        except importing.ImportBlocked as exc:
            return self._refused(exc.report, f"{exc.message}：文件中的数据与现有数据有冲突")
        except importing.ImportFileError as exc:
            return Response({exc.field or "file": [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        finally:
            if token:
                importing.discard_upload(token)
        return Response(report_data(validation.report, result), status=status.HTTP_201_CREATED)

    @staticmethod
    def _refused(report: importing.Report, message: str) -> Response:
        return Response({**report_data(report), "detail": message}, status=status.HTTP_400_BAD_REQUEST)

    def _values(self, user: User, data: dict[str, Any]) -> dict[str, str]:
        """Whole-file values as a cell would hold them: ids become names and usernames."""
        values: dict[str, str] = {}
        project = str(data.get("project", "")).strip()
        if project.isdigit():
            project_id = parse_id(project)
            found = Project.objects.filter(pk=project_id, company_id=company_of(user)).first() if project_id else None
            if found is None:
                raise serializers.ValidationError({"project": ["楼盘不存在或不属于本公司。"]})
            project = found.name
        if project:
            values["project"] = project
        if channel := data.get("source_channel"):
            values["source_channel"] = channel
        owner = str(data.get("owner", "")).strip()
        if owner.isdigit():
            from crm.accounts.models import User as UserModel

            owner_id = parse_id(owner)
            named = UserModel.objects.filter(pk=owner_id, company_id=company_of(user)).first() if owner_id else None
            if named is None:
                raise serializers.ValidationError({"owner": ["员工不存在或不属于本公司。"]})
            owner = named.username
        if owner:
            values["owner"] = owner
        return values

    def _choices(self, columns: Any) -> dict[str, str]:
        """{normalised header: column key} from {"file header": "column header or key"}."""
        if isinstance(columns, str):
            try:
                columns = json.loads(columns) if columns.strip() else {}
            except ValueError:
                raise serializers.ValidationError({"columns": ["列的对应应为 JSON 对象。"]}) from None
        if not isinstance(columns, dict):
            raise serializers.ValidationError({"columns": ["列的对应应为 JSON 对象。"]})
        known = {c.header: c.key for c in importing.COLUMNS[self.kind]} | {
            c.key: c.key for c in importing.COLUMNS[self.kind]
        }
        choices: dict[str, str] = {}
        for header, target in columns.items():
            target = str(target or "")
            if target and target not in known:
                raise serializers.ValidationError({"columns": [f"没有名为“{target}”的列。"]})
            choices[importing.normalise_header(header)] = known.get(target, "")
        return choices


_IMPORT_DESCRIPTION = (
    "上传 Excel（.xlsx、.xls）或 CSV/文本文件（自动识别 UTF-8、GBK/GB18030、UTF-16 编码及逗号、制表符、分号分隔）。"
    "`commit` 为 false（默认）时只校验：返回每个有问题的行（行号、列、内容、中文原因），不写入任何数据。"
    "`commit=true`：文件没有问题时全部写入；有问题时不写入任何数据并返回 400，"
    "除非同时指定 `only_valid=true`，此时只写入有效行并返回写入条数。"
    "文件中楼盘等为空时，可用 `project` 等参数为整个文件指定。"
)
_IMPORT_RESPONSES = {
    200: OpenApiResponse(ImportReportSerializer, description="只校验：逐行报告，未写入"),
    201: OpenApiResponse(ImportReportSerializer, description="已写入：写入条数与报告"),
    # The report with a "detail" (problems in the file), or field errors (no file, unreadable file).
    400: OpenApiResponse(
        OpenApiTypes.OBJECT, description="文件有问题（逐行报告加 detail）或无法读取（字段错误），未写入任何数据"
    ),
    403: OpenApiResponse(ErrorSerializer, description="没有导入权限"),
}


class CustomerImportView(_ImportView):
    """Customers from a file (the import page's rules)."""

    kind = importing.CUSTOMERS
    request_serializer = CustomerImportRequestSerializer

    @extend_schema(
        operation_id="customers_import",
        summary="导入客户",
        description=_IMPORT_DESCRIPTION,
        request={"multipart/form-data": CustomerImportRequestSerializer},
        responses=_IMPORT_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class DealImportView(_ImportView):
    """Deals from a file (the import page's rules); needs the right to register deals."""

    kind = importing.DEALS
    request_serializer = ImportRequestSerializer

    @extend_schema(
        operation_id="deals_import",
        summary="导入成交记录",
        description=_IMPORT_DESCRIPTION,
        request={"multipart/form-data": ImportRequestSerializer},
        responses=_IMPORT_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


# ---------------------------------------------------------------- export


class XlsxRenderer(renderers.BaseRenderer):
    """Lets a client ask for the workbook by its media type; errors still go out as JSON."""

    media_type = CONTENT_TYPE
    format = "xlsx"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode()


def _filter_parameters(form_class: type[Any]) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(name, str, description=str(field.label or name))
        for name, field in form_class.base_fields.items()
        if name not in {"per_page"}
    ]


class _ExportView(APIView):
    renderer_classes = (renderers.JSONRenderer, XlsxRenderer)
    permission = "customers.export_customers"

    def export(self, user: User, request: Request) -> exporting.Export:
        raise NotImplementedError

    def get(self, request: Request) -> FileResponse:
        user = _staff(request)
        if not user.has_perm(self.permission):
            raise exceptions.PermissionDenied("您没有导出权限。")
        export = self.export(user, request)
        response = FileResponse(export.file, content_type=CONTENT_TYPE)
        response["Content-Disposition"] = export.content_disposition
        response["Cache-Control"] = "no-store"
        return response


class CustomerExportView(_ExportView):
    """The customer list's workbook: same filters, scope, masking, watermark and audit."""

    queryset = Customer.objects.none()

    def export(self, user: User, request: Request) -> exporting.Export:
        return exporting.export_customers(user, request.query_params, ip=client_ip(request))

    @extend_schema(
        operation_id="customers_export",
        summary="导出客户",
        description="与客户列表页“导出Excel”相同的文件：相同的筛选参数和数据范围，手机号按权限脱敏，"
        "不含身份证号，带导出人水印，并记入审计日志。",
        parameters=_filter_parameters(CustomerFilterForm),
        responses={
            (200, CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="Excel 工作簿"),
            403: OpenApiResponse(ErrorSerializer, description="没有导出权限"),
        },
    )
    def get(self, request: Request) -> FileResponse:
        return super().get(request)


class DealExportView(_ExportView):
    """The deal list's workbook, masked and audited like the customers'."""

    queryset = Deal.objects.none()

    def export(self, user: User, request: Request) -> exporting.Export:
        return exporting.export_deals(user, request.query_params, ip=client_ip(request))

    @extend_schema(
        operation_id="deals_export",
        summary="导出成交",
        description="与成交列表页导出相同的文件：相同的筛选参数和数据范围，手机号按权限脱敏，带水印并记入审计日志。",
        parameters=_filter_parameters(DealFilterForm),
        responses={
            (200, CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="Excel 工作簿"),
            403: OpenApiResponse(ErrorSerializer, description="没有导出权限"),
        },
    )
    def get(self, request: Request) -> FileResponse:
        return super().get(request)


# Registered in crm/api/urls.py before the router's routes.
urlpatterns = [
    path("customers/import/", CustomerImportView.as_view(), name="api-customer-import"),
    path("deals/import/", DealImportView.as_view(), name="api-deal-import"),
    path("customers/export/", CustomerExportView.as_view(), name="api-customer-export"),
    path("deals/export/", DealExportView.as_view(), name="api-deal-export"),
]
