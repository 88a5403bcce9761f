"""Takes: candidate songs kept beside the document, auditioned A/B through playback, accepted as
one undo step (on top of hand edits made meanwhile) or discarded without a trace."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from desktop_app.audio.schedule import NOTE_ON
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.ui.document import Document
from desktop_app.ui.models.takes import NoteChanges, Takes, apply_changes, note_changes
from desktop_app.ui.piano_roll.overlays import ADDED_COLOUR, REMOVED_COLOUR

SEED = (Note(60, 0, 480, 90), Note(62, 480, 480, 90), Note(64, 960, 480, 90), Note(65, 1440, 480, 90))


def song_of(*notes: Note) -> Song:
    return Song(ppq=480, tracks=(Track(name="Melody", notes=tuple(notes)), Track(name="Bass", notes=(Note(36, 0, 1920),))))


def model_output(song: Song) -> Song:
    """What a model might leave: E removed, a B and a high C added."""
    notes = [n for n in song.tracks[0].notes if n.pitch != 64] + [Note(71, 960, 240, 80), Note(72, 1200, 240, 80)]
    return song.with_track(0, song.tracks[0].with_notes(notes))


@pytest.fixture
def document(qtbot) -> Document:
    doc = Document()
    doc.load(song_of(*SEED), None)
    return doc


def test_changes_are_the_note_set_difference_and_apply_back():
    after = model_output(song_of(*SEED)).tracks[0].notes
    changes = note_changes(SEED, after)
    assert changes.removed == (SEED[2],)
    assert set(changes.added) == {Note(71, 960, 240, 80), Note(72, 1200, 240, 80)}
    assert set(apply_changes(SEED, changes)) == set(after)
    assert not NoteChanges()


def test_accepting_a_take_is_one_undo_step_and_clears_the_takes(document):
    base = document.song
    takes = Takes(document)
    take = takes.add(base, model_output(base), 0, "test model")
    assert takes.active is take and document.song is base, "a take does not write into the song"
    takes.accept()
    assert document.song is take.song
    assert document.undo_stack.count() == 1 and "Take 1" in document.undo_stack.undoText()
    assert takes.takes == [] and takes.active is None
    document.undo_stack.undo()
    assert document.song is base
    document.undo_stack.redo()
    assert document.song is take.song


def test_discarding_leaves_the_document_as_it_was(document):
    base = document.song
    takes = Takes(document)
    first = takes.add(base, model_output(base), 0)
    second = takes.add(base, base.with_track(0, base.tracks[0].with_notes(SEED[:2])), 0)
    assert takes.active is second and [t.name for t in takes.takes] == ["Take 1", "Take 2"]
    takes.discard()
    assert takes.takes == [first] and takes.active is None
    takes.discard(first)
    assert takes.takes == []
    assert document.song is base and document.undo_stack.count() == 0 and not document.dirty


def test_accepting_after_a_hand_edit_keeps_the_hand_edit(document):
    base = document.song
    takes = Takes(document)
    take = takes.add(base, model_output(base), 0)
    by_hand = Note(48, 1920, 480, 100)
    document.apply("Add note", base.with_track(0, base.tracks[0].with_notes(base.tracks[0].notes + (by_hand,))))
    takes.accept(take)
    melody = set(document.song.tracks[0].notes)
    assert by_hand in melody and SEED[2] not in melody and Note(72, 1200, 240, 80) in melody
    assert document.song.tracks[1] is base.tracks[1]
    document.undo_stack.undo()
    assert by_hand in document.song.tracks[0].notes and SEED[2] in document.song.tracks[0].notes


def test_auditioning_a_take_makes_playback_play_it(qtbot, window):
    doc, playback = window.document, window.playback
    doc.load(song_of(*SEED), None)
    base = doc.song

    def sounding() -> set[int]:
        schedule = playback._schedule()
        return set(schedule.key[schedule.kind == NOTE_ON].tolist())

    assert sounding() == {36, 60, 62, 64, 65}
    take = window.takes.add(base, model_output(base), 0)
    assert playback.audition_song is take.song
    assert sounding() == {36, 60, 62, 65, 71, 72}
    window.takes.audition(None)  # back to the original: A/B
    assert playback.audition_song is None and sounding() == {36, 60, 62, 64, 65}
    window.takes.audition(take)
    window.takes.discard()
    assert playback.audition_song is None and doc.song is base


def test_the_roll_draws_added_notes_green_and_removed_notes_outlined_red(qtbot, window):
    doc, roll = window.document, window.piano_roll
    doc.load(song_of(*SEED), None)
    window.resize(1400, 900)
    qtbot.waitExposed(window)
    vp = roll.viewport
    vp.fit(0, 1920, 56, 76)
    take = window.takes.add(doc.song, model_output(doc.song), 0)
    assert set(window.takes.takes[0].changes().added) == set(roll.area.layers[1].added)
    image = roll.area.grab().toImage()

    def colour_at(tick: float, pitch: int, dy: float = 0.5) -> QColor:
        return image.pixelColor(round(vp.tick_to_x(tick)), round(vp.pitch_to_y(pitch) + vp.key_height * dy))

    added = Note(72, 1200, 240, 80)
    assert colour_at(added.start + added.duration / 2, added.pitch).rgb() == ADDED_COLOUR.rgb()
    removed = SEED[2]
    top_edge = vp.pitch_to_y(removed.pitch) + 1.5
    edge = image.pixelColor(round(vp.tick_to_x(removed.start + 240)), round(top_edge))
    assert edge.rgb() == REMOVED_COLOUR.rgb()
    window.takes.discard(take)
    image = roll.area.grab().toImage()
    assert image.pixelColor(round(vp.tick_to_x(added.start + 120)), round(vp.pitch_to_y(72) + 7)).rgb() != ADDED_COLOUR.rgb()


def test_a_take_whose_track_was_deleted_draws_nothing_and_still_accepts(qtbot, window):
    doc = window.document
    doc.load(song_of(*SEED), None)
    base = doc.song
    bass_take = window.takes.add(base, base.with_track(1, base.tracks[1].with_notes((Note(38, 0, 960),))), 1)
    assert window.piano_roll.area.layers[1].added == (Note(38, 0, 960),)
    doc.apply("Delete track", base.with_tracks([base.tracks[0]]))
    assert window.piano_roll.area.layers[1].added == ()
    steps = doc.undo_stack.count()
    window.takes.accept(bass_take)
    assert len(doc.song.tracks) == 1 and doc.song.tracks[0] is base.tracks[0]
    assert doc.undo_stack.count() == steps and window.takes.takes == [], "no empty undo step"
