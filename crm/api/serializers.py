"""Explicit serializers: what the API shows and what it accepts.

Read serializers never expose a full mobile number (PIPL, DESIGN.md 3.7: lists and
details are masked; revealing is an audited action of its own). Write serializers only
check shapes and scope (a project, owner, customer or unit outside the caller's reach
does not exist for them); the services in crm.customers.services decide everything else.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from rest_framework import serializers

from crm.accounts.access import assignable_owners_q
from crm.customers.models import Channel, Customer, Deal, Gender, Grade, MoveInKind, Stage, Tag
from crm.customers.selectors import customers_visible_to
from crm.projects.models import Project, Unit

from .scope import projects_visible_to, units_visible_to

User = get_user_model()


def _caller(serializer: serializers.Serializer[Any]) -> Any:
    """The requesting user; None while the schema generator inspects the serializer."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _limit(field: Any, queryset: QuerySet[Any]) -> None:
    """Point a relation field (or the child of a many-relation) at the caller's choices."""
    getattr(field, "child_relation", field).queryset = queryset


class TokenRequestSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(label="用户名", max_length=150)
    password = serializers.CharField(
        label="密码", max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        label="动态验证码", max_length=10, required=False, help_text="已启用动态验证码的账号必填：应用中的 6 位数字"
    )


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, label="过期时间")


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(read_only=True)


class ProjectSerializer(serializers.ModelSerializer[Project]):
    class Meta:
        model = Project
        fields = ["id", "name", "code", "city", "address", "sales_phone", "is_active"]
        read_only_fields = fields


class UnitSerializer(serializers.ModelSerializer[Unit]):
    building = serializers.CharField(source="building.name", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "project", "building", "number", "label", "layout", "area", "price", "status"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer[Customer]):
    """A customer as every reader sees it: contact numbers masked."""

    mobile = serializers.CharField(source="masked_mobile", read_only=True)
    mobile2 = serializers.CharField(source="masked_mobile2", read_only=True)
    tags: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "name",
            "gender",
            "mobile",
            "mobile2",
            "project",
            "owner",
            "stage",
            "grade",
            "is_vip",
            "source_channel",
            "tags",
            "birthday_on",
            "consent_care",
            "consent_marketing",
            "has_opted_out",
            "is_archived",
            "created_at",
        ]
        read_only_fields = fields


