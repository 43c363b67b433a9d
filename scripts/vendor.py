"""Refresh the front-end files the app serves itself (static/vendor/): `make vendor`.

The versions are pinned by package.json and package-lock.json (npm). This script

1. asks npm for each pinned package's tarball (``npm pack <name>@<version>``, from the
   npm cache or the registry the user's npm is configured for);
2. checks the tarball's sha512 against the lock file's ``integrity`` (so a tampered cache
   or mirror fails here, not in a browser);
3. extracts the one built file the app uses, with its licence files, into
   static/vendor/<name>/ and writes MANIFEST.json: the version, the tarball's integrity
   and the file's own sha512.

The copies are committed: a fresh machine with only Python serves them (WhiteNoise) and
needs no Node.js. crm/core/tests/test_vendor.py checks that the committed file matches the
manifest and the manifest matches the lock file. Decision: docs/decisions/0019-charts.md.

Run from the repository root: ``python scripts/vendor.py`` (needs node and npm).
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "package-lock.json"
VENDOR = ROOT / "static" / "vendor"
# package → (the built file inside the tarball, the licence files to keep beside it)
FILES = {
    "echarts": ("package/dist/echarts.min.js", ("package/LICENSE", "package/NOTICE")),
}


def sha512_integrity(data: bytes) -> str:
    """npm's Subresource-Integrity form: ``sha512-`` + base64 of the digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def locked(name: str) -> dict[str, str]:
    lock = json.loads(LOCK.read_text(encoding="utf-8"))
    entry = lock["packages"][f"node_modules/{name}"]
    return {"version": entry["version"], "integrity": entry["integrity"]}


def vendor(name: str) -> None:
    pin = locked(name)
    inner, licences = FILES[name]
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["npm", "pack", f"{name}@{pin['version']}", "--pack-destination", tmp, "--json", "--ignore-scripts"],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,
        ).stdout
        tarball = Path(tmp) / json.loads(out)[0]["filename"]
        data = tarball.read_bytes()
        if sha512_integrity(data) != pin["integrity"]:
            sys.exit(f"{name}@{pin['version']}: the tarball does not match package-lock.json's integrity")
        target = VENDOR / name
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for member in (inner, *licences):
                extracted = archive.extractfile(member)
                if extracted is None:
                    sys.exit(f"{name}: {member} is missing from the tarball")
                (target / Path(member).name).write_bytes(extracted.read())
    built = (target / Path(inner).name).read_bytes()
    manifest = {
        "package": name,
        "version": pin["version"],
        "tarball_integrity": pin["integrity"],
        "file": inner.removeprefix("package/"),
        "file_integrity": sha512_integrity(built),
    }
    (target / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"static/vendor/{name}/{Path(inner).name}: {name}@{pin['version']}, {len(built):,} bytes")


def main() -> None:
    for name in FILES:
        vendor(name)


if __name__ == "__main__":
    main()
