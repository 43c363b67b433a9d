"""The front-end files served from static/vendor/ are the ones package-lock.json pins.

scripts/vendor.py (`make vendor`) checks each npm tarball against the lock file's sha512
``integrity``, extracts the built file and records both hashes in MANIFEST.json. These
tests tie the committed file to the lock file without the network: the file's own sha512
must be the manifest's, and the manifest's version and tarball integrity the lock file's.
A hand-edited or re-downloaded file, or a lock file bumped without `make vendor`, fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parents[3]
VENDORED = ["echarts"]


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def manifest(name: str) -> dict[str, str]:
    return json.loads((ROOT / "static" / "vendor" / name / "MANIFEST.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", VENDORED)
def test_the_committed_file_is_the_one_the_manifest_hashed(name):
    m = manifest(name)
    data = (ROOT / "static" / "vendor" / name / Path(m["file"]).name).read_bytes()
    assert integrity(data) == m["file_integrity"]


@pytest.mark.parametrize("name", VENDORED)
def test_the_manifest_is_the_lock_files_pin(name):
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    pinned = lock["packages"][f"node_modules/{name}"]
    m = manifest(name)
    assert package["dependencies"][name] == pinned["version"]  # an exact pin, no range
    assert (m["version"], m["tarball_integrity"]) == (pinned["version"], pinned["integrity"])


def test_the_vendor_script_computes_npm_integrity_the_same_way():
    from importlib import util

    spec = util.spec_from_file_location("vendor_script", ROOT / "scripts" / "vendor.py")
    assert spec is not None
    assert spec.loader is not None
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.sha512_integrity(b"abc") == integrity(b"abc")
    assert module.locked("echarts")["version"] == manifest("echarts")["version"]


def test_echarts_is_found_by_the_static_files_finder():
    """WhiteNoise serves what the finders (and collectstatic) find: no CDN."""
    found = finders.find("vendor/echarts/echarts.min.js")
    assert found
    assert Path(str(found)).stat().st_size > 500_000
