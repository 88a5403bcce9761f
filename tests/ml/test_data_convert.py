"""Song -> Piece: the 16th-note grid, barlines, ids that find duplicates, and the stored fields."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.ml.data import piece_from_song
from desktop_app.music.note import Note
from desktop_app.music.song import KeySignature, Song, TempoChange, TimeSignature
from desktop_app.music.timing import Meter
from desktop_app.music.track import Track


def _song(notes_by_track, ppq=480, signature=(4, 4), key="Am", bpm=90.0, drums=()):
    tracks = tuple(
        Track(name=f"T{i}", channel=i, is_drum=i in drums, notes=tuple(Note(*n) for n in notes))
        for i, notes in enumerate(notes_by_track)
    )
    return Song(ppq=ppq, tempos=(TempoChange.from_bpm(0, bpm),), time_signatures=(TimeSignature(0, *signature),),
                keys=(KeySignature(0, key),), tracks=tracks, title="t")


def test_notes_are_quantised_to_sixteenths_with_at_least_one_step():
    # ppq 96: a sixteenth is 24 ticks. 13 ticks rounds to step 1; a 5-tick note still lasts a step.
    song = _song([[(60, 0, 96), (62, 13, 5), (64, 200, 50)]], ppq=96)
    piece = piece_from_song(song, "a", "a.mid")
    assert piece.notes.dtype == np.int32
    assert piece.notes.tolist() == [[0, 60, 0, 4, 100], [0, 62, 1, 2, 100], [0, 64, 8, 10, 100]]
    assert piece.n_steps == 10


def test_rows_sorted_by_start_voice_pitch_and_collisions_keep_the_longest():
    song = _song([[(67, 0, 480), (60, 0, 480), (60, 5, 960)], [(48, 0, 480)]])
    piece = piece_from_song(song, "a", "a.mid")
    # Notes at tick 0 and 5 of pitch 60 land on one step: the longer (4 beats) stays.
    assert piece.notes[:, :4].tolist() == [[0, 60, 0, 8], [0, 67, 0, 4], [1, 48, 0, 4]]


def test_drum_tracks_are_left_out_but_voices_keep_track_indices():
    song = _song([[(36, 0, 480)], [(60, 0, 480)]], drums=(0,))
    piece = piece_from_song(song, "a", "a.mid")
    assert piece.notes[:, :2].tolist() == [[1, 60]]
    assert piece.voice_names == ("T0", "T1")


def test_downbeats_follow_the_meter_up_to_the_barline_after_the_end():
    song = _song([[(60, 0, 480 * 7)]], signature=(3, 4))  # 7 beats: bars of 12 steps, end at step 28
    piece = piece_from_song(song, "a", "a.mid")
    assert piece.downbeats.tolist() == [0, 12, 24, 36]
    assert (piece.numerator, piece.denominator) == (3, 4)
    assert piece.time_signatures == ((0, 3, 4),)


def test_key_tempo_title_and_seconds_are_carried():
    piece = piece_from_song(_song([[(60, 0, 480 * 3)]], bpm=90.0), "name", "src.mid")
    assert (piece.key, piece.tempo_bpm, piece.title, piece.name, piece.source) == ("Am", 90.0, "t", "name", "src.mid")
    assert abs(piece.seconds - 2.0) < 1e-4  # three beats at 90 BPM (tempo kept in whole microseconds)


def test_id_ignores_key_velocity_and_tempo_but_not_the_notes():
    base = piece_from_song(_song([[(60, 0, 480), (64, 480, 480)]]), "a", "a")
    moved = piece_from_song(_song([[(65, 0, 480, 50), (69, 480, 480, 50)]], bpm=60, key="Dm"), "b", "b")
    other = piece_from_song(_song([[(60, 0, 480), (65, 480, 480)]]), "c", "c")
    later = piece_from_song(_song([[(60, 0, 480), (64, 960, 480)]]), "d", "d")
    assert base.id == moved.id
    assert len({base.id, other.id, later.id}) == 3


def test_meterless_source_keeps_no_signatures():
    piece = piece_from_song(_song([[(60, 0, 480)]]), "a", "a", has_meter=False)
    assert piece.time_signatures == ()


def test_empty_song_gives_an_empty_piece():
    piece = piece_from_song(Song(), "e", "e.mid")
    assert piece.notes.shape == (0, 5) and piece.n_steps == 0 and len(piece.downbeats) >= 1


@pytest.mark.skipif(not hasattr(Meter, "barlines"), reason="needs the pickup-aware meter (music/timing.py)")
def test_a_pickup_keeps_the_full_bars_meter_and_its_downbeat_before_the_start():
    # A quarter-note pickup is written as 1/4 then 4/4; its bar's downbeat lies three beats before tick 0.
    song = Song(time_signatures=(TimeSignature(0, 1, 4), TimeSignature(480, 4, 4)),
                tracks=(Track(notes=(Note(67, 0, 480), Note(72, 480, 1920))),))
    piece = piece_from_song(song, "p", "p.mid")
    assert (piece.numerator, piece.denominator) == (4, 4) and piece.time_signatures == ((4, 4, 4),)
    assert piece.downbeats.tolist() == [-12, 4, 20]
