"""The AR-CNN panel driven with real clicks: a tiny model edits the active track through the
runner, the edits are drawn while it runs, the result is a take accepted as one undo step, cancel
keeps nothing, "Again" edits the previous output, the heat layer follows hand edits, and
"Selection only" keeps the edits inside the selected bars and pitches."""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from desktop_app.ml.checkpoints import save_checkpoint
from desktop_app.ml.models import arcnn
from desktop_app.ml.models.arcnn import ArcnnConfig, SamplerKnobs
from desktop_app.ml.models.arcnn_track import edit_song
from desktop_app.ml.shipped import shipped_checkpoint
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.models.arcnn_panel import NO_MODEL, Span, selection_span
from desktop_app.ui.piano_roll.overlays import HEAT_ADD_COLOUR, HeatMap
from desktop_app.ui.piano_roll.state import Tool

Left = Qt.MouseButton.LeftButton
CONFIG = ArcnnConfig(steps=32, low_pitch=48, n_pitches=16, width=4, depth=2, dropout=0.0)  # a 2-bar window
PPQ = 480
MELODY = tuple(Note(55 + (i * 3) % 8, i * PPQ, PPQ, 80) for i in range(16))  # 4 bars of quarters, 55..62
RUN_MS = 60_000


class SlowNet(arcnn.ArcnnNet):
    """The tiny model, taking a little longer per pass, so a run lasts long enough to watch."""

    def forward(self, planes):
        time.sleep(0.01)
        return super().forward(planes)


def make_net(seed: int = 0, slow: bool = False) -> arcnn.ArcnnNet:
    torch.manual_seed(seed)
    return (SlowNet if slow else arcnn.ArcnnNet)(CONFIG).eval()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread (and do not fight the GUI for the cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def melody_song() -> Song:
    return Song(ppq=PPQ, tracks=(Track(name="Melody", notes=MELODY), Track(name="Bass", notes=(Note(40, 0, 4 * PPQ),))),
                title="melody")


def open_panel(qtbot, window, net=None, iterations: int = 12, seed: str = "7", risk: float = 1.0):
    window.document.load(melody_song(), None)
    window.resize(1400, 900)
    window.docks["arcnn"].show()
    qtbot.waitExposed(window)
    panel = window.arcnn_panel
    panel.set_model(net if net is not None else make_net())
    panel.iterations.setValue(iterations)
    panel.seed_edit.setText(seed)
    panel.risk.setValue(risk)
    return panel


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Left)


def click_take(qtbot, panel, row: int) -> None:
    """Click row `row` of the takes list (0 is the original)."""
    rect = panel.takes_view.list.visualItemRect(panel.takes_view.list.item(row))
    qtbot.mouseClick(panel.takes_view.list.viewport(), Left, pos=rect.center())


def run_to_end(qtbot, panel, button=None) -> list:
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        click(qtbot, button or panel.run_button)
    return ended.args


def activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_a_run_with_clicks_changes_the_notes_and_undoes_in_one_step(qtbot, window):
    panel = open_panel(qtbot, window)
    doc = window.document
    before = doc.song
    assert run_to_end(qtbot, panel) == ["finished"]
    assert doc.song is before and doc.undo_stack.count() == 0, "a run makes a take, not an edit"
    assert panel.takes_view.list.count() == 2 and panel.takes_view.list.item(1).text() == "Take 1"
    take = window.takes.takes[0]
    changes = take.changes()
    assert changes, "the model edited the track"
    click_take(qtbot, panel, 1)
    assert window.takes.active is take
    click(qtbot, panel.takes_view.accept_button)
    assert doc.song.tracks[0].notes != before.tracks[0].notes
    assert set(doc.song.tracks[0].notes) == (set(MELODY) - set(changes.removed)) | set(changes.added)
    assert doc.song.tracks[1] is before.tracks[1]
    assert doc.undo_stack.count() == 1
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.song is before
    assert window.takes.takes == [] and panel.takes_view.list.count() == 1


