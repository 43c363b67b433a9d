"""Forms of the customer and deal pages. They decide whether input is acceptable;
services (crm.customers.services) decide what happens and re-check the business rules.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from crm.accounts.access import assignable_owners_q, company_of
from crm.accounts.models import User
from crm.customers import archive
from crm.customers.milestones import milestone_errors
from crm.customers.models import (
    ArchiveReason,
    Channel,
    ConsentRecord,
    Customer,
    CustomerProfile,
    Deal,
    FamilyMember,
    MoveInKind,
    Tag,
)
from crm.customers.selectors import customers_visible_to
from crm.customers.services import DEAL_DATE_FIELDS
from crm.lib.mobile import InvalidMobile, normalize_mobile
from crm.lib.numbers import parse_id
from crm.projects.models import Unit
from crm.projects.selectors import UNIT_ORDER, projects_visible_to

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _check_mobile(value: str, *, required: bool) -> str:
    value = (value or "").strip()
    if not value and not required:
        return ""
    try:
        normalize_mobile(value)
    except InvalidMobile as exc:
        raise forms.ValidationError(exc.message) from exc
    return value


class UserChoiceField(forms.ModelChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class CustomerForm(forms.ModelForm[Customer]):
    """The main record of a customer, for both registration and editing.

    On edit the mobiles and the ID number start blank ("留空则不修改"): the form never
    shows a full number, which only the audited reveal action may do (PIPL). Consent
    is changed on the 360° page, where each change leaves a ConsentRecord.
    """

    mobile = forms.CharField(
        label="手机号",
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
        help_text="大陆手机号11位；境外号码请带国际区号，如 +85291234567",
    )
    mobile2 = forms.CharField(
        label="备用手机号",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label="身份证号",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="加密保存，仅显示前6位和后4位",
    )
    referrer_number = forms.CharField(
        label="推荐人客户编号",
        max_length=20,
        required=False,
        help_text="老带新时填写老客户的客户编号，如 KH00000012",
    )
    owner = UserChoiceField(queryset=User.objects.none(), label="置业顾问", empty_label=None)
    advisor = UserChoiceField(queryset=User.objects.none(), label="VIP专属顾问", required=False, empty_label="无")
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(), required=False, label="标签", widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "gender",
            "mobile",
            "mobile2",
            "id_number",
            "stage",
            "grade",
            "is_vip",
            "owner",
            "advisor",
            "project",
            "source_channel",
            "referrer_number",
            "tags",
            "birthday_on",
            "birthday_is_lunar",
            "lunar_month",
            "lunar_day",
            "lunar_is_leap",
            "consent_care",
            "consent_marketing",
            "consent_source",
            "notes",
        ]
        widgets = {
            "birthday_on": DATE,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "lunar_month": forms.NumberInput(attrs={"min": 1, "max": 12}),
            "lunar_day": forms.NumberInput(attrs={"min": 1, "max": 30}),
        }
        help_texts = {
            "birthday_on": "按农历过生日时，可只填农历月、日",
            "consent_source": "如 售楼处登记表、电话确认",
        }
        error_messages = {"name": {"required": "请填写客户姓名"}}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.is_edit = self.instance.pk is not None
        fields: Any = self.fields
        fields["mobile"].error_messages["required"] = "请填写手机号"
        fields["source_channel"].choices = [("", "请选择来源渠道"), *Channel.choices]
        fields["source_channel"].error_messages["required"] = "请选择来源渠道"
        projects = projects_visible_to(user).filter(is_active=True)
        if self.is_edit:
            projects = projects | projects_visible_to(user).model.objects.filter(pk=self.instance.project_id)
        fields["project"].queryset = projects.distinct().order_by("name")
        fields["project"].empty_label = None
        fields["tags"].queryset = Tag.objects.filter(company_id=company_of(user))
        fields["advisor"].queryset = User.objects.filter(company_id=company_of(user), is_active=True).order_by(
            "display_name", "username"
        )
        self.can_choose_owner = user.has_perm("customers.reassign_customer")
        if self.can_choose_owner:
            owners = User.objects.filter(assignable_owners_q(user))
            if self.is_edit:
                owners = owners | User.objects.filter(pk=self.instance.owner_id)
            fields["owner"].queryset = owners.distinct().order_by("display_name", "username")
            fields["owner"].initial = self.instance.owner_id if self.is_edit else user.pk
        else:
            del self.fields["owner"]
        if self.is_edit:
            for name in ("consent_care", "consent_marketing", "consent_source"):
                del self.fields[name]
            fields["mobile"].required = False
            fields["mobile"].help_text = "留空则不修改；修改时请填写完整号码"
            self.initial["mobile"] = ""
            self.initial["mobile2"] = ""
            fields["mobile"].widget.attrs["placeholder"] = self.instance.masked_mobile
            if self.instance.mobile2:
                fields["mobile2"].widget.attrs["placeholder"] = self.instance.masked_mobile2
                fields["mobile2"].help_text = "留空则不修改"
                self.fields["clear_mobile2"] = forms.BooleanField(required=False, label="清除备用手机号")
            if self.instance.id_number_hint:
                fields["id_number"].help_text = f"已登记 {self.instance.id_number_hint}；留空则不修改"
            if self.instance.referrer is not None:
                self.initial["referrer_number"] = self.instance.referrer.number
        else:
            fields["project"].initial = fields["project"].queryset.values_list("pk", flat=True).first()

    def clean_mobile(self) -> str:
        return _check_mobile(self.cleaned_data.get("mobile", ""), required=not self.is_edit)

    def clean_mobile2(self) -> str:
        return _check_mobile(self.cleaned_data.get("mobile2", ""), required=False)

    def clean_referrer_number(self) -> Customer | None:
        number = (self.cleaned_data.get("referrer_number") or "").strip().upper()
        if not number:
            return None
        referrer = customers_visible_to(self.user).filter(number=number).first()
        if referrer is None:
            raise forms.ValidationError(f"未找到客户编号 {number}（只能选择您有权查看的客户）")
        if self.is_edit and referrer.pk == self.instance.pk:
            raise forms.ValidationError("推荐人不能是客户本人")
        return referrer

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments for create_customer / update_customer."""
        data = dict(self.cleaned_data)
        data["referrer"] = data.pop("referrer_number", None)
        if not self.can_choose_owner:
            data.pop("owner", None)
        clear_mobile2 = data.pop("clear_mobile2", False)
        if self.is_edit:
            if not data.get("mobile"):
                data.pop("mobile", None)
            if clear_mobile2:
                data["mobile2"] = ""
            elif not data.get("mobile2"):
                data.pop("mobile2", None)
        data["tags"] = list(data.get("tags") or [])
        return data


