"""Password policies (docs/decisions/0024): OWASP ASVS (default) or the 等保 profile.

settings.PASSWORD_POLICY picks the validator list (config/settings.py). Both refuse
passwords from Django's list of 20,000 common passwords and from a Chinese list shipped
here (pinyin, 5201314, 姓氏缩写 + 123456, the product's own words).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

CHINESE_COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords-zh.txt"

_CLASSES = (
    ("大写字母", re.compile(r"[A-Z]")),
    ("小写字母", re.compile(r"[a-z]")),
    ("数字", re.compile(r"[0-9]")),
    ("符号", re.compile(r"[^A-Za-z0-9]")),
)


class ChineseCommonPasswordValidator(CommonPasswordValidator):
    """Refuses passwords common among Chinese users (the list beside this module)."""

    def __init__(self, password_list_path: Path | str = CHINESE_COMMON_PASSWORDS) -> None:
        super().__init__(password_list_path)

    def validate(self, password: str, user: Any = None) -> None:
        if password.lower().strip() in self.passwords:
            raise ValidationError("这个密码太常见，很容易被猜到，请换一个。", code="password_too_common")

    def get_help_text(self) -> str:
        return "不能使用常见密码（如 5201314、woaini1314、姓名拼音缩写加 123456）。"


class CharacterClassValidator:
    """等保 complexity: at least ``min_classes`` of upper case, lower case, digits and symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        present = sum(1 for _, pattern in _CLASSES if pattern.search(password))
        if present < self.min_classes:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。", code="password_too_simple"
            )

    def get_help_text(self) -> str:
        return f"包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"


class MaximumLengthValidator:
    """ASVS 2.1.2: at least 64 characters allowed, at most 128 (hashing cost stays bounded)."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(f"密码不能超过 {self.max_length} 个字符。", code="password_too_long")

    def get_help_text(self) -> str:
        return f"不超过 {self.max_length} 个字符。"


def password_expires_at(user: Any) -> datetime | None:
    """When the user's password must be changed (等保 rotation), or None when it never must."""
    days = settings.PASSWORD_MAX_AGE_DAYS
    changed: datetime | None = user.password_changed_at
    if not days:
        return None
    if changed is None:  # set before this policy existed: change at the next login
        return datetime.min.replace(tzinfo=UTC)
    return changed + timedelta(days=days)


def password_is_expired(user: Any, *, now: datetime) -> bool:
    expires = password_expires_at(user)
    return expires is not None and now >= expires
