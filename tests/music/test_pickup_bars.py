"""Pickup (anacrusis) bars: the meter's bar 0, and chorales imported with their downbeats on the
app's barlines and their bar numbers as printed, kept through .dap and MIDI files."""

from __future__ import annotations

import mido
import pytest

from desktop_app.music import Song, TimeSignature
from desktop_app.music.midi_io import read_midi, write_midi
from desktop_app.music.musicxml_io import read_musicxml, score_to_song
from desktop_app.music.project_file import Project, read_project, write_project
from desktop_app.music.timing import BarBeat, Meter

corpus = pytest.importorskip("music21.corpus")
stream = pytest.importorskip("music21.stream")

PPQ = 480

# --- the meter ---------------------------------------------------------------------------------


def test_a_quarter_pickup_is_bar_0_counting_up_to_the_first_downbeat():
    m = Meter(PPQ, [(0, 1, 4), (480, 4, 4)])
    assert m.pickup_ticks == 480 and m.first_bar == 0
    assert m.bar_beat(0) == BarBeat(0, 4)
    assert m.bar_beat(240) == BarBeat(0, 4, 240)
    assert m.bar_beat(480) == BarBeat(1, 1)
    assert m.bar_beat(480 + 1920 + 960) == BarBeat(2, 3)
    assert m.bar_starts(4000) == [0, 480, 2400]
    assert m.barlines(4000) == [-1440, 480, 2400, 4320]
    for tick in range(0, 6000, 60):
        assert m.tick_of(m.bar_beat(tick)) == tick


def test_the_usual_bar_and_metre_are_those_after_the_pickup():
    m = Meter(PPQ, [(0, 1, 4), (480, 3, 4)])
    assert (m.ticks_per_bar(), m.ticks_per_beat()) == (1440, 480)  # what views size bars by
    assert m.ticks_per_bar(0) == 480  # the pickup bar itself
    song = Song(time_signatures=(TimeSignature(0, 1, 4), TimeSignature(480, 3, 4)))
    assert song.time_signature == TimeSignature(480, 3, 4)
    assert Song(time_signatures=(TimeSignature(0, 6, 8),)).time_signature == TimeSignature(0, 6, 8)


@pytest.mark.parametrize(
    "changes, first, barlines, beats",
    [
        ([(0, 1, 4), (480, 3, 4)], BarBeat(0, 3), [-960, 480, 1920], [0]),  # 3/4, a quarter
        ([(0, 2, 4), (960, 4, 4)], BarBeat(0, 3), [-960, 960, 2880], [0, 480]),  # a half note
        ([(0, 1, 8), (240, 4, 4)], BarBeat(0, 4, 240), [-1680, 240, 2160], []),  # an eighth
        ([(0, 3, 8), (720, 12, 8)], BarBeat(0, 10), [-2160, 720, 3600], [0, 240, 480]),  # 12/8
    ],
)
def test_other_pickups(changes, first, barlines, beats):
    m = Meter(PPQ, changes)
    assert m.first_bar == 0
    assert m.bar_beat(0) == first
    assert m.barlines(1900) == barlines
    assert m.beat_starts(0) == beats  # the beats of the bar's tail that the pickup holds
    assert m.tick_of(BarBeat(1, 1)) == changes[1][0]


@pytest.mark.parametrize(
    "changes",
    [
        [(0, 4, 4)],
        [(0, 3, 4), (2880, 4, 4)],  # two bars of 3/4 are no pickup
        [(0, 4, 4), (960, 3, 4)],  # a first bar cut short by a change: still bar 1
        [(0, 4, 4), (1920, 2, 4)],  # a full bar, then shorter ones
    ],
)
def test_no_pickup_bars_count_from_1(changes):
    m = Meter(PPQ, changes)
    assert m.pickup_ticks == 0 and m.first_bar == 1
    assert m.bar_beat(0) == BarBeat(1, 1)
    assert m.barlines(1) == m.bar_starts(1) + [m.bar_starts(m.ticks_per_bar(0))[-1]]
    assert m.barlines(0) == [0]


