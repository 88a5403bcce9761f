"""The window's audio output: started on the default device it names the device; with a device
that does not exist, or one that goes away while the window plays, the window says "No audio
output" and why, the transport does nothing, nothing crashes, export still works, and audio can
be started again."""

from __future__ import annotations

from pathlib import Path

import mido
import soundfile
from PySide6.QtCore import Qt

from desktop_app.audio.soundfont import find_soundfont

from playback_helpers import activate, need_device, wait_moving

MISSING = "No Such Device 1234"


def space(qtbot, window) -> None:
    window.piano_roll.area.setFocus()
    qtbot.keyClick(window.piano_roll.area, Qt.Key.Key_Space)


def assert_silent_and_alive(qtbot, window) -> None:
    """The transport and the keys do nothing and raise nothing."""
    pb, bar = window.playback, window.transport
    song, steps = window.document.song, window.document.undo_stack.index()
    assert not pb.available and pb.engine is None and pb.output is None
    assert window.audio_label.text() == "No audio output"
    assert pb.unavailable in window.audio_label.toolTip()
    assert bar.status.text() == "no audio output"
    assert not bar.act_play.isEnabled() and not bar.act_stop.isEnabled()
    assert bar.act_play.text() == "Play"
    space(qtbot, window)
    window.act_play.trigger()
    pb.play()
    pb.toggle()
    assert not pb.is_playing
    pb.pause()
    pb.stop()
    pb.return_to_start()
    assert pb.roll.playhead == 0
    bar.act_loop.setChecked(True)
    bar.act_metronome.setChecked(True)
    bar.act_count_in.setChecked(True)
    bar.act_record.setChecked(True)
    bar.volume.setValue(30)
    pb.key_down(60)
    pb.key_up(60)
    pb.midi_message(mido.Message("note_on", note=60, velocity=100))
    pb.midi_message(mido.Message("note_off", note=60))
    window.piano_roll.noteAuditioned.emit(60, 100)
    qtbot.wait(50)  # let the queued timers (rebuild, frame) run
    assert not pb.is_playing and pb.engine is None
    for action in (bar.act_loop, bar.act_metronome, bar.act_count_in, bar.act_record):
        action.setChecked(False)
    assert window.document.song is song and window.document.undo_stack.index() == steps
    assert window.isVisible()


def test_start_opens_the_device_and_says_so(qtbot, window):
    need_device()
    window.open_demo()
    pb = window.playback
    assert pb.unavailable == "audio is not started" and not pb.available
    with qtbot.waitSignal(pb.message) as said:
        assert pb.start() is True
    assert pb.available and pb.unavailable is None
    name = pb.output.device_name
    assert name and said.args[0].startswith(f"Audio: {name}, {pb.prefs.sample_rate} Hz, ")
    assert window.statusBar().currentMessage() == said.args[0]
    assert window.audio_label.text().startswith(f"♪ {name} · ")
    assert window.audio_label.text().endswith(" ms")
    bar = window.transport
    assert bar.act_play.isEnabled() and bar.act_stop.isEnabled() and bar.act_start.isEnabled()
    assert bar.status.text() == ""
    pb.close()
    assert not pb.available


def test_a_missing_device_leaves_the_window_without_audio(qtbot, window, tmp_path: Path):
    window.open_demo()
    activate(qtbot, window)
    pb = window.playback
    pb.prefs.device = MISSING
    with qtbot.waitSignal(pb.message) as said:
        assert pb.start() is False
    assert pb.unavailable
    if find_soundfont() is not None:  # else the synth is what is missing, and says so
        assert MISSING in pb.unavailable
    assert said.args[0].startswith("No audio output: ")
    assert pb.unavailable in said.args[0] and "Export still works" in said.args[0]
    assert window.statusBar().currentMessage() == said.args[0]
    assert_silent_and_alive(qtbot, window)

    if find_soundfont() is None:
        return
    out = tmp_path / "still.wav"
    window.dialogs.save_answer = str(out)
    window.export_audio("song")
    qtbot.waitUntil(lambda: not window.progress.isVisible(), timeout=10000)
    assert window.dialogs.errors == []
    info = soundfile.info(str(out))
    assert info.samplerate == pb.prefs.sample_rate
    assert info.frames >= round(window.document.song.duration_seconds * info.samplerate)


def test_a_device_lost_while_playing_closes_audio_and_the_app_goes_on(qtbot, window):
    need_device()
    window.open_demo()
    activate(qtbot, window)
    pb, doc = window.playback, window.document
    assert pb.start()
    doc.set_active_track(1)
    window.transport.act_record.setChecked(True)
    pb.play()
    wait_moving(qtbot, pb, 100)
    pb.midi_message(mido.Message("note_on", note=70, velocity=90))  # a key held when the device goes
    assert window.transport.act_play.text() == "Pause"
    said: list[str] = []
    pb.message.connect(said.append)
    pb.output.lost = "gone"  # as the stream's finished callback sets it
    qtbot.waitUntil(lambda: pb.unavailable == "gone", timeout=3000)  # the playhead timer notices
    assert said == ["Recorded 1 note", "No audio output: gone. Export still works."]
    assert window.statusBar().currentMessage() == said[-1]
    assert not pb.is_playing  # the transport shows it stopped
    # the take so far is kept, as one undo step
    assert doc.undo_stack.undoText() == "Record 1 note"
    assert doc.song.tracks[1].notes[-1].pitch == 70
    window.transport.act_record.setChecked(False)
    doc.undo_stack.undo()
    assert_silent_and_alive(qtbot, window)

    assert pb.start()  # the device is back (here: it never went)
    assert pb.available and pb.unavailable is None
    assert window.audio_label.text().startswith("♪ ")
    pb.play()
    assert pb.is_playing and window.transport.act_play.text() == "Pause"
    pb.close()
    assert not pb.is_playing and not pb.available
