"""The music metrics against examples worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop_app.ml import metrics
from desktop_app.ml.data.piece import Piece


def piece(rows, downbeats=(0, 16), key="C") -> Piece:
    """rows: (voice, pitch, start, end) in 16th-note steps, velocity 100."""
    notes = np.array([(v, p, s, e, 100) for v, p, s, e in rows], dtype=np.int32).reshape(-1, 5)
    return Piece(id="t", name="t", source="", notes=notes, downbeats=np.array(downbeats), key=key)


# One bar of 4/4: C E G C' as quarter notes, then a bar with a held C major triad over its
# first half, then an empty bar. 16 steps a bar, 3 bars.
MELODY = [(0, 60, 0, 4), (0, 64, 4, 8), (0, 67, 8, 12), (0, 72, 12, 16)]
TRIAD = [(0, 60, 16, 24), (1, 64, 16, 24), (2, 67, 16, 24)]
SONG = piece(MELODY + TRIAD, downbeats=(0, 16, 32, 48))


def test_pitch_class_histogram_and_entropy_by_hand():
    # pitch classes: C C E G C E G -> C 3/7, E 2/7, G 2/7
    hist = metrics.pitch_class_histogram(SONG)
    assert hist[0] == pytest.approx(3 / 7) and hist[4] == pytest.approx(2 / 7) and hist[7] == pytest.approx(2 / 7)
    expected = -(3 / 7 * math.log2(3 / 7) + 2 * (2 / 7) * math.log2(2 / 7))
    assert metrics.pitch_class_entropy(SONG) == pytest.approx(expected)


def test_entropy_extremes():
    assert metrics.pitch_class_entropy(piece([(0, 60, 0, 4), (0, 72, 4, 8)])) == 0.0
    chromatic = piece([(0, 60 + i, i, i + 1) for i in range(12)])
    assert metrics.pitch_class_entropy(chromatic) == pytest.approx(math.log2(12))
    assert metrics.pitch_class_entropy(piece([])) == 0.0


def test_in_scale_ratio_major_and_minor_with_leading_tone():
    # C D Eb F#: in C major C, D are in (2/4); in C minor C, D, Eb are in (3/4).
    p = piece([(0, 60, 0, 1), (0, 62, 1, 2), (0, 63, 2, 3), (0, 66, 3, 4)])
    assert metrics.in_scale_ratio(p, "C") == pytest.approx(0.5)
    assert metrics.in_scale_ratio(p, "Cm") == pytest.approx(0.75)
    # A minor: G# is the leading tone, out of the natural minor scale, in with leading_tone.
    gsharp = piece([(0, 68, 0, 4), (0, 69, 4, 8)], key="Am")
    assert metrics.in_scale_ratio(gsharp) == 1.0
    assert metrics.in_scale_ratio(gsharp, leading_tone=False) == pytest.approx(0.5)
    assert math.isnan(metrics.in_scale_ratio(piece([(0, 60, 0, 4)], key="")))


def test_scale_consistency_takes_the_best_key():
    # C D E F G A B and F#: 7 of 8 fit C major (or others); no scale holds all 8.
    p = piece([(0, 60 + s, i, i + 1) for i, s in enumerate((0, 2, 4, 5, 7, 9, 11, 6))])
    assert metrics.scale_consistency(p) == pytest.approx(7 / 8)
    assert metrics.scale_consistency(piece(MELODY)) == 1.0


def test_pitches_and_pitch_classes_used():
    assert metrics.pitches_used(SONG) == 4  # 60 64 67 72
    assert metrics.pitch_classes_used(SONG) == 3


def test_polyphony_and_polyphonic_rate_by_hand():
    # steps 0-15: one pitch; 16-23: three; 24-47: none. Sounding steps: 16 x 1 + 8 x 3 over 24.
    assert metrics.polyphony(SONG) == pytest.approx((16 * 1 + 8 * 3) / 24)
    assert metrics.polyphonic_rate(SONG) == pytest.approx(8 / 48)
    assert metrics.polyphonic_rate(SONG, threshold=3) == 0.0
    # Two voices on one pitch count once.
    unison = piece([(0, 60, 0, 4), (1, 60, 0, 4)])
    assert metrics.polyphony(unison) == 1.0


def test_empty_beat_and_bar_rates_by_hand():
    # 12 beats; beats 6 and 7 (steps 24-31) and bar 3 (beats 8-11) are silent: 6 of 12 beats.
    assert metrics.empty_beat_rate(SONG) == pytest.approx(6 / 12)
    assert metrics.empty_bar_rate(SONG) == pytest.approx(1 / 3)


def test_a_held_note_fills_the_beats_it_spans():
    held = piece([(0, 60, 0, 16)], downbeats=(0, 16))
    assert metrics.empty_beat_rate(held) == 0.0


def test_pickup_counts_as_a_partial_bar():
    # A quarter-note pickup (steps 0-3) before the first downbeat at step 4, then one full bar.
    p = piece([(0, 67, 0, 4), (0, 72, 4, 20)], downbeats=(4, 20))
    assert metrics.note_density(p) == pytest.approx(2 / 2)
    assert metrics.empty_bar_rate(p) == 0.0


def test_note_density():
    assert metrics.note_density(SONG) == pytest.approx(7 / 3)
    assert metrics.note_density(piece([], downbeats=())) == 0.0


def test_voice_range_violations():
    # soprano 84 (above 81) out, soprano 72 in, alto 50 (below 53) out, bass 40 in, voice 5 unjudged.
    p = piece([(0, 84, 0, 4), (0, 72, 4, 8), (1, 50, 0, 4), (3, 40, 0, 8), (5, 10, 0, 4)])
    assert metrics.voice_range_violations(p) == pytest.approx(2 / 4)


def test_piece_metrics_has_every_metric_with_a_unit():
    values = metrics.piece_metrics(SONG)
    assert set(values) == set(metrics.METRICS) == set(metrics.UNITS)
    assert all(isinstance(v, float) for v in values.values())


def test_overlap_area_identical_disjoint_and_two_normals():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, 4000)
    assert metrics.overlap_area(a, a) == pytest.approx(1.0, abs=1e-6)
    assert metrics.overlap_area([0.0, 0.1, 0.2], [100.0, 100.1, 100.2]) < 1e-6
    # N(0,1) against N(1,1) overlap by 2 * Phi(-1/2) = 0.6171.
    b = rng.normal(1.0, 1.0, 4000)
    assert metrics.overlap_area(a, b) == pytest.approx(2 * 0.5 * math.erfc(0.5 / math.sqrt(2)), abs=0.03)


def test_overlap_area_of_constant_sets_and_nan():
    assert metrics.overlap_area([4.0] * 10, [4.0] * 7) == pytest.approx(1.0, abs=1e-6)
    assert metrics.overlap_area([4.0] * 10, [1.0] * 10) < 1e-6
    assert metrics.overlap_area([1.0, float("nan")], [1.0]) == pytest.approx(1.0, abs=1e-6)
    assert math.isnan(metrics.overlap_area([float("nan")], [1.0]))


def test_compare_sets_reports_means_and_overlap():
    melodies = [piece(MELODY), piece(MELODY)]
    chords = [piece(TRIAD, downbeats=(16, 32))] * 2
    table = metrics.compare_sets(melodies, chords, names=["polyphony", "pitches_used"])
    assert table["polyphony"]["generated_mean"] == 1.0
    assert table["polyphony"]["reference_mean"] == 3.0
    assert table["polyphony"]["overlap_area"] < 1e-6
    same = metrics.compare_sets(melodies, melodies, names=["pitches_used"])
    assert same["pitches_used"]["overlap_area"] == pytest.approx(1.0, abs=1e-6)


def test_parallel_fifths_and_octaves_by_hand():
    # C-G up to D-A (parallel fifth), then E-B (another), then both jump a fifth apart by contrary motion
    fifths = piece([(0, 67, 0, 4), (0, 69, 4, 8), (0, 71, 8, 12), (0, 64, 12, 16),
                    (1, 60, 0, 4), (1, 62, 4, 8), (1, 64, 8, 12), (1, 69, 12, 16)])
    assert metrics.parallel_fifths(fifths) == 2 and metrics.parallel_octaves(fifths) == 0
    # octave C-C to D-D, a compound octave (two octaves apart) too, and a unison to a unison
    octaves = piece([(0, 72, 0, 4), (0, 74, 4, 8), (1, 48, 0, 4), (1, 50, 4, 8),
                     (2, 60, 8, 12), (2, 62, 12, 16), (3, 60, 8, 12), (3, 62, 12, 16)])
    # voices 0-1: 72/48 -> 74/50 (two octaves, parallel); voices 2-3: unison C -> unison D
    assert metrics.parallel_octaves(octaves) == 2 and metrics.parallel_fifths(octaves) == 0


def test_what_parallels_do_not_count():
    oblique = piece([(0, 67, 0, 8), (1, 60, 0, 4), (1, 62, 4, 8)])  # one voice moves alone
    repeated = piece([(0, 67, 0, 4), (0, 67, 4, 8), (1, 60, 0, 4), (1, 60, 4, 8)])  # repeated notes
    rest = piece([(0, 67, 0, 4), (0, 69, 5, 8), (1, 60, 0, 4), (1, 62, 5, 8)])  # a rest between
    contrary = piece([(0, 67, 0, 4), (0, 74, 4, 8), (1, 60, 0, 4), (1, 67, 4, 8), (2, 48, 0, 4), (2, 43, 4, 8)])
    # contrary: voices 0-1 fifth to fifth in the same direction counts once; 1-2 and 0-2 move apart
    assert [metrics.parallel_fifths(p) for p in (oblique, repeated, rest)] == [0, 0, 0]
    assert metrics.parallel_fifths(contrary) == 1
