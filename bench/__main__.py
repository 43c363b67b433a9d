"""``python -m bench customers|care|complaints [options]``: the benchmarks, outside the installed apps.

The options are parsed before Django starts (so ``--help`` and a bad option need no
database); then DJANGO_SETTINGS_MODULE defaults to config.settings_test and Django is set
up. ``python -m bench customers --help`` and ``python -m bench care --help`` list them.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    from bench import BenchError, cli

    args = cli.parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    try:
        cli.run(args, write=cli.write)
    except BenchError as exc:
        sys.exit(f"Error: {exc}")


if __name__ == "__main__":
    main()