@pytest.mark.parametrize("seed", range(20))
def test_bars_beats_and_barlines_agree_for_random_meters_with_a_pickup(seed):
    import random

    rng = random.Random(seed)
    den = rng.choice([2, 4, 8])
    beat = PPQ * 4 // den
    num = rng.randint(2, 7)
    pickup = rng.randint(1, num - 1) * beat
    changes = [(0, pickup // (PPQ // 2), 8), (pickup, num, den)]  # the pickup in eighths
    later = pickup + rng.randint(1, 4) * num * beat
    changes.append((later, rng.randint(2, 6), rng.choice([4, 8])))
    m = Meter(PPQ, changes)
    assert m.first_bar == 0 and m.pickup_ticks == pickup
    end = later + 5000
    lines = m.barlines(end)
    assert lines[0] == pickup - num * beat and lines[1] == pickup
    for line in lines[1:]:
        where = m.bar_beat(line)
        assert (where.beat, where.ticks) == (1, 0) and m.tick_of(where) == line
    keys = []
    for tick in range(0, end, 30):
        where = m.bar_beat(tick)
        assert m.tick_of(where) == tick
        assert tick - max(b for b in lines if b <= tick) == (where.beat - 1) * m.ticks_per_beat(tick) + where.ticks
        keys.append((where.bar, where.beat, where.ticks))
    assert keys == sorted(keys)


def test_barlines_end_at_the_first_at_or_after_the_end():
    m = Meter(PPQ, [(0, 4, 4), (3840, 3, 4)])
    assert m.barlines(3840) == [0, 1920, 3840]
    assert m.barlines(3841) == [0, 1920, 3840, 5280]
    assert m.barlines(1000) == [0, 1920]


# --- chorales ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scores():
    cache = {}

    def get(work: str):
        if work not in cache:
            score = corpus.parse(work)
            cache[work] = (score, score_to_song(score))
        return cache[work]

    return get


def measures(score):
    return list(score.parts[0].getElementsByClass(stream.Measure))


# bwv269 and bwv66.6: quarter pickups in 3/4 and 4/4; bwv119.9: a half-note pickup; bwv248.23-2:
# a dotted-quarter pickup in 12/8; bwv101.7: bars split by repeat signs (3 beats, then 1);
# bwv41.6: bars split across changes of metre; bwv10.7 and bwv248.42-4: no pickup.
CHORALES = ["bach/bwv269", "bach/bwv66.6", "bach/bwv119.9", "bach/bwv248.23-2", "bach/bwv101.7",
            "bach/bwv41.6", "bach/bwv10.7", "bach/bwv248.42-4"]


@pytest.mark.parametrize("work", CHORALES)
def test_every_measure_of_the_score_starts_on_an_app_barline(scores, work):
    score, song = scores(work)
    barlines = song.meter.barlines(song.end_tick)
    for m in measures(score):
        if m.paddingLeft == 0:  # a measure that begins its bar (not a pickup or a split bar's end)
            assert round(m.offset * PPQ) in barlines, f"measure {m.number} at {m.offset}"
            notes = list(m.notes)
            if notes and notes[0].offset == 0:
                assert round((m.offset + notes[0].offset) * PPQ) in barlines


@pytest.mark.parametrize("work", ["bach/bwv269", "bach/bwv66.6", "bach/bwv119.9", "bach/bwv101.7", "bach/bwv10.7"])
def test_every_note_has_the_scores_bar_and_beat(scores, work):
    score, song = scores(work)
    meter = song.meter
    for m in measures(score):
        for n in m.notes:
            where = meter.bar_beat(round((m.offset + n.offset) * PPQ))
            beat = where.beat + where.ticks / meter.ticks_per_beat(round(m.offset * PPQ))
            assert (where.bar, beat) == (m.number, float(n.beat)), f"{n} in measure {m.number}{m.numberSuffix or ''}"


@pytest.mark.parametrize("work", CHORALES)
def test_positions_in_bars_are_the_scores(scores, work):
    """Where a note sits in its bar (ticks past the bar's downbeat, as the models count it) is
    where the score puts it: the measure's padding (the beats a pickup lacks) plus its offset."""
    score, song = scores(work)
    barlines = song.meter.barlines(song.end_tick)
    for m in measures(score)[:8]:
        for n in m.notes:
            tick = round((m.offset + n.offset) * PPQ)
            bar = max(b for b in barlines if b <= tick)
            assert tick - bar == round((m.paddingLeft + n.offset) * PPQ), f"{n} in measure {m.number}"


@pytest.mark.parametrize(
    "work, signatures",
    [
        ("bach/bwv269", [(0, 1, 4), (480, 3, 4)]),
        ("bach/bwv66.6", [(0, 1, 4), (480, 4, 4)]),
        ("bach/bwv119.9", [(0, 2, 4), (960, 4, 4), (37440, 8, 4)]),  # its last measure holds 8 beats
        ("bach/bwv248.23-2", [(0, 3, 8), (720, 12, 8)]),
        ("bach/bwv101.7", [(0, 1, 4), (480, 4, 4)]),  # its split bars stay whole bars
        ("bach/bwv10.7", [(0, 4, 4)]),
        ("bach/bwv248.42-4", [(0, 3, 4)]),
    ],
)
def test_a_pickup_is_a_short_first_time_signature(scores, work, signatures):
    _, song = scores(work)
    assert [(t.tick, t.numerator, t.denominator) for t in song.time_signatures] == signatures
    assert song.meter.first_bar == (0 if len(signatures) > 1 else 1)


def test_the_pickup_notes_stay_at_the_start(scores):
    score, song = scores("bach/bwv66.6")
    soprano = song.tracks[0]
    assert soprano.notes[0].start == 0 and soprano.notes[1].start == 240  # C#5 B4, the pickup
    assert str(song.meter.bar_beat(0)) == "0:4"
    assert str(song.meter.bar_beat(soprano.notes[2].start)) == "1:1"


def test_a_chorale_file_opens_with_its_pickup(tmp_path):
    song = read_musicxml(corpus.getWork("bach/bwv269"))
    assert song.time_signatures == (TimeSignature(0, 1, 4), TimeSignature(480, 3, 4))
    assert song.meter.barlines(song.end_tick)[:3] == [-960, 480, 1920]


# --- through files -----------------------------------------------------------------------------


def same_bars(a: Song, b: Song) -> None:
    assert b.time_signatures == a.time_signatures
    assert b.meter.barlines(b.end_tick) == a.meter.barlines(a.end_tick)
    assert b.meter.first_bar == a.meter.first_bar == 0
    positions = [[song.meter.bar_beat(n.start) for n in song.tracks[0].notes] for song in (a, b)]
    assert positions[1] == positions[0]


@pytest.mark.parametrize("work", ["bach/bwv269", "bach/bwv248.23-2"])
def test_the_pickup_survives_a_project_file(scores, tmp_path, work):
    _, song = scores(work)
    write_project(Project(song), tmp_path / "chorale.dap")
    same_bars(song, read_project(tmp_path / "chorale.dap").song)


@pytest.mark.parametrize("work", ["bach/bwv269", "bach/bwv248.23-2"])
def test_the_pickup_survives_a_midi_file_as_a_short_first_signature(scores, tmp_path, work):
    _, song = scores(work)
    write_midi(song, tmp_path / "chorale.mid")
    signatures = [(tick, msg.numerator, msg.denominator) for tick, msg in _absolute(tmp_path / "chorale.mid")
                  if msg.type == "time_signature"]
    assert signatures == [(t.tick, t.numerator, t.denominator) for t in song.time_signatures]
    same_bars(song, read_midi(tmp_path / "chorale.mid"))


def _absolute(path):
    for track in mido.MidiFile(path).tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            yield tick, msg
