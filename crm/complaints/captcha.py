"""A CAPTCHA that needs no outside service: a signed, expiring, single-use sum.

``issue(now)`` makes a challenge (two small numbers to add), drawn as an SVG of line
segments so the digits are not text in the page, and a token: the signed (SECRET_KEY)
nonce, issue time and an HMAC of the answer — the answer itself is not in the token.
``verify(token, answer, now)`` checks the signature, the age (COMPLAINT_CAPTCHA_SECONDS)
and the answer, and spends the nonce in the cache (``cache.add`` is atomic in Redis and
in the local-memory cache), so a token works once.

The challenge comes from the generator named by COMPLAINT_CAPTCHA_GENERATOR: random in
production; config/settings_test.py names ``fixed_challenge`` (always 3 + 4), so browser
tests can solve it the way a person does, by knowing the picture's sum.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import format_html_join
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

SALT = "crm.complaints.captcha"
EXPIRED = "验证码已过期，请按新的验证码重新计算"
WRONG = "验证码计算结果不正确，请重新计算"
USED = "验证码已使用，请按新的验证码重新计算"


@dataclass(frozen=True)
class Challenge:
    a: int
    b: int

    @property
    def answer(self) -> int:
        return self.a + self.b


def random_challenge() -> Challenge:
    """A two-digit number plus a digit: about 50 possible answers, so a blind guess rarely
    works (and the page limits attempts per address, crm.complaints.public)."""
    return Challenge(secrets.randbelow(40) + 10, secrets.randbelow(9) + 1)


def fixed_challenge() -> Challenge:
    """Test settings only: always 3 + 4 (= 7)."""
    return Challenge(3, 4)


def _generator() -> Challenge:
    make = import_string(settings.COMPLAINT_CAPTCHA_GENERATOR)
    challenge: Challenge = make()
    return challenge


def _mac(nonce: str, answer: str) -> str:
    return salted_hmac(SALT, f"{nonce}:{answer.strip()}").hexdigest()


@dataclass(frozen=True)
class Issued:
    token: str
    svg: SafeString


def issue(now: datetime) -> Issued:
    challenge = _generator()
    nonce = secrets.token_urlsafe(12)
    token = signing.dumps({"n": nonce, "t": int(now.timestamp()), "h": _mac(nonce, str(challenge.answer))}, salt=SALT)
    return Issued(token=token, svg=draw(f"{challenge.a}+{challenge.b}=?"))


class CaptchaError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def verify(token: str, answer: str, now: datetime) -> None:
    """Raise CaptchaError (with the Chinese message) unless the answer is right, the token
    is ours, younger than the limit, and not used before. A checked token is spent, right
    or wrong, so one challenge allows one guess."""
    try:
        data = signing.loads(token, salt=SALT)
        nonce, issued, mac = str(data["n"]), int(data["t"]), str(data["h"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise CaptchaError(EXPIRED) from exc
    if not answer.strip().isdigit():
        raise CaptchaError(WRONG)
    age = now.timestamp() - issued
    if age > settings.COMPLAINT_CAPTCHA_SECONDS or age < -60:
        raise CaptchaError(EXPIRED)
    if not cache.add(f"captcha-used:{nonce}", 1, timeout=settings.COMPLAINT_CAPTCHA_SECONDS + 120):
        raise CaptchaError(USED)
    if not constant_time_compare(mac, _mac(nonce, answer)):
        raise CaptchaError(WRONG)


# Seven-segment strokes of each glyph in a 10×18 box: a top, b top-right, c bottom-right,
# d bottom, e bottom-left, f top-left, g middle.
_SEGMENTS = {
    "a": ((0, 0), (10, 0)),
    "b": ((10, 0), (10, 9)),
    "c": ((10, 9), (10, 18)),
    "d": ((0, 18), (10, 18)),
    "e": ((0, 9), (0, 18)),
    "f": ((0, 0), (0, 9)),
    "g": ((0, 9), (10, 9)),
}
_GLYPHS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abged",
    "3": "abgcd",
    "4": "fgbc",
    "5": "afgcd",
    "6": "afgedc",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
}


def draw(text: str) -> SafeString:
    """The challenge as line segments with a little random jitter and noise lines."""
    lines: list[tuple[float, float, float, float, str]] = []

    def jitter() -> float:
        return (secrets.randbelow(7) - 3) / 2

    x = 8.0
    for char in text:
        y = 10 + jitter()
        if char in _GLYPHS:
            for seg in _GLYPHS[char]:
                (x1, y1), (x2, y2) = _SEGMENTS[seg]
                lines.append((x + x1 + jitter(), y + y1, x + x2 + jitter(), y + y2, "3"))
        elif char == "+":
            lines += [(x, y + 9, x + 10, y + 9, "3"), (x + 5, y + 4, x + 5, y + 14, "3")]
        elif char == "=":
            lines += [(x, y + 6, x + 10, y + 6, "3"), (x, y + 12, x + 10, y + 12, "3")]
        elif char == "?":
            lines += [
                (x, y, x + 10, y, "3"),
                (x + 10, y, x + 10, y + 8, "3"),
                (x + 10, y + 8, x + 5, y + 10, "3"),
                (x + 5, y + 10, x + 5, y + 13, "3"),
                (x + 5, y + 16, x + 5, y + 18, "3"),
            ]
        x += 18
    for _ in range(4):
        lines.append(
            (secrets.randbelow(int(x)), secrets.randbelow(38), secrets.randbelow(int(x)), secrets.randbelow(38), "1")
        )
    body = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke-width="{}"/>',
        ((f"{a:.1f}", f"{b:.1f}", f"{c:.1f}", f"{d:.1f}", w) for a, b, c, d, w in lines),
    )
    return SafeString(
        f'<svg class="captcha-picture" role="img" aria-label="算术验证码" viewBox="0 0 {int(x) + 4} 38" '
        f'width="{(int(x) + 4) * 2}" height="76" stroke="#1f2a37" stroke-linecap="round">{body}</svg>'
    )