class FamilyMemberForm(forms.ModelForm[FamilyMember]):
    guardian_consent = forms.BooleanField(
        required=False,
        label="已取得监护人单独同意",
        help_text="记录未成年子女的生日等信息前必须取得（个人信息保护法第31条）",
    )

    class Meta:
        model = FamilyMember
        fields = [
            "relation",
            "name",
            "gender",
            "mobile",
            "birthday_on",
            "birthday_is_lunar",
            "lunar_month",
            "lunar_day",
            "lunar_is_leap",
            "consent_care",
            "notes",
        ]
        widgets = {
            "birthday_on": DATE,
            "mobile": forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
            "lunar_month": forms.NumberInput(attrs={"min": 1, "max": 12}),
            "lunar_day": forms.NumberInput(attrs={"min": 1, "max": 30}),
        }
        error_messages = {"name": {"required": "请填写姓名"}, "relation": {"required": "请选择关系"}}

    def clean_mobile(self) -> str:
        return _check_mobile(self.cleaned_data.get("mobile", ""), required=False)

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["guardian_consent_at"] = timezone.now() if data.pop("guardian_consent", False) else None
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label="跟进记录",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "记录本次沟通：客户关注点、下一步安排……"}),
        error_messages={"required": "跟进内容不能为空"},
    )


class ConsentForm(forms.Form):
    SOURCES = ("当面确认", "电话确认", "书面签字", "微信确认", "短信回复")

    purpose = forms.ChoiceField(choices=ConsentRecord.Purpose.choices)
    granted = forms.TypedChoiceField(choices=[("1", "同意"), ("0", "撤回")], coerce=lambda v: v == "1")
    source = forms.ChoiceField(choices=[(s, s) for s in SOURCES], required=False, label="渠道")


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("mobile", "手机号"), ("mobile2", "备用手机号"), ("id_number", "身份证号")])
    reason = forms.CharField(max_length=100, required=False)


# "重复客户（已合并）" is set by a merge only.
ARCHIVE_CHOICES = [("", "请选择"), *((v, lbl) for v, lbl in ArchiveReason.choices if v != ArchiveReason.DUPLICATE)]


class DisposeForm(forms.Form):
    reason = forms.ChoiceField(label="归档原因", choices=ARCHIVE_CHOICES, error_messages={"required": "请选择归档原因"})
    note = forms.CharField(label="说明", max_length=200, required=False)


class MergeForm(forms.Form):
    number = forms.CharField(
        label="要合并进来的客户编号",
        max_length=20,
        help_text="该客户的成交、动态、家庭成员、授权记录将并入当前客户，原记录归档为“重复客户”",
        error_messages={"required": "请填写客户编号"},
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_number(self) -> str:
        return str(self.cleaned_data["number"]).strip().upper()


BULK_ACTIONS = {"reassign": "变更置业顾问", "tag": "添加标签", "archive": "归档为无效"}


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()))
    new_owner = UserChoiceField(
        queryset=User.objects.none(), required=False, label="新的置业顾问", empty_label="请选择"
    )
    reason = forms.CharField(max_length=200, required=False, label="变更原因")
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), required=False, label="标签", empty_label="请选择标签")
    archive_reason = forms.ChoiceField(choices=ARCHIVE_CHOICES, required=False, label="归档原因")
    archive_note = forms.CharField(max_length=200, required=False, label="说明")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["new_owner"].queryset = User.objects.filter(assignable_owners_q(user)).order_by(
            "display_name", "username"
        )
        fields["tag"].queryset = Tag.objects.filter(company_id=company_of(user))

    def selected_ids(self) -> list[int]:
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        return sorted({i for v in raw if (i := parse_id(v)) is not None})[:500]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "reassign" and not data.get("new_owner"):
            self.add_error("new_owner", "请选择新的置业顾问")
        if action == "tag" and not data.get("tag"):
            self.add_error("tag", "请选择标签")
        if action == "archive" and not data.get("archive_reason"):
            self.add_error("archive_reason", "请选择归档原因")
        return data


