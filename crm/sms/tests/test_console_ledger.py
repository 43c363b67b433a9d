"""The console records what it prints, so that its status query tells the truth after a crash."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from crm.sms.backends.console import ConsoleGateway
from crm.sms.formats import CHINA_TZ
from crm.sms.gateways import console_ledger, get_gateway

from .utils import make_message


def _today():
    return datetime.now(tz=CHINA_TZ).date()


def test_the_ledger_answers_the_status_query_with_numbers_masked(tmp_path, capsys):
    ledger = tmp_path / "ledger.jsonl"
    gateway = ConsoleGateway(ledger=ledger)
    sent = gateway.send(make_message(reference="41"))

    [entry] = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    assert entry["mobile"] == "138****5678"
    assert "text" not in entry
    [receipt] = gateway.query("41", "13812345678", _today())
    assert (receipt.reference, receipt.gateway_message_id, receipt.mobile) == (
        "41",
        sent.gateway_message_id,
        "13812345678",
    )
    assert gateway.query("42", "13812345678", _today()) == []
    assert gateway.query("41", "13900001111", _today()) == []


def test_the_message_is_recorded_before_it_is_printed(tmp_path, capsys):
    """A crash between the two leaves a message recorded but not shown, never one shown
    without a record (which a restarted worker would print again)."""
    ledger = tmp_path / "ledger.jsonl"

    class Crash(Exception):
        pass

    class Stream:
        def write(self, text):
            raise Crash

        def flush(self):
            pass

    with pytest.raises(Crash):
        ConsoleGateway(ledger=ledger, stream=Stream()).send(make_message(reference="7"))
    assert [json.loads(line)["reference"] for line in ledger.read_text().splitlines()] == ["7"]


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path, capsys):
    ledger = tmp_path / "ledger.jsonl"
    gateway = ConsoleGateway(ledger=ledger)
    gateway.send(make_message(reference="1"))
    with ledger.open("a", encoding="utf-8") as handle:
        handle.write('{"reference": "2", "mob')
    assert len(gateway.query("1", "13812345678", _today())) == 1


def test_the_query_is_authoritative_only_with_a_record(tmp_path):
    assert ConsoleGateway(ledger=tmp_path / "l.jsonl").query_is_authoritative
    assert ConsoleGateway(file=tmp_path / "f.jsonl").query_is_authoritative
    assert not ConsoleGateway().query_is_authoritative


def test_the_configured_console_keeps_its_ledger_in_var_dir(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("SMS_GATEWAY", raising=False)
    monkeypatch.delenv("SMS_CONSOLE_FILE", raising=False)
    settings.VAR_DIR = tmp_path
    gateway = get_gateway("console")
    assert isinstance(gateway, ConsoleGateway)
    assert gateway.ledger == console_ledger() == tmp_path / "sms-console-ledger.jsonl"
    assert gateway.file is None
