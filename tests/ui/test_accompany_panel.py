"""The Accompany panel and the GAN in the training panel, driven with real clicks and keys: a tiny GAN
(built with a fixed seed: its voices are noise, but notes) writes voices under a melody as takes that
add tracks; accepting adds them in one undo step and undoing removes them exactly, the melody track
untouched; cancel keeps nothing; without a model the panel says so and loads a checkpoint folder; the
knobs persist. The training panel trains a tiny GAN in the runner's child process and shows generator
and critic loss on one plot, the gradient penalty, the sample metrics and a strip of generated rolls
that a resumed run reads back from the run folder."""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_app.ml.checkpoints import save_checkpoint
from desktop_app.ml.data.convert import piece_id
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.models import gan
from desktop_app.ml.registry import make_config
from desktop_app.ml.shipped import shipped_checkpoint
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.models.accompany_panel import NO_MODEL
from desktop_app.ui.models.takes import Take
from desktop_app.ui.models.training_panel import prepare_resume

Left = Qt.MouseButton.LeftButton
CtrlShift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
PPQ = 480
RUN_MS = 60_000


def melody_song(bars: int = 6) -> Song:
    """A soprano of quarter notes (longer than the tiny GAN's 2-bar window) and a piano track."""
    soprano = tuple(Note(67 + (i * 5) % 7, i * PPQ, PPQ, 80) for i in range(4 * bars))
    piano = tuple(Note(48 + (b * 5) % 7, b * 4 * PPQ, 4 * PPQ, 70) for b in range(bars))
    return Song(ppq=PPQ, tracks=(Track(name="Piano", notes=piano), Track(name="Soprano", notes=soprano)),
                title="melody")


def chorales(n: int = 6, bars: int = 4) -> list[Piece]:
    """Four-voice block chords, a chord a beat, as the GAN's training pieces."""
    rng = np.random.default_rng(0)
    pieces = []
    for i in range(n):
        tonic = 60 + int(rng.integers(-3, 4))
        rows = []
        for beat in range(bars * 4):
            third, fifth = (4, 7) if rng.random() < 0.5 else (3, 8)
            top = tonic + (0, third, fifth)[int(rng.integers(3))] + 12
            for voice, pitch in enumerate((top, tonic + third, tonic + fifth - 12, tonic - 24)):
                rows.append((voice, pitch, 4 * beat, 4 * beat + 4, 80))
        notes = np.array(sorted(rows, key=lambda r: (r[2], r[0], r[1])), dtype=np.int32)
        pieces.append(Piece(id=piece_id(notes), name=f"chorale {i}", source="test", notes=notes,
                            downbeats=np.arange(0, bars * 16 + 1, 16, dtype=np.int32), key="C",
                            voice_names=("Soprano", "Alto", "Tenor", "Bass")))
    return pieces


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def net() -> gan.GanNet:
    torch.manual_seed(0)
    return gan.build(make_config("gan", "tiny")).eval()


class SlowNet(gan.GanNet):
    """The tiny GAN, slower per window, so a run lasts long enough to cancel."""

    def forward(self, condition, noise):
        time.sleep(0.05)
        return super().forward(condition, noise)


def slow_copy(net: gan.GanNet) -> SlowNet:
    slow = SlowNet(net.config)
    slow.load_state_dict(net.state_dict())
    return slow.eval()


def click(qtbot, widget) -> None:
    assert widget.isEnabled(), widget.text() if hasattr(widget, "text") else widget
    qtbot.mouseClick(widget, Left)


def click_take(qtbot, panel, row: int) -> None:
    rect = panel.takes_view.list.visualItemRect(panel.takes_view.list.item(row))
    qtbot.mouseClick(panel.takes_view.list.viewport(), Left, pos=rect.center())


def press_in_window(qtbot, window, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, key, modifiers)


def open_panel(qtbot, window, model, variations: int = 2, seed: str = "3"):
    """The song loaded, the panel opened with Ctrl+Shift+A and given `model`; the knobs set by typing."""
    window.document.load(melody_song(), None)
    window.resize(1400, 900)
    qtbot.waitExposed(window)
    press_in_window(qtbot, window, Qt.Key.Key_A, CtrlShift)
    assert window.docks["accompany"].isVisible()
    panel = window.accompany_panel
    panel.set_model(model, name="tiny test GAN")
    for box, text in ((panel.variations, str(variations)), (panel.seed_edit, seed)):
        box.setFocus()
        box.selectAll()
        qtbot.keyClicks(box, text)
    return panel


