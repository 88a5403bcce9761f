"""MusicXML and compressed MXL import through music21, on Bach chorales from music21's corpus."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from desktop_app.music import KeySignature, MusicFileError, Note, TempoChange, TimeSignature
from desktop_app.music.musicxml_io import read_musicxml

corpus = pytest.importorskip("music21.corpus")

SATB = ["Soprano", "Alto", "Tenor", "Bass"]


@pytest.fixture(scope="module")
def bwv66_6():
    return read_musicxml(corpus.getWork("bach/bwv66.6"))


def test_chorale_bwv66_6_has_four_voices(bwv66_6):
    song = bwv66_6
    assert song.ppq == 480
    assert [t.name for t in song.tracks] == SATB
    assert all(len(t.notes) > 30 for t in song.tracks)
    assert [t.channel for t in song.tracks] == [0, 1, 2, 3]
    assert not any(t.is_drum for t in song.tracks)
    assert song.keys == (KeySignature(0, "F#m"),)
    assert song.key.display_name() == "F# minor"
    assert song.time_signatures == (TimeSignature(0, 1, 4), TimeSignature(480, 4, 4))  # a quarter pickup, then 4/4
    assert song.title == "bwv66.6"


def test_chorale_notes_are_plausible(bwv66_6):
    soprano, alto, tenor, bass = bwv66_6.tracks
    assert soprano.notes[:2] == (Note(73, 0, 240, 90), Note(71, 240, 240, 90))  # C#5 B4
    for track, (low, high) in zip(bwv66_6.tracks, [(60, 81), (53, 74), (45, 69), (36, 64)]):
        assert all(low <= n.pitch <= high for n in track.notes), track.name
        assert all(n.duration > 0 and n.start >= 0 for n in track.notes)
        assert all(n.start % 120 == 0 and n.duration % 120 == 0 for n in track.notes)  # sixteenths at most
        # One voice, one note at a time: no overlaps.
        ordered = sorted(track.notes, key=lambda n: n.start)
        assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:])), track.name
    # The voices end together, on the final chord.
    assert len({t.end_tick for t in bwv66_6.tracks}) == 1
    assert soprano.notes[-1].pitch % 12 == 6 and bass.notes[-1].pitch % 12 == 6  # F# ends it
    assert sum(n.duration for n in soprano.notes) == bwv66_6.end_tick - soprano.notes[0].start


@pytest.mark.parametrize(
    "work, key, signature",
    [
        ("bach/bwv4.8", "Em", (4, 4)),
        ("bach/bwv26.6", "Am", (4, 4)),
        ("bach/bwv269", "G", (3, 4)),
        ("bach/bwv10.7", "Gm", (4, 4)),
        ("bach/bwv7.7", "Bm", (4, 4)),
    ],
)
def test_other_chorales(work, key, signature):
    song = read_musicxml(corpus.getWork(work))
    assert [t.name for t in song.tracks] == SATB
    assert all(t.notes for t in song.tracks)
    assert song.key.key == key
    assert (song.time_signature.numerator, song.time_signature.denominator) == signature  # after any pickup
    assert song.tempos[0].tick == 0


def test_a_chorale_with_an_instrument_part():
    song = read_musicxml(corpus.getWork("bach/bwv1.6"))
    assert [t.name for t in song.tracks] == ["Horn 2", *SATB]
    assert len({t.channel for t in song.tracks}) == 5


def test_uncompressed_musicxml_written_by_music21(tmp_path, bwv66_6):
    score = corpus.parse("bach/bwv66.6")
    path = score.write("musicxml", fp=tmp_path / "chorale.musicxml")
    assert str(path).endswith(".musicxml")
    assert not zipfile.is_zipfile(path)
    song = read_musicxml(path)
    assert [t.name for t in song.tracks] == SATB
    assert [t.notes for t in song.tracks] == [t.notes for t in bwv66_6.tracks]
    assert song.keys == bwv66_6.keys and song.time_signatures == bwv66_6.time_signatures


def test_compressed_mxl_from_anywhere(tmp_path, bwv66_6):
    path = tmp_path / "Copy.MXL"  # the extension in capitals still means compressed
    shutil.copy(corpus.getWork("bach/bwv66.6"), path)
    assert zipfile.is_zipfile(path)
    song = read_musicxml(path)
    assert [t.notes for t in song.tracks] == [t.notes for t in bwv66_6.tracks]


TINY = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0">
  <work><work-title>Tiny</work-title></work>
  <part-list>
    <score-part id="P1"><part-name>Flute</part-name>
      <midi-instrument id="P1-I1"><midi-channel>1</midi-channel><midi-program>74</midi-program></midi-instrument>
    </score-part>
    <score-part id="P2"><part-name>Empty</part-name></score-part>
  </part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>2</divisions><key><fifths>-3</fifths><mode>major</mode></key>
        <time><beats>3</beats><beat-type>4</beat-type></time></attributes>
      <direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>
        <per-minute>90</per-minute></metronome></direction-type><sound tempo="90"/></direction>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>4</duration><tie type="start"/><type>half</type></note>
      <note><pitch><step>E</step><alter>-1</alter><octave>4</octave></pitch><duration>2</duration><type>quarter</type></note>
    </measure>
    <measure number="2">
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration><tie type="stop"/><type>quarter</type></note>
      <note><rest/><duration>1</duration><type>eighth</type></note>
      <note><pitch><step>G</step><octave>4</octave></pitch><duration>1</duration><type>eighth</type></note>
      <note><chord/><pitch><step>B</step><alter>-1</alter><octave>4</octave></pitch><duration>1</duration><type>eighth</type></note>
      <note><pitch><step>A</step><octave>5</octave></pitch><duration>2</duration><type>quarter</type></note>
    </measure>
  </part>
  <part id="P2">
    <measure number="1"><attributes><divisions>1</divisions></attributes><note><rest/><duration>3</duration></note></measure>
    <measure number="2"><note><rest/><duration>3</duration></note></measure>
  </part>
</score-partwise>
"""


