"""The load test's browsing figure (bench/load/run.py): one distribution over every request
but the login, its nearest-rank percentiles and the verdict against p95 < 300 ms."""

from __future__ import annotations

from pathlib import Path

from bench.load.run import browsing_line, percentile


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]  # 1 … 100 ms
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.95) == 7


def test_the_browsing_line_judges_p95(tmp_path: Path) -> None:
    times = tmp_path / "browsing_ms.txt"
    assert browsing_line(times) == "browsing: no request times recorded"
    times.write_text("\n".join(["20"] * 95 + ["900"] * 5), encoding="utf-8")
    assert browsing_line(times).endswith("p95 20 ms, p99 900 ms; target p95 < 300 ms: PASS")
    times.write_text("\n".join(["20"] * 94 + ["900"] * 6), encoding="utf-8")
    line = browsing_line(times)
    assert "n=100" in line
    assert "p95 900 ms" in line
    assert line.endswith("MISS")
