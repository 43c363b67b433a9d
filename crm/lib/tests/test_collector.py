from __future__ import annotations

import gc
import threading

import pytest

from crm.lib import collector


@pytest.fixture(autouse=True)
def _collector_on():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after():
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_resumes_the_collector():
    with pytest.raises(ValueError, match="boom"), collector.paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_nested_blocks_resume_only_when_the_outermost_ends():
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_beforehand_stays_off():
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_two_threads_overlapping_resume_it_when_the_last_one_ends():
    inside = threading.Barrier(2)
    first_done = threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector.paused():
            inside.wait()
        first_done.set()

    def second() -> None:
        with collector.paused():
            inside.wait()
            first_done.wait()
            seen.append(gc.isenabled())  # the other thread's block ended; this one still runs

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert seen == [False]
    assert gc.isenabled()
