"""scripts/check_roundtrip.py: it compares what a reference player sounds from a file and from the
app's export, counts what differs, and passes on the MIDI files that ship with music21."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import mido
import pytest

from desktop_app.music.midi_player import play

SCRIPT = Path(__file__).parents[2] / "scripts" / "check_roundtrip.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("check_roundtrip", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def performance(smf, events):
    return play(mido.MidiFile(file=io.BytesIO(smf.file(1, 480, [smf.track(events)]))))


def test_a_voice_that_ends_elsewhere_is_a_mismatch(checker, smf):
    a = performance(smf, [(0, smf.note_on(0, 60, 90)), (480, smf.note_off(0, 60))])
    b = performance(smf, [(0, smf.note_on(0, 60, 90)), (960, smf.note_off(0, 60))])
    result = checker.compare(a, b)
    assert (result["voices"], result["missing"], result["extra"]) == (1, 1, 1)
    assert checker.compare(a, a)["missing"] == 0


def test_a_drum_voice_nothing_releases_matches_any_end(checker, smf):
    a = performance(smf, [(0, smf.note_on(9, 36, 90)), (480, smf.note_on(0, 60, 1)), (1, smf.note_off(0, 60))])
    b = performance(smf, [(0, smf.note_on(9, 36, 90)), (120, smf.note_off(9, 36)), (360, smf.note_on(0, 60, 1)),
                          (1, smf.note_off(0, 60))])
    result = checker.compare(a, b)
    assert (result["missing"], result["extra"]) == (0, 0)


def test_a_tempo_or_pedal_difference_is_reported(checker, smf):
    a = performance(smf, [(0, smf.tempo(500_000)), (0, smf.control(0, 64, 127))])
    b = performance(smf, [(0, smf.tempo(400_000))])
    result = checker.compare(a, b)
    assert not result["tempo_map_same"] and not result["pedals_same"]


def test_the_script_passes_on_music21s_files_and_prints_counts(checker, capsys):
    music21 = pytest.importorskip("music21")
    files = sorted(Path(music21.__file__).parent.rglob("*.mid"))[:6]
    assert checker.main([str(f) for f in files]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith(f"checked {len(files)} files, ")
    assert " 0 voice mismatches, 0 tempo map mismatches, 0 pedal mismatches, 0 files differ" in summary
