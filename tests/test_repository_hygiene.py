"""The repository holds no unresolved merge: a conflict marker left in a doc or template
would otherwise reach users unnoticed (code fails to import; text does not)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split("\0")
    suffixes = {".py", ".md", ".html", ".css", ".js", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json"}
    return [ROOT / name for name in names if name and Path(name).suffix in suffixes and "vendor" not in name]


def test_no_file_holds_a_merge_conflict_marker():
    found = []
    for path in tracked_text_files():
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}" for m in MARKER.finditer(text)]
    assert not found, f"unresolved merge conflict markers: {found}"