def test_edit_events_are_drawn_into_the_roll_while_the_model_runs(qtbot, window):
    panel = open_panel(qtbot, window, make_net(slow=True), iterations=16)
    window.piano_roll.viewport.fit(0, 8 * PPQ, 48, 63)
    layer = window.piano_roll.area.layers[1]
    drawn_while_running: list[int] = []
    layer.changed.connect(lambda: panel.running and drawn_while_running.append(len(layer.added) + len(layer.removed)))
    with qtbot.waitSignal(panel.heatUpdated, timeout=RUN_MS):
        panel.heat_action.trigger()
    heat_while_running: list[int] = []
    panel.heatUpdated.connect(lambda: panel.running and heat_while_running.append(1))
    assert run_to_end(qtbot, panel) == ["finished"]
    assert panel.states_received >= 16, "every edit event reached the GUI"
    assert drawn_while_running and drawn_while_running[-1] > 0, "edits appeared before the run ended"
    assert heat_while_running, "the heat map followed the edits"
    take = window.takes.active
    assert take is not None and (layer.added, layer.removed) == (take.changes().added, take.changes().removed)


def test_cancel_keeps_nothing(qtbot, window):
    panel = open_panel(qtbot, window, make_net(slow=True), iterations=2000)
    doc = window.document
    before = doc.song
    click(qtbot, panel.run_button)
    qtbot.waitUntil(lambda: panel.states_received >= 3, timeout=RUN_MS)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        click(qtbot, panel.cancel_button)
    assert ended.args == ["cancelled"]
    assert doc.song is before and doc.undo_stack.count() == 0 and not doc.dirty
    assert window.takes.takes == [] and panel.takes_view.list.count() == 1
    layer = window.piano_roll.area.layers[1]
    assert layer.added == () and layer.removed == ()
    assert window.playback.audition_song is None
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_again_runs_on_the_previous_output(qtbot, window):
    net = make_net(3)
    panel = open_panel(qtbot, window, net, iterations=10, seed="5", risk=2.0)
    doc = window.document
    original = doc.song
    assert not panel.again_button.isEnabled(), "nothing to run again on yet"
    run_to_end(qtbot, panel)
    first = window.takes.takes[0]
    assert run_to_end(qtbot, panel, panel.again_button) == ["finished"]
    second = window.takes.takes[1]
    knobs = SamplerKnobs(iterations=10, max_remove=1.0, max_add=500, temperature=2.0,
                         edits_per_pass=CONFIG.edits_per_pass, seed=5)
    assert second.song.tracks[0].notes == edit_song(first.song, 0, net, knobs).tracks[0].notes
    assert second.song.tracks[0].notes != edit_song(original, 0, net, knobs).tracks[0].notes
    assert second.base is original, "its changes are drawn against the song"
    click_take(qtbot, panel, 2)
    click(qtbot, panel.takes_view.accept_button)
    assert doc.song.tracks[0].notes == second.song.tracks[0].notes and doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.song is original


def test_auditioning_takes_a_b_then_discarding_leaves_the_song(qtbot, window):
    panel = open_panel(qtbot, window)
    doc = window.document
    before = doc.song
    run_to_end(qtbot, panel)
    panel.seed_edit.setText("8")
    run_to_end(qtbot, panel)
    first, second = window.takes.takes
    assert window.playback.audition_song is second.song, "a new take is auditioned at once"
    click_take(qtbot, panel, 1)
    assert window.playback.audition_song is first.song
    click_take(qtbot, panel, 0)
    assert window.playback.audition_song is None
    click_take(qtbot, panel, 1)
    click(qtbot, panel.takes_view.discard_button)
    click_take(qtbot, panel, 1)
    click(qtbot, panel.takes_view.discard_button)
    assert window.takes.takes == [] and doc.song is before and doc.undo_stack.count() == 0
    assert window.playback.audition_song is None


