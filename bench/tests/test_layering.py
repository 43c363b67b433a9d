"""The benchmarks stay out of the product: no module under crm/ or config/ imports bench."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(source: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_no_product_module_imports_the_benchmarks():
    sources = [path for package in ("crm", "config") for path in (ROOT / package).rglob("*.py")]
    assert len(sources) > 100  # the walk found the product

    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources
        for module in imported_modules(path)
        if module == "bench" or module.startswith("bench.")
    ]

    assert offenders == []
