"""The headless commands: convert, screenshot, bench io, and the one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from music21 import corpus

from desktop_app.bench.io_bench import make_song
from desktop_app.cli import main
from desktop_app.music.formats import read_any
from desktop_app.music.midi_io import midi_bytes, write_midi


def note_key(song):
    return sorted((t.channel, n.pitch, n.start, n.duration, n.velocity) for t in song.tracks for n in t.notes)


def test_convert_midi_to_project_and_back_is_tick_exact(tmp_path):
    source = tmp_path / "in.mid"
    write_midi(make_song(2_000, n_tracks=5, seed=3), source)
    assert main(["convert", str(source), str(tmp_path / "mid.dap")]) == 0
    assert main(["convert", str(tmp_path / "mid.dap"), str(tmp_path / "out.mid")]) == 0
    assert note_key(read_any(tmp_path / "out.mid").song) == note_key(read_any(source).song)


def test_convert_chorale_musicxml_to_midi_keeps_four_parts(tmp_path):
    out = tmp_path / "chorale.mid"
    assert main(["convert", str(corpus.getWork("bach/bwv66.6")), str(out)]) == 0
    song = read_any(out).song
    assert [t.name for t in song.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert all(len(t.notes) > 30 for t in song.tracks)


BAD_INPUTS = {
    "empty.mid": (b"", "empty"),
    "noise.mid": (bytes((i * 7919) % 256 for i in range(2000)), "not a MIDI file"),
    "letter.mid": (b"Dear composer,\nthis is a text file.\n", "text"),
    "cut.mid": (midi_bytes(make_song(100))[:200], "truncated"),
    "promise.mid": (b"MThd\x00\x00\x00\x06\x00\x01\x00\x03\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00", "promises 3"),
    "zero.mid": (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00MTrk\x00\x00\x00\x04\x00\xff\x2f\x00", "zero"),
    "bad.dap": (b'{"format": "something-else"}', "not a project file"),
    "bad.mxl": (b"PK\x03\x04 not really a zip", "zip"),
    "song.wav": (b"RIFF", "unknown file type"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_exit_2(tmp_path, capsys, name):
    data, reason = BAD_INPUTS[name]
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["convert", str(path), str(tmp_path / "out.mid")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and reason in err, err
    assert not (tmp_path / "out.mid").exists()


def test_missing_file_and_unwritable_target(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "nope.mid"), str(tmp_path / "out.mid")]) == 2
    assert "no such file" in capsys.readouterr().err
    source = tmp_path / "ok.mid"
    write_midi(make_song(10), source)
    assert main(["convert", str(source), str(tmp_path / "out.txt")]) == 2
    assert "out.txt" in capsys.readouterr().err
    assert main(["convert", str(source), str(tmp_path / "no" / "such" / "dir.mid")]) == 2
    assert "cannot write" in capsys.readouterr().err


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "desktop_app", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_module_entry_point_error_has_no_traceback(tmp_path):
    (tmp_path / "junk.mid").write_bytes(b"\x00\x01\x02")
    result = _run("convert", "junk.mid", "out.mid", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "junk.mid" in result.stderr


def test_screenshot_of_a_chorale(tmp_path):
    out = tmp_path / "shot.png"
    result = _run("--screenshot", str(out), str(corpus.getWork("bach/bwv66.6")), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() >= 800 and image.height() >= 500
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 10  # the notes of four tracks, not a blank window


def test_screenshot_of_a_bad_file_fails_cleanly(tmp_path):
    (tmp_path / "bad.mid").write_bytes(b"MThd")
    result = _run("--screenshot", str(tmp_path / "x.png"), "bad.mid", cwd=tmp_path)
    assert result.returncode == 2 and "bad.mid" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_bench_io_prints_json(capsys):
    assert main(["bench", "io", "--notes", "500", "--runs", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["benchmark"] == "io" and report["notes"] == 500 and len(report["import_s"]) == 3
    assert 0 < report["import_median_s"] and 0 < report["export_median_s"]


def test_render_writes_a_wav_of_the_song(tmp_path):
    import soundfile

    from desktop_app.audio.soundfont import find_soundfont

    if find_soundfont() is None:
        pytest.skip("no General MIDI SoundFont installed (apt: fluid-soundfont-gm)")
    source = tmp_path / "tune.mid"
    write_midi(make_song(40, n_tracks=2, seed=5), source)
    out = tmp_path / "tune.wav"
    assert main(["render", str(source), str(out), "--sample-rate", "44100"]) == 0
    audio, rate = soundfile.read(out)
    song = read_any(source).song
    assert rate == 44100
    assert song.duration_seconds <= len(audio) / rate <= song.duration_seconds + 2.0
    assert float((audio ** 2).mean()) ** 0.5 > 0.005


def test_render_errors_are_one_line(tmp_path, capsys):
    source = tmp_path / "tune.mid"
    write_midi(make_song(10), source)
    assert main(["render", str(source), str(tmp_path / "tune.mp3")]) == 2
    assert "tune.mp3" in capsys.readouterr().err
    assert main(["render", str(source), str(tmp_path / "t.wav"), "--soundfont", str(tmp_path / "none.sf2")]) == 2
    err = capsys.readouterr().err
    assert "none.sf2" in err and err.count("\n") == 1
