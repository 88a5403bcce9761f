"""The transformer panel driven with real clicks and keys: a tiny transformer, trained here for a
few seconds, continues a seed through the runner with its notes streaming into the roll, the
variations become takes, one is accepted as one undo step; filling bars leaves every note outside
them untouched; cancel keeps nothing; a copy of the original is sampled again; the knobs persist."""

from __future__ import annotations

import time
from dataclasses import asdict

import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from desktop_app.ml.checkpoints import save_checkpoint
from desktop_app.ml.data import piece_from_song
from desktop_app.ml.models import transformer as M
from desktop_app.ml.shipped import shipped_checkpoint
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.models.transformer_panel import NO_MODEL, Knobs, Request, RetryLog, copies_original, generate

Left = Qt.MouseButton.LeftButton
PPQ = 480
BAR = 4 * PPQ
RUN_MS = 60_000


def seed_song(bars: int = 4) -> Song:
    """A melody of quarter notes over a bass of whole notes, `bars` bars of 4/4."""
    melody = tuple(Note(67 + (i * 5) % 7, i * PPQ, PPQ, 80) for i in range(4 * bars))
    bass = tuple(Note(43 + (b * 5) % 7, b * BAR, BAR, 70) for b in range(bars))
    return Song(ppq=PPQ, tracks=(Track(name="Melody", notes=melody), Track(name="Bass", notes=bass)), title="seed")


class SlowNet(M.TransformerNet):
    """The tiny model, a little slower per step (through the network or its Decoder, see
    slow_decoder_steps), so a run lasts long enough to watch and cancel."""

    def forward(self, idx, cache=None):
        time.sleep(0.003)
        return super().forward(idx, cache)


@pytest.fixture(autouse=True)
def slow_decoder_steps(monkeypatch):
    """Generation steps a SlowNet through its Decoder, which never calls forward: slow that too."""
    step = M.Decoder.step

    def slow(self, tokens, cache):
        if isinstance(self._net(), SlowNet):
            time.sleep(0.003)
        return step(self, tokens, cache)

    monkeypatch.setattr(M.Decoder, "step", slow)


