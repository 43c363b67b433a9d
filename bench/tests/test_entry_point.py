"""`python -m bench` parses its options before Django starts, so help and bad options need no database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cli

ROOT = Path(__file__).resolve().parents[2]


def run_module(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-m", "bench", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("bench", "option"), [("customers", "--import-only"), ("customers", "--verbosity"), ("care", "--workers")]
)
def test_each_benchmark_lists_its_options(bench, option):
    done = run_module(bench, "--help")

    assert done.returncode == 0, done.stderr
    assert option in done.stdout


def test_a_dataset_too_small_is_refused_before_django_starts():
    done = run_module("customers", "--customers", "49")

    assert done.returncode == 2
    assert "argument --customers: must be at least 50" in done.stderr


def test_the_options_of_the_former_management_commands_parse():
    customers = cli.parser().parse_args(["customers", "--customers", "2000", "-v", "2", "--care", "--import-rows", "0"])
    care = cli.parser().parse_args(["care", "--customers", "2000", "--day", "2026-11-24", "--repeat", "1"])

    assert (customers.customers, customers.verbosity, customers.care, customers.import_rows) == (2000, 2, True, 0)
    assert (care.customers, str(care.day), care.repeat, care.messages, care.workers) == (2000, "2026-11-24", 1, 4000, 2)
