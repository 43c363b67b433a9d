"""Natural order: numbers inside labels compared as numbers ("1号楼-704" before "1号楼-1303",
"2号楼" before "10号楼"), as people count units and buildings."""

from __future__ import annotations

import re

_RUNS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key for ``text``: its digit runs as numbers, the rest as text (case-folded).

    Each part is tagged (0 for a number, 1 for text) so that a number and a word in the
    same place compare without a type error: numbers first, as in a file browser.
    """
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold()) for part in _RUNS.split(text) if part)