def choose_melody(qtbot, panel, row: int) -> None:
    """Pick the melody track with the keyboard, as a user would in the combo box."""
    panel.melody.setFocus()
    while panel.melody.currentIndex() < row:
        qtbot.keyClick(panel.melody, Qt.Key.Key_Down)
    while panel.melody.currentIndex() > row:
        qtbot.keyClick(panel.melody, Qt.Key.Key_Up)


def run_to_end(qtbot, panel) -> list:
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        click(qtbot, panel.run_button)
    return ended.args


def test_accompanying_makes_takes_that_add_tracks_and_undo_in_one_step(qtbot, window, net):
    panel = open_panel(qtbot, window, net, variations=2)
    doc = window.document
    before = doc.song
    choose_melody(qtbot, panel, 1)
    click(qtbot, panel.voice_boxes["tenor"])  # alto and bass only
    assert run_to_end(qtbot, panel) == ["finished"]
    assert doc.song is before and doc.undo_stack.count() == 0, "a run makes takes, not an edit"
    assert [panel.takes_view.list.item(i).text() for i in range(3)] == ["Original", "Take 1", "Take 2"]
    first, second = window.takes.takes
    for take in (first, second):
        assert take.song.tracks[:2] == before.tracks and take.song.tracks[1] is before.tracks[1]
        added = take.song.tracks[2:]
        assert [(t.name, t.program) for t in added] == [("Alto", 41), ("Bass", 43)]
        assert all(t.notes for t in added) and len({t.channel for t in added}) == 2
        assert not {t.channel for t in added} & {t.channel for t in before.tracks}, "channels the song leaves free"
    assert first.song.tracks[2].notes != second.song.tracks[2].notes, "each variation its own noise"
    expected = gan.accompany(net, net.config, before, 1, voices=("alto", "bass"), seed=4)[0]
    assert second.song.tracks[2:] == expected, "variation 2 is seed 3 + 1, as gan.accompany numbers them"
    counts = [len(t.all_changes().added) for t in (first, second)]
    assert panel.status.text().startswith(f"Take 1 to Take 2: 2 variations of 2 new tracks, {counts[0]} and "
                                          f"{counts[1]} notes")
    assert window.takes.active is first and window.playback.audition_song is first.song

    click_take(qtbot, panel, 2)  # A/B: the roll draws the second take's new notes, playback plays it
    layer = window.piano_roll.area.layers[1]
    assert window.takes.active is second and window.playback.audition_song is second.song
    assert set(layer.added) == set(second.song.tracks[2].notes + second.song.tracks[3].notes)
    click(qtbot, panel.takes_view.accept_button)
    assert doc.undo_stack.count() == 1 and doc.song == second.song and window.takes.takes == []
    assert doc.song.tracks[1] is before.tracks[1] and doc.active_track == 1, "the melody track is untouched"
    press_in_window(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.song is before and len(doc.song.tracks) == 2


def test_a_take_that_adds_tracks_keeps_hand_edits_made_meanwhile():
    base = melody_song(2)
    voice = Track(name="Alto", program=41, channel=3, notes=(Note(60, 0, PPQ, 80),))
    take = Take("Take 1", base, base.with_tracks((*base.tracks, voice)), track=1)
    assert take.all_changes().added == voice.notes and take.changes().added == ()
    edited = base.with_tracks((base.tracks[0].with_notes(base.tracks[0].notes[1:]), base.tracks[1]))
    applied = take.on(edited)
    assert applied.tracks[:2] == edited.tracks and applied.tracks[2] is voice


def test_cancel_keeps_nothing(qtbot, window, net):
    panel = open_panel(qtbot, window, slow_copy(net), variations=8)
    doc = window.document
    before = doc.song
    choose_melody(qtbot, panel, 1)
    click(qtbot, panel.run_button)
    qtbot.waitUntil(lambda: panel.progress.maximum() == 8 and panel.progress.value() >= 1, timeout=RUN_MS)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        click(qtbot, panel.cancel_button)
    assert ended.args == ["cancelled"] and panel.status.text() == "Cancelled: nothing was kept."
    assert doc.song is before and doc.undo_stack.count() == 0 and not doc.dirty
    assert window.takes.takes == [] and panel.takes_view.list.count() == 1
    assert window.playback.audition_song is None
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_instruments_and_refusals(qtbot, window, net):
    panel = open_panel(qtbot, window, net, variations=1)
    panel.instruments.setFocus()
    qtbot.keyClick(panel.instruments, Qt.Key.Key_Down)  # choir
    choose_melody(qtbot, panel, 1)
    assert run_to_end(qtbot, panel) == ["finished"]
    (take,) = window.takes.takes
    assert [(t.name, t.program) for t in take.song.tracks[2:]] == [("Alto", 52), ("Tenor", 52), ("Bass", 52)]
    assert "choir" in take.source and "seed 3" in take.source

    for box in panel.voice_boxes.values():
        click(qtbot, box)
    assert not panel.run_button.isEnabled()
    assert not panel.run() and panel.status.text() == "No voice chosen: tick alto, tenor or bass."
    click(qtbot, panel.voice_boxes["bass"])
    panel.seed_edit.setText("x")
    assert not panel.run() and "a whole number" in panel.status.text()
    panel.seed_edit.setText("1")
    song = window.document.song
    window.document.apply("empty", song.with_tracks((*song.tracks, Track(name="Empty"))))
    choose_melody(qtbot, panel, 2)
    assert not panel.run() and panel.status.text().startswith("Track 3 (Empty) has no notes")


def test_without_a_model_the_panel_says_so_loads_a_folder_and_keeps_its_knobs(qtbot, make_window, tmp_path, net):
    window = make_window()
    window.show()
    panel = window.accompany_panel
    press_in_window(qtbot, window, Qt.Key.Key_A, CtrlShift)
    assert window.docks["accompany"].isVisible()
    if shipped_checkpoint("gan") is None:
        assert panel.status.text() == NO_MODEL
        assert panel.model_label.text() == NO_MODEL and not panel.run_button.isEnabled()
    else:  # the shipped model loads by itself; a folder chosen later replaces it
        qtbot.waitUntil(lambda: panel.net is not None, timeout=RUN_MS)
    empty = tmp_path / "empty"
    empty.mkdir()
    panel.choose_folder = lambda start: str(empty)
    click(qtbot, panel.choose_button)
    qtbot.waitUntil(lambda: "Cannot load" in panel.status.text(), timeout=RUN_MS)
    folder = save_checkpoint(tmp_path / "tiny-gan" / "checkpoints" / "best", net,
                             {"model": "gan", "model_config": asdict(net.config)}, "A tiny test GAN")
    panel.choose_folder = lambda start: str(folder)
    click(qtbot, panel.choose_button)
    qtbot.waitUntil(lambda: panel.model_label.text() == "Model: tiny-gan (best)", timeout=RUN_MS)
    assert panel.net is not None
    click(qtbot, panel.voice_boxes["alto"])
    panel.instruments.setCurrentIndex(2)
    panel.variety.setValue(0.4)
    panel.variations.setValue(5)
    panel.seed_edit.setText("42")
    window.settings.sync()
    again = make_window()
    again.show()
    other = again.accompany_panel
    assert [b.isChecked() for b in other.voice_boxes.values()] == [False, True, True]
    assert (other.instruments.currentIndex(), other.variety.value(), other.variations.value(),
            other.seed_edit.text()) == (2, 0.4, 5, "42")
    assert other.net is None, "nothing loads before the panel is shown"
    again.docks["accompany"].show()
    qtbot.waitUntil(lambda: other.net is not None, timeout=RUN_MS)
    assert other.model_label.text() == "Model: tiny-gan (best)"


# ----- the GAN in the training panel -------------------------------------------------------------


def test_the_training_panel_draws_both_losses_the_penalty_and_a_strip_of_rolls(qtbot, tmp_path, window):
    pieces = chorales(6)
    window.resize(1400, 1000)
    window.docks["training"].show()
    panel = window.training_panel
    panel.pieces_for = lambda name: (pieces[:4], pieces[4:])
    qtbot.waitUntil(lambda: "gan" in panel.presets, timeout=RUN_MS)
    panel.model_box.setCurrentText("gan")
    panel.preset_box.setCurrentText("tiny")
    panel.data_box.setCurrentText("chorales in the test")
    panel.device_box.setCurrentText("cpu")
    for box, value in ((panel.batch_box, 4), (panel.steps_box, 6), (panel.eval_box, 2), (panel.checkpoint_box, 6)):
        box.setFocus()
        box.lineEdit().selectAll()
        qtbot.keyClicks(box.lineEdit(), str(value))
    panel.out_edit.setText(str(tmp_path / "run"))
    arrivals: list[tuple[int, str]] = []  # each cell's step, and the run's state when it came
    add = panel.strip.add
    panel.strip.add = lambda step, rolls: (arrivals.append((step, panel.process.status)), add(step, rolls))
    with qtbot.waitSignal(panel.runFinished, timeout=180_000):
        click(qtbot, panel.start_button)
    assert arrivals == [(2, "running"), (4, "running"), (6, "running")], "the strip fills while the run goes on"
    assert panel.strip.captions() == ["step 2", "step 4", "step 6"] and panel.strip.isVisible()
    curves = panel.curves
    curves.redraw()
    loss_items = {curves.shown_name(n) for n, item in curves.items.items() if item.getViewBox() is curves.loss_plot.vb}
    assert {"generator", "critic"} <= loss_items, "generator and critic loss on one plot"
    assert len(curves.curve("train/g_loss")[0]) == len(curves.curve("train/c_loss")[0]) == 6
    assert curves.penalty_plot is not None and len(curves.curve("train/gp")[0]) == 6
    assert curves.items["train/gp"].getViewBox() is curves.penalty_plot.vb
    assert "train/loss" not in curves.items, "the critic's loss is not drawn twice"
    assert curves.sample_metric.currentText() == "in_scale_ratio"
    assert len(curves.curve("valid/gen_in_scale_ratio")[0]) == len(curves.curve("valid/real_in_scale_ratio")[0]) == 3
    curves.sample_metric.setCurrentText("polyphony")
    assert "valid/gen_in_scale_ratio" not in curves.items and len(curves.curve("valid/gen_polyphony")[0]) == 3
    legend = [label.text for _sample, label in curves.loss_plot.legend.items]
    assert "generator" in legend and "critic" in legend

    # each strip cell is what the run saved in its folder: a resumed run shows them again
    saved = prepare_resume(tmp_path / "run")["previews"]
    assert [s for s, _ in saved] == [2, 4, 6]
    for (step, rolls), (shown_step, shown) in zip(saved, panel.strip.cells):
        assert step == shown_step and np.array_equal(rolls, shown)
    assert saved[0][1].shape == (gan.PREVIEW_WINDOWS, 64, 32) and (saved[0][1] == 1).any()

    # Use in Editor: the Accompany panel harmonises with the run's checkpoint
    click(qtbot, panel.use_button)
    accompany = window.accompany_panel
    qtbot.waitUntil(lambda: accompany.net is not None, timeout=RUN_MS)
    assert accompany.model_label.text() == "Model: run (best)"
    assert window.settings.model_checkpoint("gan") == str(tmp_path / "run" / "checkpoints" / "best")

    # another model lays the plots out as before
    panel.curves.set_model("tiny")
    assert curves.penalty_plot is None and curves.plots == (curves.loss_plot, curves.metric_plot, curves.lr_plot)
    assert not curves.sample_metric.isVisible() and curves.loss_plot.titleLabel.text == "Loss"


def test_a_strip_cell_draws_each_voice_in_its_colour_high_pitches_on_top_and_note_starts_brighter():
    from desktop_app.ui.models.roll_strip import BACKGROUND, GAP, ONSET, VOICE_RGB, roll_image

    rolls = np.zeros((3, 12, 16), dtype=np.uint8)
    rolls[0, 10, 1] = 1 + ONSET  # the melody begins high in window 0 ...
    rolls[0, 10, 2:4] = 1  # ... and holds
    rolls[0, 2, 5] = 4 + ONSET  # a bass note low down
    rolls[2, 0, 6] = 2  # window 2 (second row, first column): an alto sustain at the lowest pitch
    image = roll_image(rolls, columns=2, steps_per_bar=8)
    assert image.shape == (2 * 13 - 1, 2 * 17 - 1, 3)
    assert tuple(image[12 - 1 - 10, 1]) == tuple(VOICE_RGB[1]), "the melody's start, row 10 of 12 near the top"
    held = image[12 - 1 - 10, 2].astype(int)
    assert (held < VOICE_RGB[1]).all() and (held > 0).all(), "the held steps darker than the start"
    assert tuple(image[12 - 1 - 2, 5]) == tuple(VOICE_RGB[4])
    assert (image[13 + 11, 6] < VOICE_RGB[2]).all() and image[13 + 11, 6].any(), "window 2, bottom row"
    assert tuple(image[12, 0]) == GAP and tuple(image[0, 16]) == GAP, "a line between the windows"
    assert tuple(image[13, 17 + 1]) == BACKGROUND, "the missing fourth window is left empty"
