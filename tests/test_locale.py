"""The Chinese the dependencies lack (locale/zh_Hans): the committed .mo is the .po
compiled, and the admin pages that show those strings have no English left in them;
django-axes' rows are shown and unlocked under 账号与权限 (crm.accounts.admin)."""

from __future__ import annotations

import ast
import gettext
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings

from crm.accounts.models import LoginLock
from crm.core.audit import AuditLog

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
# Latin words a Chinese office reads as they are (the tour's allow-list, ../shared/tools/tour.py).
ALLOWED = {"VIP", "EXCEL", "ESTATECRM", "API", "PDF", "WECHAT", "ID", "HTTP", "URL", "SMS", "TOTP", "XLSX", "CSV"}
ALLOWED |= {"XLS", "UTF", "GET", "POST", "ACCEPT", "SHA"}  # request parts named as the protocol names them
ALLOWED |= {"CONTROL", "COMMAND"}  # keys, as printed on the keyboard (Django's multi-select help)


def po_entries(path: Path) -> dict[str, str]:
    """The msgid → msgstr pairs of a .po file of single-line entries (the header left out)."""
    entries: dict[str, str] = {}
    msgid = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            msgid = ast.literal_eval(line[6:])
        elif line.startswith("msgstr ") and msgid:
            entries[msgid] = ast.literal_eval(line[7:])
    return entries


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_committed_mo_is_the_po_compiled(domain):
    entries = po_entries(CATALOGUE / f"{domain}.po")
    assert len(entries) > 5
    with (CATALOGUE / f"{domain}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = {k: v for k, v in compiled._catalog.items() if k}
    assert catalog == entries, f"locale/zh_Hans: run msgfmt -o {domain}.mo {domain}.po"
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in entries.values())


def test_the_admin_pickers_script_strings_are_served_in_chinese(client, admin_user):
    """The two-box picker (roles' permissions, staff's projects) draws its labels in the
    browser from the admin's JavaScript catalogue, which LOCALE_PATHS joins."""
    client.force_login(admin_user)
    script = client.get("/admin/jsi18n/").content.decode()
    found = re.search(r"const newcatalog = (\{.*?\});\n", script, re.S)
    assert found is not None
    catalogue = json.loads(found.group(1))
    assert catalogue["Choose all %s"] == "选择全部%s"
    assert catalogue["Remove all %s"] == "移除全部%s"
    assert catalogue["(click to clear)"] == "（点击清除）"
    assert catalogue["Choose all"] == "全选"  # Django's own catalogue still joins ours