class TagNameField(serializers.SlugRelatedField[Tag]):
    """A tag given by name; text PostgreSQL would refuse is a 400, not a database error."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class _CustomerWriteSerializer(serializers.Serializer[Any]):
    """Fields a caller may set on a customer; the request's user decides the choices."""

    name = serializers.CharField(label="姓名", max_length=50)
    mobile = serializers.CharField(label="手机号", max_length=30, help_text="完整号码；保存时统一为标准格式")
    mobile2 = serializers.CharField(label="备用手机号", max_length=30, required=False, allow_blank=True)
    gender = serializers.ChoiceField(label="性别", choices=Gender.choices, required=False, allow_blank=True)
    project = serializers.PrimaryKeyRelatedField(label="意向楼盘", queryset=Project.objects.none())
    stage = serializers.ChoiceField(label="客户阶段", choices=Stage.choices, required=False)
    grade = serializers.ChoiceField(label="客户等级", choices=Grade.choices, required=False)
    is_vip = serializers.BooleanField(label="VIP", required=False)
    source_channel = serializers.ChoiceField(label="来源渠道", choices=Channel.choices)
    tags = TagNameField(label="标签", slug_field="name", many=True, queryset=Tag.objects.none(), required=False)
    birthday_on = serializers.DateField(label="生日(公历)", required=False, allow_null=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = _caller(self)
        if user is not None:
            _limit(self.fields["project"], projects_visible_to(user))
            _limit(self.fields["tags"], Tag.objects.filter(company_id=user.company_id))


class CustomerCreateSerializer(_CustomerWriteSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        label="置业顾问", queryset=User.objects.none(), required=False, help_text="默认为当前用户"
    )
    consent_care = serializers.BooleanField(label="同意接收关怀短信", required=False)
    consent_marketing = serializers.BooleanField(label="同意接收营销短信", required=False)
    consent_source = serializers.CharField(label="同意来源", max_length=50, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = _caller(self)
        if user is not None:
            _limit(self.fields["owner"], User.objects.filter(company_id=user.company_id, is_active=True))

    def validate_owner(self, owner: Any) -> Any:
        # As on the registration page: choosing another owner takes the reassignment
        # permission, and only colleagues one may hand customers to (crm.core.scope)
        # qualify, so a consultant registers customers for themselves only.
        user = _caller(self)
        if owner.pk == user.pk:
            return owner
        if (
            user.has_perm("customers.reassign_customer")
            and User.objects.filter(assignable_owners_q(user), pk=owner.pk).exists()
        ):
            return owner
        raise serializers.ValidationError("您不能为其他员工录入客户")


class CustomerUpdateSerializer(_CustomerWriteSerializer):
    """Partial updates of the main record.

    Owner and SMS consent are not editable here: a change of owner is a reassignment
    and a change of consent needs its own consent record (crm.customers.services).
    """

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A client that sends back the masked number it was shown has not changed it.
        for field, masked in (("mobile", "masked_mobile"), ("mobile2", "masked_mobile2")):
            value = attrs.get(field)
            if value and self.instance is not None and value == getattr(self.instance, masked) and "*" in value:
                del attrs[field]
        return attrs


class DealSerializer(serializers.ModelSerializer[Deal]):
    unit_label = serializers.CharField(source="unit.label", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    current_milestone = serializers.CharField(read_only=True)
    # Empty until the customer has moved in: the schema must allow "" beside the choices.
    move_in_kind = serializers.ChoiceField(
        label="入住方式", choices=MoveInKind.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Deal
        fields = [
            "id",
            "customer",
            "customer_name",
            "project",
            "unit",
            "unit_label",
            "consultant",
            "price",
            "status",
            "subscribed_on",
            "contracted_on",
            "full_payment_on",
            "filed_on",
            "delivery_planned_on",
            "delivered_on",
            "moved_in_on",
            "move_in_kind",
            "cancelled_on",
            "current_milestone",
            "created_at",
        ]
        read_only_fields = fields


class DealUpdateSerializer(serializers.Serializer[Any]):
    """Milestone dates, price and move-in kind; the order of the dates is checked by the service."""

    price = serializers.DecimalField(
        label="成交总价(元)", max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    subscribed_on = serializers.DateField(label="认购日期", required=False)
    contracted_on = serializers.DateField(label="签约日期", required=False, allow_null=True)
    full_payment_on = serializers.DateField(label="全款到账日期", required=False, allow_null=True)
    filed_on = serializers.DateField(label="合同备案日期", required=False, allow_null=True)
    delivery_planned_on = serializers.DateField(label="计划交房日期", required=False, allow_null=True)
    delivered_on = serializers.DateField(label="实际交房日期", required=False, allow_null=True)
    moved_in_on = serializers.DateField(label="入住日期", required=False, allow_null=True)
    move_in_kind = serializers.ChoiceField(
        label="入住方式", choices=MoveInKind.choices, required=False, allow_blank=True
    )


class DealCreateSerializer(DealUpdateSerializer):
    customer = serializers.PrimaryKeyRelatedField(label="客户", queryset=Customer.objects.none())
    unit = serializers.PrimaryKeyRelatedField(label="房号", queryset=Unit.objects.none())
    subscribed_on = serializers.DateField(label="认购日期")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = _caller(self)
        if user is not None:
            _limit(self.fields["customer"], customers_visible_to(user))
            _limit(self.fields["unit"], units_visible_to(user))
