"""BufferPolicy, driven by synthetic underflow reports: repeated underflows raise the buffer one
step at a time up to the cap; a lone one, old ones, and the start-up of a new stream do not."""

from __future__ import annotations

import pytest

from desktop_app.audio.buffer_policy import BLOCKSIZE_CAP, BufferPolicy


def policy(blocksize: int = 256, **kw) -> BufferPolicy:
    p = BufferPolicy(blocksize, **kw)
    p.opened(blocksize, 0, now=0.0)
    return p


def follow(p: BufferPolicy, reports: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Feed (time, running total) reports, reopening like the stream does; the raises made."""
    raises = []
    for now, total in reports:
        size = p.report(total, now)
        if size is not None:
            raises.append((now, size))
            p.opened(size, total, now)
    return raises


def test_repeated_underflows_double_the_buffer():
    p = policy(threshold=2, window=10.0, settle=3.0)
    assert p.report(1, 5.0) is None  # one is a hiccup
    assert p.report(2, 6.0) == 512  # a second within 10 s: raise


def test_two_underflows_in_one_poll_are_a_repeat():
    assert policy(threshold=2).report(2, 5.0) == 512


def test_underflows_further_apart_than_the_window_do_not_raise():
    p = policy(threshold=2, window=10.0)
    assert follow(p, [(5.0, 1), (16.0, 2), (27.0, 3), (38.0, 4)]) == []
    assert p.blocksize == 256


def test_polls_without_new_underflows_change_nothing():
    p = policy(threshold=2)
    assert follow(p, [(t / 60, 0) for t in range(600)]) == []
    assert p.report(1, 11.0) is None
    assert follow(p, [(11.0 + t / 60, 1) for t in range(60)]) == []  # the same one, polled again


def test_steps_up_one_at_a_time_to_the_cap_and_stops_there():
    p = policy(threshold=2, window=10.0, settle=3.0)
    reports = [(5.0 + k, k + 1) for k in range(60)]  # an underflow a second, for a minute
    raises = follow(p, reports)
    assert [size for _, size in raises] == [512, 1024, 2048]
    assert p.blocksize == BLOCKSIZE_CAP == 2048 and p.at_cap
    assert all(b[0] - a[0] >= 3.0 for a, b in zip(raises, raises[1:]))  # each new stream settles first


def test_the_cap_bounds_a_step_and_a_policy_at_the_cap_never_asks():
    assert policy(768, cap=1024).report(5, 5.0) == 1024
    p = policy(2048, cap=2048)
    assert follow(p, [(5.0 + k, k + 1) for k in range(30)]) == []


def test_a_blocksize_above_the_cap_is_kept():
    p = policy(4096, cap=2048)
    assert p.cap == 4096 and p.report(10, 5.0) is None


def test_underflows_while_a_stream_settles_are_start_up_not_load():
    p = policy(threshold=2, settle=3.0)
    assert p.report(3, 1.0) is None  # a burst as the stream starts
    assert p.report(4, 4.0) is None  # the first after settling is one, not four
    assert p.report(5, 5.0) == 512


def test_reopening_forgets_the_underflows_before_it():
    p = policy(threshold=3, window=10.0, settle=0.0)
    assert p.report(2, 1.0) is None
    p.opened(256, 2, now=2.0)  # e.g. the user reopened audio
    assert p.report(3, 3.0) is None
    assert p.report(5, 4.0) == 512


@pytest.mark.parametrize("kw", [{"threshold": 0}, {"window": 0.0}])
def test_nonsense_settings_are_refused(kw):
    with pytest.raises(ValueError):
        BufferPolicy(256, **kw)