class ProfileForm(forms.ModelForm[CustomerProfile]):
    """The archive editor; fields and their order come from crm.customers.archive."""

    guardian_consent = forms.BooleanField(required=False, label="子女信息已取得监护人单独同意")

    class Meta:
        model = CustomerProfile
        fields = archive.profile_fields(show_sensitive=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer_id = self.instance.customer_id
        company_id = Customer.objects.filter(pk=customer_id).values_list("company_id", flat=True).first()
        visible = set(archive.profile_fields(company_id=company_id or 0))
        for name in list(self.fields):
            if name != "guardian_consent" and name not in visible:
                del self.fields[name]
        if "children_status" not in self.fields:
            del self.fields["guardian_consent"]
        for name, field in self.fields.items():
            if name in archive.HINTS:
                field.help_text = archive.HINTS[name]
            max_length = getattr(field, "max_length", None) or 0
            if isinstance(field.widget, forms.TextInput) and max_length > 150:
                field.widget = forms.Textarea(attrs={"rows": 2, "maxlength": max_length})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            "children_status" in self.fields
            and data.get("children_status")
            and "children_status" in self.changed_data
            and not data.get("guardian_consent")
        ):
            self.add_error("guardian_consent", "记录子女信息需要监护人单独同意")
        return data

    def service_fields(self) -> dict[str, Any]:
        fields = {name: value for name, value in self.cleaned_data.items() if name != "guardian_consent"}
        if self.cleaned_data.get("guardian_consent"):
            fields["children_consent_at"] = timezone.now()
        return fields


class UnitChoiceField(forms.ModelChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        parts = [obj.label]
        if obj.layout:
            parts.append(obj.layout)
        if obj.area:
            parts.append(f"{obj.area:g}㎡")
        if obj.price:
            parts.append(f"{obj.price / 10000:,.1f}万元")
        return " · ".join(parts)


class DealDatesMixin(forms.ModelForm[Deal]):
    """Checks the milestone order on the form, so every wrong date shows on its own field."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        dates = {name: data.get(name) for name in DEAL_DATE_FIELDS if name in self.fields}
        if not any(name in self.errors for name in dates):
            for field, message in milestone_errors(dates, today=timezone.localdate()).items():
                if field in self.fields:
                    self.add_error(field, message)
        if data.get("moved_in_on") and not data.get("move_in_kind") and "move_in_kind" in self.fields:
            self.add_error("move_in_kind", "请选择入住方式（集中/零星）")
        return data

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields if name != "unit"} | {
            "move_in_kind": self.cleaned_data.get("move_in_kind") or ""
        }


class DealCreateForm(DealDatesMixin):
    unit = UnitChoiceField(queryset=Unit.objects.none(), label="房号", empty_label="请选择可售房源")

    class Meta:
        model = Deal
        fields = ["unit", "price", *DEAL_DATE_FIELDS, "move_in_kind"]
        widgets = dict.fromkeys(DEAL_DATE_FIELDS, DATE)
        help_texts = {"price": "留空则按房源总价"}
        error_messages = {"subscribed_on": {"required": "认购日期必填"}}

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["unit"].queryset = (
            Unit.objects.filter(project_id=customer.project_id, status=Unit.Status.AVAILABLE)
            .select_related("building")
            .order_by(*UNIT_ORDER)
        )
        fields["unit"].error_messages["required"] = "请选择房号"
        fields["unit"].error_messages["invalid_choice"] = "该房源已不可售，请重新选择"
        fields["move_in_kind"].choices = [("", "—"), *MoveInKind.choices]
        self.initial.setdefault("subscribed_on", timezone.localdate())


class DealEditForm(DealDatesMixin):
    class Meta:
        model = Deal
        fields = ["price", *DEAL_DATE_FIELDS, "move_in_kind"]
        widgets = dict.fromkeys(DEAL_DATE_FIELDS, DATE)
        error_messages = {"subscribed_on": {"required": "认购日期必填"}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["move_in_kind"].choices = [("", "—"), *MoveInKind.choices]


class DealCancelForm(forms.Form):
    reason = forms.CharField(
        label="退房原因", max_length=200, error_messages={"required": "请填写退房原因"}, widget=forms.TextInput()
    )