class VisibleText(HTMLParser):
    """Text a person or a screen reader meets: the body without scripts and styles, plus
    title attributes (visually hidden table headers are read aloud, so they count)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        self.parts.extend(value or "" for name, value in attrs if name in ("title", "aria-label", "placeholder"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def english_words(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    words = set(re.findall(r"\b[A-Za-z]{4,}\b", " ".join(parser.parts)))
    return {w for w in words if w.upper() not in ALLOWED}


@pytest.mark.django_db
def test_the_admin_index_and_the_login_rows_are_in_chinese(client, admin_user):
    AccessAttempt.objects.create(
        username="consultant9", ip_address="10.0.0.8", user_agent="Mozilla/5.0", failures_since_start=3
    )
    client.force_login(admin_user)
    index = client.get("/admin/").content.decode()
    for name in ("账号与权限", "登录锁定", "登录记录", "登录失败记录"):
        assert name in index
    assert "模型名称" in index  # the hidden header row, read by screen readers
    assert "/admin/axes/" not in index  # django-axes' own English pages are not registered
    assert english_words(index) - {admin_user.username} == set()
    listing = client.get("/admin/accounts/loginlock/").content.decode()
    for text in ("consultant9", "IP 地址", "还可尝试 2 次"):
        assert text in listing
    assert "consultant9：连续登录失败 3 次" in listing  # the row's own name (the checkbox's label)
    assert english_words(listing) - {"consultant9", "Mozilla", admin_user.username} == set()


@pytest.mark.django_db
def test_an_administrator_unlocks_a_locked_username_and_it_is_audited(client, admin_user, consultant):
    AccessAttempt.objects.create(username=consultant.username, ip_address="10.0.0.8", failures_since_start=5)
    AccessAttempt.objects.create(username="nobody", ip_address="10.0.0.9", failures_since_start=1)
    client.force_login(admin_user)
    assert "已锁定" in client.get("/admin/accounts/loginlock/").content.decode()
    locked = LoginLock.objects.get(username=consultant.username)
    response = client.post(
        "/admin/accounts/loginlock/", {"action": "unlock", "_selected_action": [locked.pk]}, follow=True
    )
    assert "已解除 1 个用户名的登录锁定" in response.content.decode()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["nobody"]
    row = AuditLog.objects.get(summary=f"解除用户名 {consultant.username} 的登录锁定")
    assert (row.actor_id, row.target_type, row.target_id) == (admin_user.pk, "accounts.user", str(consultant.pk))


@pytest.mark.django_db
def test_the_role_and_staff_editors_name_every_permission_in_chinese(client, admin_user):
    client.force_login(admin_user)
    group_form = client.get("/admin/auth/group/add/").content.decode()
    assert "登录防护 | 登录尝试 | 查看登录尝试" in group_form  # Django stores "Can view access attempt"
    assert english_words(group_form) - {admin_user.username} == set()
    user_form = client.get("/admin/accounts/user/add/").content.decode()
    assert "创建员工账号后" in user_form
    assert english_words(user_form) - {admin_user.username} == set()
    staff_form = client.get(f"/admin/accounts/user/{admin_user.pk}/change/").content.decode()
    assert "账号与权限 | 员工 | 修改员工" in staff_form
    assert english_words(staff_form) - {admin_user.username} == set()


def test_every_model_of_ours_has_a_chinese_name():
    """Django names a model without verbose_name from its class ("flag event"): the admin,
    the permission pickers and the audit log would show that."""
    english = {
        model._meta.label: str(name)
        for model in apps.get_models()
        if model.__module__.startswith("crm.")
        for name in (model._meta.verbose_name, model._meta.verbose_name_plural)
        if re.search(r"[A-Za-z]{3,}", str(name))
    }
    assert english == {}


@pytest.mark.django_db
def test_every_admin_list_and_add_page_is_in_chinese(client, admin_user, consultant):
    """Each registered model's list (with a row where the test has one) and add form: the
    column headers, filters, actions and field labels a superuser sees."""
    from django.contrib import admin

    from crm.projects.models import Project

    client.force_login(admin_user)
    # Data, not interface: the people's usernames, the projects' codes, the test client's
    # user agent ("<unknown>") in django-axes' login rows.
    data = {admin_user.username, consultant.username, "unknown", *Project.objects.values_list("code", flat=True)}
    pages = 0
    english: dict[str, set[str]] = {}
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for url in (base, f"{base}add/"):
            response = client.get(url)
            assert response.status_code in (200, 403), url  # 403: a model without an add form
            if response.status_code == 200:
                pages += 1
                words = english_words(response.content.decode()) - data
                if words:
                    english[url] = words
    assert pages > 70
    assert english == {}


@pytest.mark.django_db
def test_staff_who_may_only_view_the_locks_cannot_unlock(client, director):
    from django.contrib.auth.models import Permission

    AccessAttempt.objects.create(username="consultant9", ip_address="10.0.0.8", failures_since_start=5)
    director.is_staff = True
    director.save(update_fields=["is_staff"])
    director.user_permissions.add(Permission.objects.get(codename="view_loginlock"))
    client.force_login(director)
    page = client.get("/admin/accounts/loginlock/").content.decode()
    assert "consultant9" in page
    assert "解除所选用户名的登录锁定" not in page
    locked = LoginLock.objects.get()
    client.post("/admin/accounts/loginlock/", {"action": "unlock", "_selected_action": [locked.pk]})
    assert AccessAttempt.objects.filter(username="consultant9").exists()
