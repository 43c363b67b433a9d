"""ID numbers are encrypted at rest and found by a blind index."""

import pytest
from django.test import override_settings

from crm.lib import crypto


def test_encrypt_round_trips_and_hides_the_plaintext():
    token = crypto.encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert crypto.decrypt(token) == "11010519491231002X"


def test_encryption_is_randomised_but_the_blind_index_is_stable():
    assert crypto.encrypt("11010519491231002X") != crypto.encrypt("11010519491231002X")
    assert crypto.blind_index("11010519491231002X") == crypto.blind_index("11010519491231002X")
    assert crypto.blind_index("11010519491231002X") != crypto.blind_index("110105194912310038")


def test_a_wrong_key_cannot_decrypt():
    token = crypto.encrypt("11010519491231002X")
    with (
        override_settings(FIELD_ENCRYPTION_KEY="b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMTI="),
        pytest.raises(ValueError, match="wrong FIELD_ENCRYPTION_KEY"),
    ):
        crypto.decrypt(token)


def test_the_blind_index_depends_on_its_key():
    before = crypto.blind_index("11010519491231002X")
    with override_settings(BLIND_INDEX_KEY="another-key"):
        assert crypto.blind_index("11010519491231002X") != before
