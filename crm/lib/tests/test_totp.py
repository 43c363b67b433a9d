"""TOTP against the test vectors of RFC 6238 appendix B and RFC 4226 appendix D."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from crm.lib import totp

RFC4226_KEY = b"12345678901234567890"
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226_CODES)))
def test_hotp_matches_rfc_4226(counter, expected):
    assert totp.hotp(RFC4226_KEY, counter) == expected


# RFC 6238 appendix B: time, expected 8-digit code for SHA1, SHA256, SHA512 (keys of 20, 32, 64 bytes).
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
KEYS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}


@pytest.mark.parametrize(("seconds", "sha1", "sha256", "sha512"), RFC6238)
def test_totp_matches_rfc_6238(seconds, sha1, sha256, sha512):
    step = totp.step_at(datetime.fromtimestamp(seconds, tz=UTC))
    for digest, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp.hotp(KEYS[digest], step, digits=8, digest=digest) == expected


SECRET = base64.b32encode(RFC4226_KEY).decode()
AT = datetime.fromtimestamp(1111111111, tz=UTC)


def test_verify_accepts_the_current_code_and_returns_its_step():
    code = totp.totp(SECRET, at=AT)
    assert totp.verify(SECRET, code, at=AT) == totp.step_at(AT)
    assert totp.verify(SECRET, f" {code[:3]} {code[3:]} ", at=AT) == totp.step_at(AT)


def test_verify_allows_one_step_of_clock_drift_and_no_more():
    earlier = datetime.fromtimestamp(1111111111 - 30, tz=UTC)
    much_earlier = datetime.fromtimestamp(1111111111 - 90, tz=UTC)
    assert totp.verify(SECRET, totp.totp(SECRET, at=earlier), at=AT) is not None
    assert totp.verify(SECRET, totp.totp(SECRET, at=much_earlier), at=AT) is None


def test_verify_refuses_a_code_already_used():
    code = totp.totp(SECRET, at=AT)
    used = totp.verify(SECRET, code, at=AT)
    assert used is not None
    assert totp.verify(SECRET, code, at=AT, after_step=used) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "000000"])
def test_verify_refuses_malformed_or_wrong_codes(code):
    assert totp.verify(SECRET, code, at=AT) is None or totp.totp(SECRET, at=AT) == code


def test_new_secrets_are_random_base32_of_160_bits():
    one, two = totp.new_secret(), totp.new_secret()
    assert one != two
    assert len(base64.b32decode(one)) == 20


def test_provisioning_uri_names_issuer_and_account():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", account="admin", issuer="EstateCRM")
    assert uri.startswith("otpauth://totp/EstateCRM%3Aadmin?")
    assert "secret=JBSWY3DPEHPK3PXP" in uri
    assert "issuer=EstateCRM" in uri