def test_ties_chords_tempo_key_and_program(tmp_path):
    path = tmp_path / "tiny.xml"
    path.write_text(TINY, encoding="utf-8")
    song = read_musicxml(path)
    assert song.title == "Tiny"
    assert song.keys == (KeySignature(0, "Eb"),)
    assert song.time_signatures == (TimeSignature(0, 3, 4),)
    assert song.tempos == (TempoChange(0, 666_667),)  # 90 BPM
    (flute,) = song.tracks  # the part of rests alone is left out
    assert flute.name == "Flute" and flute.program == 73  # MusicXML counts programs from 1
    assert flute.notes == (
        Note(60, 0, 1440, 90),  # the tie joins a half and a quarter
        Note(63, 960, 480, 90),
        Note(67, 2160, 240, 90),  # a chord: two notes at one start
        Note(70, 2160, 240, 90),
        Note(81, 2400, 480, 90),
    )


# --- bad input -------------------------------------------------------------------------------


def refused(path) -> MusicFileError:
    with pytest.raises(MusicFileError) as info:
        read_musicxml(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    return info.value


@pytest.mark.parametrize("name", ["empty.musicxml", "empty.xml", "empty.mxl"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    assert "empty" in refused(path).reason
    path.write_bytes(b"  \n\n ")
    assert "empty" in refused(path).reason


def test_not_xml(tmp_path):
    path = tmp_path / "letter.musicxml"
    path.write_text("Dear friend, this is not a score.")
    assert "not a MusicXML file" in refused(path).reason


def test_other_xml(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_text('<?xml version="1.0"?><rss><channel><title>news</title></channel></rss>')
    assert "not a MusicXML file" in refused(path).reason


def test_broken_xml(tmp_path):
    path = tmp_path / "broken.musicxml"
    path.write_text(TINY[: len(TINY) // 2])
    assert "unreadable MusicXML" in refused(path).reason


def test_a_zip_that_is_not_musicxml(tmp_path):
    path = tmp_path / "photos.mxl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("holiday.txt", "sunny")
        archive.writestr("META-INF/container.xml", "<container/>")
    err = refused(path)
    assert "not a compressed MusicXML" in err.reason and "no MusicXML score" in err.reason


def test_a_zip_with_some_other_xml(tmp_path):
    path = tmp_path / "office.mxl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("content.xml", "<document><p>hello</p></document>")
    assert "unreadable MusicXML" in refused(path).reason


def test_an_mxl_that_is_not_a_zip(tmp_path):
    path = tmp_path / "plain.mxl"
    path.write_text(TINY)
    assert "not a zip archive" in refused(path).reason


def test_a_cut_mxl(tmp_path):
    path = tmp_path / "cut.mxl"
    path.write_bytes(open(corpus.getWork("bach/bwv66.6"), "rb").read()[:600])
    assert "not a compressed MusicXML" in refused(path).reason


def test_a_score_without_notes(tmp_path):
    path = tmp_path / "silence.musicxml"
    path.write_text('<?xml version="1.0"?><score-partwise version="4.0"><part-list/></score-partwise>')
    assert "no parts with notes" in refused(path).reason


def test_missing_file_and_folder(tmp_path):
    assert "no such file" in refused(tmp_path / "gone.mxl").reason
    folder = tmp_path / "folder.musicxml"
    folder.mkdir()
    assert "folder" in refused(folder).reason
