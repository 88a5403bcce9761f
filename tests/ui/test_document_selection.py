"""Document.select keeps only indices of notes the active track has: an index past the end
reached the piano roll's painting, where the IndexError crashed PySide."""

from __future__ import annotations

from desktop_app.music.note import Note
from desktop_app.music.song import Song, Track
from desktop_app.ui.document import Document


def two_tracks() -> Song:
    return Song(tracks=(Track(notes=(Note(60, 0, 10, 90), Note(62, 10, 10, 90), Note(64, 20, 10, 90))),
                        Track(notes=(Note(48, 0, 10, 90),))))


def test_select_drops_indices_past_the_end_and_negative_ones():
    document = Document()
    document.load(two_tracks(), None)
    document.select([0, 2, 3, 17, -1])
    assert document.selection == frozenset({0, 2})


def test_select_checks_against_the_active_track():
    document = Document()
    document.load(two_tracks(), None)
    document.set_active_track(1)
    document.select([0, 1, 2])
    assert document.selection == frozenset({0})


def test_an_empty_song_selects_nothing():
    document = Document()
    document.select([0, 1])
    assert document.selection == frozenset()


def test_the_roll_paints_after_an_out_of_range_selection(qtbot):
    from desktop_app.ui.piano_roll import PianoRoll

    document = Document()
    document.load(two_tracks(), None)
    roll = PianoRoll(document)
    qtbot.addWidget(roll)
    roll.resize(600, 400)
    roll.show()
    document.select([1, 99])
    roll.repaint()
    assert document.selection == frozenset({1})
