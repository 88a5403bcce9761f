"""Underflows (xruns) in the window, on the real null-sink device: the transport shows their count
(the buffer size in its tooltip); when they repeat while the song plays (the callback starved on purpose, as a
loaded machine would) the buffer is raised a step, the status bar says so in one line, the song
keeps playing from where it was, and the settings remember the new size for the next start."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QSettings, Qt

from desktop_app.ui.settings import AppSettings

from playback_helpers import (  # noqa: F401  (audio_window, started_window: fixtures)
    DEMO_TICKS_PER_SECOND, START_MS, audio_window, started_window, wait_moving)

RAISE_MS = 30_000  # each underflow on the null sink stalls it a second or so before it recovers


def starve(engine, seconds: float) -> None:
    """Make every audio block take `seconds` longer (0 restores it): the callback underflows."""
    if "process" in vars(engine):
        del engine.process
    if seconds:
        process = engine.process

        def slow(out, frames, dac_time=0.0):
            process(out, frames, dac_time)
            time.sleep(seconds)

        engine.process = slow


def saved_blocksize(window) -> int:
    window.settings.sync()
    return AppSettings(QSettings(window.settings.q.fileName(), QSettings.Format.IniFormat)).audio().blocksize


@pytest.fixture
def window(audio_window):
    pb = audio_window.playback
    assert pb.prefs.blocksize == 256 and pb.output.blocksize == 256
    yield audio_window
    if pb.engine is not None:
        starve(pb.engine, 0)
    pb.stop()
    pb.prefs.blocksize = 256
    audio_window.settings.set_blocksize(256)
    assert pb.start(), pb.unavailable


def test_the_transport_shows_no_xruns_and_the_buffer_at_start(window):
    label = window.transport.xruns
    assert label.isVisible()
    assert label.text() == "0 xruns"
    assert "#c33" not in label.styleSheet()  # red only once there are xruns
    assert "Buffer: 256 frames" in label.toolTip()


def test_the_tooltip_says_whether_the_audio_thread_runs_in_real_time(qtbot, window):
    output = window.playback.output
    qtbot.waitUntil(lambda: output.realtime is not None, timeout=START_MS)
    granted, what = output.realtime
    qtbot.waitUntil(lambda: what in window.transport.xruns.toolTip(), timeout=2000)
    tip = window.transport.xruns.toolTip()
    assert ("Audio thread: real-time priority" in tip) == granted
    assert all(name in tip for name in output.client_threads)


def test_repeated_xruns_while_playing_raise_the_buffer_and_the_song_plays_on(qtbot, window):
    pb, bar, roll = window.playback, window.transport, window.piano_roll.state
    raised, messages = [], []
    pb.bufferRaised.connect(raised.append)
    pb.message.connect(messages.append)
    window.piano_roll.area.setFocus()
    qtbot.keyClick(window.piano_roll.area, Qt.Key.Key_Space)
    wait_moving(qtbot, pb, DEMO_TICKS_PER_SECOND // 4)
    starve(pb.engine, 0.02)  # 20 ms of work for every 5.3 ms block
    qtbot.waitUntil(lambda: pb.xruns > 0, timeout=RAISE_MS)
    qtbot.waitUntil(lambda: bar.xruns.text().split()[0] != "0", timeout=1000)
    assert "#c33" in bar.xruns.styleSheet()
    qtbot.waitUntil(lambda: bool(raised), timeout=RAISE_MS)
    starve(pb.engine, 0)
    assert raised == [512] and pb.output.blocksize == 512 and pb.prefs.blocksize == 512
    assert pb.xruns >= 2
    line = [m for m in messages if "buffer raised" in m]
    assert line == [f"Audio buffer raised to 512 frames ({pb.output.latency * 1000:.0f} ms) after the sound stalled more than once"]
    assert "\n" not in line[0]
    assert bar.xruns.text() == f"{pb.xruns} xruns"
    assert "Buffer: 512 frames" in bar.xruns.toolTip()
    assert saved_blocksize(window) == 512
    # Still playing the same song, on from where it was.
    assert pb.is_playing and pb.available and pb.output.lost is None
    here = roll.playhead
    wait_moving(qtbot, pb, here + DEMO_TICKS_PER_SECOND // 4)
    # The next start opens the output with the remembered size.
    pb.stop()
    assert pb.start()
    assert pb.output.blocksize == 512 and pb.xruns == 0
    assert bar.xruns.text() == "0 xruns" and "Buffer: 512 frames" in bar.xruns.toolTip()


def test_xruns_while_stopped_are_not_shown_and_raise_nothing(qtbot, window):
    pb, bar = window.playback, window.transport
    starve(pb.engine, 0.02)
    blocks_before = pb.engine.clock
    qtbot.waitUntil(lambda: pb.engine.clock != blocks_before, timeout=START_MS)
    qtbot.wait(3000)
    assert pb.xruns == 0 and pb.output.blocksize == 256 and bar.xruns.text() == "0 xruns"