def test_the_heat_layer_refreshes_after_a_hand_edit(qtbot, window):
    panel = open_panel(qtbot, window)
    roll = window.piano_roll
    roll.viewport.fit(0, 8 * PPQ, 48, 63)  # bars 1-2: the heat window starts at step 0
    heat_layer = roll.area.layers[0]
    with qtbot.waitSignal(panel.heatUpdated, timeout=RUN_MS):
        click(qtbot, panel.heat_button)
    assert heat_layer.visible and panel.heat_action.isChecked()
    first = heat_layer.heat
    assert first.start_tick == 0 and first.probs.shape == (32, 16)
    assert np.isclose(first.probs.sum(), 1.0)
    step, row = 9, 50 - CONFIG.low_pitch  # beat 2 of bar 1 (a 16th later), pitch 50: empty
    assert not first.sounding[step, row]
    roll.state.set_tool(Tool.DRAW)
    vp = roll.viewport
    where = QPoint(round(vp.tick_to_x(step * PPQ // 4 + 10)), round(vp.pitch_to_y(50) + vp.key_height / 2))
    qtbot.mouseClick(roll.area, Left, pos=where)
    assert any(n.pitch == 50 for n in window.document.song.tracks[0].notes), "the note was drawn"
    qtbot.waitUntil(lambda: heat_layer.heat is not first and heat_layer.heat.sounding[step, row], timeout=RUN_MS)
    assert not np.allclose(heat_layer.heat.probs, first.probs)
    click(qtbot, panel.heat_button)
    assert not heat_layer.visible


def test_the_heat_layer_colours_likely_additions(qtbot, window):
    window.document.load(melody_song(), None)
    window.resize(1400, 900)
    qtbot.waitExposed(window)
    roll = window.piano_roll
    roll.viewport.fit(0, 8 * PPQ, 48, 63)
    probs = np.full((32, 16), 1e-6)
    probs[4, 3] = 1.0  # step 4, pitch 51: empty, "add here"
    heat = HeatMap(0, PPQ / 4, 48, probs / probs.sum(), np.zeros((32, 16), dtype=bool))
    layer = roll.area.layers[0]
    layer.set_heat(heat)
    layer.set_visible(True)
    image = roll.area.grab().toImage()
    vp = roll.viewport
    hot = image.pixelColor(round(vp.tick_to_x(4.5 * PPQ / 4)), round(vp.pitch_to_y(51) + vp.key_height / 2))
    cold = image.pixelColor(round(vp.tick_to_x(20.5 * PPQ / 4)), round(vp.pitch_to_y(51) + vp.key_height / 2))
    assert hot.rgb() != cold.rgb()
    assert abs(hot.hue() - QColor(HEAT_ADD_COLOUR).hue()) < 20 and hot.saturation() > 120
    layer.set_visible(False)
    hot_point = (round(vp.tick_to_x(4.5 * PPQ / 4)), round(vp.pitch_to_y(51) + vp.key_height / 2))
    assert roll.area.grab().toImage().pixelColor(*hot_point).rgb() == cold.rgb(), "switched off, it is gone"


def test_selection_only_edits_the_selected_bars_and_pitches(qtbot, window):
    panel = open_panel(qtbot, window, make_net(4), iterations=40, risk=3.0)
    doc = window.document
    bar2 = [i for i, n in enumerate(MELODY) if 4 * PPQ <= n.start < 8 * PPQ]
    doc.select(bar2)
    low, high = min(MELODY[i].pitch for i in bar2), max(MELODY[i].pitch for i in bar2)
    qtbot.mouseClick(panel.selection_only, Left, pos=QPoint(4, panel.selection_only.height() // 2))
    assert panel.selection_only.isChecked()
    assert panel.span() == Span(16, 32, low, high)
    assert run_to_end(qtbot, panel) == ["finished"]
    changes = window.takes.takes[0].changes()
    assert changes
    for note in changes.added + changes.removed:
        assert 4 * PPQ <= note.start and note.end <= 8 * PPQ and low <= note.pitch <= high, note


def test_selection_span_falls_back_to_the_loop_and_refuses_without_either(qtbot, window):
    song = melody_song()
    assert selection_span(song, 0, frozenset(), (3 * PPQ, 9 * PPQ)) == Span(0, 48, 0, 127)  # bars 1-3
    assert selection_span(song, 0, frozenset({5}), (0, PPQ)) == Span(16, 32, MELODY[5].pitch, MELODY[5].pitch)
    assert selection_span(song, 0, frozenset(), None) is None
    panel = open_panel(qtbot, window)
    panel.selection_only.setChecked(True)
    click(qtbot, panel.run_button)
    assert not panel.running and "select notes" in panel.status.text().lower()


def test_a_bad_seed_is_refused_in_one_line(qtbot, window):
    panel = open_panel(qtbot, window, seed="twelve")
    click(qtbot, panel.run_button)
    assert not panel.running
    assert panel.status.text() == "Seed 'twelve': a whole number (0 or more), or blank for a random one."


def test_a_run_that_can_edit_nothing_leaves_no_take(qtbot, window):
    panel = open_panel(qtbot, window)
    doc = window.document
    low = Note(30, 0, PPQ, 80)  # below the model's pitches
    doc.apply("Add note", doc.song.with_track(0, doc.song.tracks[0].with_notes(MELODY + (low,))))
    doc.select({len(MELODY)})
    panel.selection_only.setChecked(True)
    assert run_to_end(qtbot, panel) == ["finished"]
    assert window.takes.takes == [] and "no edits" in panel.status.text()
    assert doc.undo_stack.count() == 1


def test_without_a_model_the_panel_says_how_to_get_one_and_remembers_the_choice(qtbot, make_window, tmp_path):
    window = make_window()
    window.show()
    window.docks["arcnn"].show()
    panel = window.arcnn_panel
    if shipped_checkpoint("arcnn") is None:
        qtbot.wait(50)
        assert panel.net is None and panel.model_label.text() == NO_MODEL
        assert not panel.run_button.isEnabled()
    empty = tmp_path / "empty"
    empty.mkdir()
    panel.choose_folder = lambda start: str(empty)
    click(qtbot, panel.choose_button)
    qtbot.waitUntil(lambda: "Cannot load" in panel.status.text(), timeout=RUN_MS)
    assert "no model.safetensors" in panel.status.text()
    assert panel.net is not None or panel.model_label.text() == NO_MODEL
    folder = save_checkpoint(tmp_path / "tiny-arcnn" / "checkpoints" / "best", make_net(),
                             {"model": "arcnn", "model_config": asdict(CONFIG)}, "A tiny test model")
    panel.choose_folder = lambda start: str(folder)
    click(qtbot, panel.choose_button)
    qtbot.waitUntil(lambda: panel.net is not None, timeout=RUN_MS)
    assert panel.run_button.isEnabled() and panel.model_label.text() == "Model: tiny-arcnn (best)"
    assert window.settings.model_checkpoint("arcnn") == str(folder)
    window.settings.sync()
    again = make_window()
    again.show()
    assert again.arcnn_panel.net is None, "nothing loads before the panel is shown"
    again.docks["arcnn"].show()
    qtbot.waitUntil(lambda: again.arcnn_panel.net is not None, timeout=RUN_MS)
    assert again.arcnn_panel.net.config.steps == CONFIG.steps


def test_a_seed_longer_than_the_window_is_edited_window_by_window(qtbot, window):
    panel = open_panel(qtbot, window, make_net(5), iterations=16, risk=3.0)  # the window is 2 bars here
    long_melody = tuple(Note(55 + (i * 3) % 8, i * PPQ, PPQ, 80) for i in range(4 * 6))  # 6 bars
    doc = window.document
    doc.load(Song(ppq=PPQ, tracks=(Track(name="Melody", notes=long_melody),)), None)
    assert run_to_end(qtbot, panel) == ["finished"]
    changes = window.takes.takes[0].changes()
    bars = {(n.start // (4 * PPQ)) + 1 for n in changes.added + changes.removed}
    assert {1, 6} <= bars, f"edits reach the first and the last window, got bars {sorted(bars)}"


def test_the_run_shortcut_and_the_heat_shortcut_work_from_the_window(qtbot, window):
    panel = open_panel(qtbot, window)
    window.docks["arcnn"].hide()
    activate(qtbot, window)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.docks["arcnn"].isVisible(), "running opens the panel, where the take is"
    assert len(window.takes.takes) == 1
    qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.piano_roll.area.layers[0].visible
