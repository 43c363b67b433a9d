"""Benchmarks against generated data, run as ``python -m bench customers|care`` (docs/performance.md).

Not a Django app and no part of the product: it imports product code (and the SMS protocol
fakes), and no module under crm/ or config/ imports it (bench/tests/test_layering.py).
"""


class BenchError(Exception):
    """The benchmark cannot run (e.g. the database holds other data); the message says why."""
