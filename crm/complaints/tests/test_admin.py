"""投诉类别 in 系统设置: per company, owners of the company only."""

from __future__ import annotations

import pytest

from crm.accounts.models import Company
from crm.accounts.services import create_staff
from crm.complaints.models import Category

pytestmark = pytest.mark.django_db


def test_administrators_edit_their_own_companys_categories(client, admin_user, category, service):
    other = Company.objects.create(name="别家置业")
    Category.objects.create(company=other, name="别家的类别")
    stranger = create_staff("stranger", company=other, roles=(), password="x-pass-123", display_name="外司员工")
    client.force_login(admin_user)
    listing = client.get("/admin/complaints/category/").content.decode()
    assert "服务质量" in listing
    assert "别家的类别" not in listing
    form = client.get("/admin/complaints/category/add/").content.decode()
    assert str(service) in form
    assert str(stranger) not in form
    response = client.post(
        "/admin/complaints/category/add/", {"name": "物业服务", "owner": service.pk, "sort_order": 9, "is_active": "on"}
    )
    assert response.status_code == 302
    assert Category.objects.get(name="物业服务").company == admin_user.company