@pytest.fixture(scope="module")
def trained():
    """A tiny transformer trained for 40 steps on transpositions of the seed (a few seconds)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    config = M.Config(**{**M.PRESETS["tiny"], "transpose": 3, "infill_share": 0.5})
    examples = M.make_examples([piece_from_song(seed_song(8), "seed", "test")], config)
    torch.manual_seed(0)
    net = M.build(config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    for step in range(40):
        torch.manual_seed(step)
        value, _ = M.loss(net, examples.batch(torch.randint(0, len(examples), (8,))))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    torch.set_num_threads(before)
    return net.eval()


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def slow_copy(net: M.TransformerNet) -> SlowNet:
    slow = SlowNet(net.config)
    slow.load_state_dict(net.state_dict())
    return slow.eval()


def open_panel(qtbot, window, net, variations: int = 2, bars: int = 2, seed: str = "3", all_tracks: bool = False):
    window.document.load(seed_song(), None)
    window.resize(1400, 900)
    window.docks["transformer"].show()
    window.docks["transformer"].raise_()
    qtbot.waitExposed(window)
    panel = window.transformer_panel
    panel.set_model(net, name="tiny test model")
    panel.variations.setValue(variations)
    panel.bars.setValue(bars)
    panel.seed_edit.setText(seed)
    panel.scope.setCurrentIndex(1 if all_tracks else 0)
    return panel


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Left)


def click_take(qtbot, panel, row: int) -> None:
    rect = panel.takes_view.list.visualItemRect(panel.takes_view.list.item(row))
    qtbot.mouseClick(panel.takes_view.list.viewport(), Left, pos=rect.center())


def run_to_end(qtbot, panel, button) -> list:
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        click(qtbot, button)
    return ended.args


def test_a_continuation_streams_in_becomes_takes_and_undoes_in_one_step(qtbot, window, trained):
    panel = open_panel(qtbot, window, slow_copy(trained), variations=2, bars=2, all_tracks=True)
    doc = window.document
    before = doc.song
    layer = window.piano_roll.area.layers[1]
    drawn_while_running: list[int] = []
    layer.changed.connect(lambda: panel.running and drawn_while_running.append(len(layer.added)))
    streamed: list[int] = []
    panel.notesStreamed.connect(lambda count: panel.running and streamed.append(count))
    assert run_to_end(qtbot, panel, panel.continue_button) == ["finished"]
    assert streamed and streamed[0] > 0, "notes arrived while the model was still writing"
    assert drawn_while_running and max(drawn_while_running) > 0, "the roll drew them before the end"
    assert doc.song is before and doc.undo_stack.count() == 0, "a run makes takes, not an edit"
    assert [panel.takes_view.list.item(i).text() for i in range(3)] == ["Original", "Take 1", "Take 2"]
    first, second = window.takes.takes
    for take in (first, second):
        new = [n for t in take.song.tracks for n in t.notes if n not in set(before.tracks[0].notes + before.tracks[1].notes)]
        assert new and all(4 * BAR <= n.start < 6 * BAR for n in new), "two new bars after the seed"
    counts = [len(take.all_changes().added) for take in (first, second)]
    assert panel.status.text().startswith(f"Take 1 to Take 2: 2 variations, {counts[0]} and {counts[1]} new notes")
    assert f"{counts[1]} notes added" in panel.takes_view.list.item(2).toolTip(), "counted over every track"
    assert window.takes.active is first and window.playback.audition_song is first.song
    click_take(qtbot, panel, 2)
    assert window.takes.active is second and window.playback.audition_song is second.song
    added = set(layer.added)
    assert added == {n for i in range(2) for n in second.song.tracks[i].notes} - set(before.tracks[0].notes
                                                                                         + before.tracks[1].notes)
    click(qtbot, panel.takes_view.accept_button)
    assert doc.song == second.song and doc.undo_stack.count() == 1
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.song is before and window.takes.takes == []


def test_filling_bars_leaves_every_note_outside_them_untouched(qtbot, window, trained):
    panel = open_panel(qtbot, window, trained, variations=3)
    doc = window.document
    before = doc.song
    assert panel.fill_bars_label.text().startswith("No bars chosen")
    window.piano_roll.state.set_loop((BAR, 3 * BAR))  # bars 2 and 3
    assert panel.fill_bars_label.text() == "Bars 2–3 (the loop region)"
    assert panel.request(True) == Request(True, (0,), first_bar=2, last_bar=3, retries=3)
    assert run_to_end(qtbot, panel, panel.fill_button) == ["finished"]
    assert len(window.takes.takes) == 3
    inside = range(BAR, 3 * BAR)
    for take in window.takes.takes:
        assert take.song.tracks[1] is before.tracks[1], "the other track is untouched"
        got = take.song.tracks[0].notes
        kept = [n for n in before.tracks[0].notes if n.start not in inside]
        assert all(any(k is g for g in got) for k in kept), "every note outside the bars is the very same"
        assert all(n.start in inside for n in got if not any(n is k for k in kept))
    click_take(qtbot, panel, 1)
    click(qtbot, panel.takes_view.accept_button)
    outside = lambda song: [n for n in song.tracks[0].notes if n.start not in inside]  # noqa: E731
    assert sorted(outside(doc.song), key=lambda n: n.start) == sorted(outside(before), key=lambda n: n.start)
    doc.undo_stack.undo()
    assert doc.song is before


def test_filling_with_a_selection_uses_the_bars_the_notes_span(qtbot, window, trained):
    panel = open_panel(qtbot, window, trained)
    doc = window.document
    doc.select([i for i, n in enumerate(doc.song.tracks[0].notes) if 2 * BAR <= n.start < 3 * BAR])
    assert panel.request(True).first_bar == 3 and panel.request(True).last_bar == 3
    assert panel.fill_bars_label.text() == "Bar 3 (the selected notes)"
    doc.select([])
    click(qtbot, panel.fill_button)
    assert not panel.running and "select notes" in panel.status.text()


def test_cancel_keeps_nothing(qtbot, window, trained):
    panel = open_panel(qtbot, window, slow_copy(trained), variations=4, bars=32)
    doc = window.document
    before = doc.song
    click(qtbot, panel.continue_button)
    qtbot.waitUntil(lambda: panel.partials_received >= 2, timeout=RUN_MS)
    assert panel.progress.isVisible()
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        click(qtbot, panel.cancel_button)
    assert ended.args == ["cancelled"]
    assert doc.song is before and doc.undo_stack.count() == 0 and not doc.dirty
    assert window.takes.takes == [] and panel.takes_view.list.count() == 1
    layer = window.piano_roll.area.layers[1]
    assert layer.added == () and layer.removed == ()
    assert window.playback.audition_song is None
    assert panel.continue_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_continuing_from_the_playhead_writes_there_given_the_other_track(qtbot, window, trained):
    panel = open_panel(qtbot, window, trained, variations=2, bars=1)
    doc = window.document
    before = doc.song
    window.piano_roll.state.set_playhead(BAR + PPQ)  # beat 2 of bar 2: from bar 2
    panel.start_from.setCurrentIndex(1)
    assert panel.request(False).from_bar == 2
    assert run_to_end(qtbot, panel, panel.continue_button) == ["finished"]
    for take in window.takes.takes:
        assert take.song.tracks[1] is before.tracks[1]
        melody = take.song.tracks[0].notes
        assert [n for n in melody if not BAR <= n.start < 2 * BAR] == \
            [n for n in before.tracks[0].notes if not BAR <= n.start < 2 * BAR], "bars 1, 3 and 4 are kept"
        new = [n for n in melody if BAR <= n.start < 2 * BAR]
        assert new and not any(n is o for n in new for o in before.tracks[0].notes), "bar 2 is written anew"


def test_a_variation_that_copies_the_original_is_sampled_again(monkeypatch):
    song = seed_song()
    original_bar2 = song.tracks[0].notes
    other = song.with_track(0, song.tracks[0].with_notes(
        tuple(n for n in original_bar2 if not BAR <= n.start < 2 * BAR) + (Note(60, BAR, BAR, 80),)))
    calls = []

    def fake_infill(net, config, s, first, last, tracks, variations, seed, **knobs):
        calls.append((variations, seed))
        yield M.GenerationUpdate(((0, 0, Note(60, BAR, BAR, 80)),), 0.5)
        takes = (s, other) if len(calls) == 1 else (s, ) * (variations - 1) + (other,)
        yield M.GenerationUpdate((), 1.0, takes[:variations])

    monkeypatch.setattr(M, "infill_song", fake_infill)
    assert copies_original(song, song, (0,), BAR, 2 * BAR)
    assert not copies_original(song, other, (0,), BAR, 2 * BAR)
    log = RetryLog()
    updates = list(generate(None, None, song, Request(True, (0,), first_bar=2, last_bar=2, retries=2),
                            Knobs(variations=2, seed=10), log))
    assert calls == [(2, 10), (1, 10 + 7919)], "only the copying variation is drawn again, with another seed"
    assert updates[-1].takes == (other, other) and log.rejected == 1 and log.still_copying == 0
    calls.clear()
    log = RetryLog()
    final = list(generate(None, None, song, Request(True, (0,), first_bar=2, last_bar=2, retries=0),
                          Knobs(variations=2, seed=10), log))[-1]
    assert calls == [(2, 10)] and final.takes == (song, other) and log.rejected == 0


def test_the_shortcuts_open_the_panel_and_run(qtbot, window, trained):
    panel = open_panel(qtbot, window, trained, variations=1, bars=1)
    window.docks["transformer"].hide()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert ended.args == ["finished"] and window.docks["transformer"].isVisible()
    assert len(window.takes.takes) == 1
    window.piano_roll.state.set_loop((0, BAR))
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert ended.args == ["finished"] and len(window.takes.takes) == 2


def test_bad_knobs_are_refused_in_one_line(qtbot, window, trained):
    panel = open_panel(qtbot, window, trained, seed="twelve")
    click(qtbot, panel.continue_button)
    assert not panel.running
    assert panel.status.text() == "Seed 'twelve': a whole number (0 or more), or blank for a random one."
    panel.seed_edit.setText("1")
    qtbot.mouseClick(panel.pitch_limit, Left, pos=QPoint(4, panel.pitch_limit.height() // 2))
    assert panel.pitch_limit.isChecked() and panel.pitch_low.isEnabled()
    panel.pitch_low.setValue(80)
    panel.pitch_high.setValue(60)
    click(qtbot, panel.continue_button)
    assert not panel.running and "lowest pitch is above the highest" in panel.status.text()


def test_without_a_model_the_panel_says_so_loads_a_folder_and_keeps_its_knobs(qtbot, make_window, tmp_path, trained):
    window = make_window()
    window.show()
    window.docks["transformer"].show()
    panel = window.transformer_panel
    if shipped_checkpoint("transformer") is None:
        qtbot.wait(50)
        assert panel.net is None and panel.model_label.text() == NO_MODEL
        assert not panel.continue_button.isEnabled() and not panel.fill_button.isEnabled()
        window.docks["transformer"].hide()
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert window.docks["transformer"].isVisible() and panel.status.text() == NO_MODEL
    empty = tmp_path / "empty"
    empty.mkdir()
    panel.choose_folder = lambda start: str(empty)
    click(qtbot, panel.choose_button)
    qtbot.waitUntil(lambda: "Cannot load" in panel.status.text(), timeout=RUN_MS)
    folder = save_checkpoint(tmp_path / "tiny-transformer" / "checkpoints" / "best", trained,
                             {"model": "transformer", "model_config": asdict(trained.config)}, "A tiny test model")
    panel.choose_folder = lambda start: str(folder)
    click(qtbot, panel.choose_button)
    qtbot.waitUntil(lambda: panel.net is not None, timeout=RUN_MS)
    assert panel.continue_button.isEnabled() and panel.model_label.text() == "Model: tiny-transformer (best)"
    panel.bars.setValue(7)
    panel.variations.setValue(5)
    panel.temperature.setValue(0.8)
    panel.density.setCurrentText("high")
    panel.start_from.setCurrentIndex(1)
    panel.seed_edit.setText("42")
    window.settings.sync()
    again = make_window()
    again.show()
    other = again.transformer_panel
    assert (other.bars.value(), other.variations.value(), other.temperature.value()) == (7, 5, 0.8)
    assert (other.density.currentText(), other.start_from.currentIndex(), other.seed_edit.text()) == ("high", 1, "42")
    assert other.net is None, "nothing loads before the panel is shown"
    again.docks["transformer"].show()
    qtbot.waitUntil(lambda: other.net is not None, timeout=RUN_MS)
    assert other.model_label.text() == "Model: tiny-transformer (best)"


def test_a_hand_edit_keeps_the_takes_and_another_song_drops_them(qtbot, window, trained):
    panel = open_panel(qtbot, window, trained, variations=2, bars=1)
    doc = window.document
    assert run_to_end(qtbot, panel, panel.continue_button) == ["finished"]
    take = window.takes.takes[1]
    melody = doc.song.tracks[0]
    doc.apply("Delete note", doc.song.with_track(0, melody.with_notes(melody.notes[1:])))  # the song's first edit
    assert len(window.takes.takes) == 2, "the takes stay for the song being edited"
    click_take(qtbot, panel, 2)
    click(qtbot, panel.takes_view.accept_button)
    assert melody.notes[0] not in doc.song.tracks[0].notes, "accepting keeps the hand edit"
    assert set(take.all_changes().added) <= {n for t in doc.song.tracks for n in t.notes}
    panel.bars.setValue(16)
    panel.set_model(slow_copy(trained), name="slow")
    click(qtbot, panel.continue_button)
    qtbot.waitUntil(lambda: panel.partials_received >= 1, timeout=RUN_MS)
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_MS) as ended:
        doc.load(seed_song(2), None)
    assert ended.args == ["cancelled"] and window.takes.takes == []
