"""The console (default) and locmem (tests) backends."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from crm.sms.backends import locmem
from crm.sms.backends.console import ConsoleGateway
from crm.sms.backends.locmem import LocmemGateway
from crm.sms.base import CallbackError, Gateway, Outcome, SendResult
from crm.sms.formats import CHINA_TZ

from .utils import make_message


def _today():
    return datetime.now(tz=CHINA_TZ).date()


def test_console_prints_the_text_with_the_number_masked(capsys):
    result = ConsoleGateway().send(make_message(reference="c1"))

    out = capsys.readouterr().out
    assert result.outcome is Outcome.ACCEPTED
    assert result.gateway_message_id.startswith("console-")
    assert "尊敬的张三，锦华苑祝您生日快乐" in out
    assert "138****5678" in out
    assert "13812345678" not in out
    assert result.gateway_message_id in out


def test_console_appends_a_json_line_per_message_to_its_file(tmp_path, capsys):
    path = tmp_path / "sms" / "outbox.jsonl"
    gateway = ConsoleGateway(file=path)

    first = gateway.send(make_message(reference="c1"))
    gateway.send(make_message(reference="c2", mobile="13900000001", params={"name": "李四"}))

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["reference"] for line in lines] == ["c1", "c2"]
    assert lines[0]["gateway_message_id"] == first.gateway_message_id
    assert lines[0]["mobile"] == "13812345678"
    assert lines[1]["params"] == {"name": "李四"}
    assert lines[0]["text"].startswith("【示范置业】")


def test_console_query_answers_from_its_file(tmp_path, capsys):
    gateway = ConsoleGateway(file=tmp_path / "outbox.jsonl")
    sent = gateway.send(make_message(reference="c1"))
    gateway.send(make_message(reference="c2"))

    [receipt] = gateway.query("c1", "13812345678", _today())

    assert (receipt.reference, receipt.gateway_message_id, receipt.delivered) == ("c1", sent.gateway_message_id, True)
    assert gateway.query("c1", "13900000001", _today()) == []


def test_console_query_without_a_file_finds_nothing(capsys):
    gateway = ConsoleGateway()
    gateway.send(make_message())

    assert gateway.query("out-1", "13812345678", _today()) == []


def test_console_accepts_hand_made_replies_and_receipts():
    gateway = ConsoleGateway()

    [reply] = gateway.parse_replies(json.dumps({"mobile": "+8613812345678", "text": "TD"}).encode(), {})
    [receipt] = gateway.parse_receipts(
        json.dumps([{"reference": "c1", "mobile": "13812345678", "delivered": True}]).encode(), {}
    )

    assert (reply.mobile, reply.is_opt_out) == ("13812345678", True)
    assert (receipt.reference, receipt.delivered) == ("c1", True)
    with pytest.raises(CallbackError):
        gateway.parse_replies(json.dumps({"mobile": "1", "received_at": "yesterday"}).encode(), {})


def test_both_backends_satisfy_the_gateway_protocol():
    assert isinstance(ConsoleGateway(), Gateway)
    assert isinstance(LocmemGateway(), Gateway)


def test_locmem_accepts_and_keeps_messages(locmem_outbox):
    result = LocmemGateway().send(make_message(reference="m1"))

    assert result.outcome is Outcome.ACCEPTED
    assert result.gateway_message_id.startswith("locmem-")
    assert [m.reference for m in locmem_outbox] == ["m1"]
    assert locmem.calls == [(make_message(reference="m1"), result)]


def test_locmem_plays_scripted_outcomes_in_order(locmem_outbox):
    gateway = LocmemGateway()
    locmem.script(Outcome.RETRY, Outcome.THROTTLED, SendResult(Outcome.PAUSE, code="isv.AMOUNT_NOT_ENOUGH"))

    results = [gateway.send(make_message(reference=f"m{i}")) for i in range(4)]

    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.THROTTLED, Outcome.PAUSE, Outcome.ACCEPTED]
    assert results[1].retry_after == 60
    assert results[2].code == "isv.AMOUNT_NOT_ENOUGH"
    assert [m.reference for m in locmem_outbox] == ["m3"]


def test_locmem_scripts_per_number(locmem_outbox):
    gateway = LocmemGateway()
    locmem.script(Outcome.OPTED_OUT, mobile="13900000001")

    opted_out = gateway.send(make_message(reference="a", mobile="13900000001"))
    other = gateway.send(make_message(reference="b", mobile="13812345678"))
    again = gateway.send(make_message(reference="c", mobile="13900000001"))

    assert [opted_out.outcome, other.outcome, again.outcome] == [Outcome.OPTED_OUT, Outcome.ACCEPTED, Outcome.ACCEPTED]


def test_locmem_unknown_holds_the_message_like_a_real_gateway(locmem_outbox):
    gateway = LocmemGateway()
    locmem.script(Outcome.UNKNOWN)

    result = gateway.send(make_message(reference="u1"))

    assert (result.outcome, result.gateway_message_id) == (Outcome.UNKNOWN, "")
    assert [m.reference for m in locmem_outbox] == ["u1"]
    [receipt] = gateway.query("u1", "13812345678", _today())
    assert receipt.delivered
    assert gateway.query("u1", "13900000001", _today()) == []


def test_locmem_reset_forgets_everything(locmem_outbox):
    gateway = LocmemGateway()
    locmem.script(Outcome.FAILED)
    gateway.send(make_message())
    locmem.script(Outcome.RETRY)

    locmem.reset()

    assert gateway.send(make_message()).outcome is Outcome.ACCEPTED
    assert len(locmem.calls) == 1


def test_a_message_without_reference_is_a_programming_error(locmem_outbox):
    with pytest.raises(ValueError, match="reference"):
        LocmemGateway().send(make_message(reference=""))
