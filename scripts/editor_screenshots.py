"""Screenshots of the editor for the docs, taken offscreen on a screen of a given size:

    .venv/bin/python scripts/editor_screenshots.py spectrogram docs/images/spectrogram.png
    .venv/bin/python scripts/editor_screenshots.py overview docs/images/overview-12-tracks.png

`spectrogram`: bwv66.6 from the music21 corpus with the spectrogram dock open, at the window's
default size for the screen. `overview`: a 12-track song made here with the app's music API
(saved as MIDI and opened like any file), the timpani muted, the overview scrolled to the middle staves."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def orchestra_song():
    """Twelve tracks of arpeggios and held notes, named like a score's staves."""
    from desktop_app.music.note import Note
    from desktop_app.music.song import Song, TimeSignature
    from desktop_app.music.track import DRUM_CHANNEL, Track

    parts = [("Flute", 73, 79), ("Oboe", 68, 74), ("Clarinet in Bb", 71, 67), ("Bassoon", 70, 48),
             ("French Horn in F", 60, 60), ("Trumpet in C", 56, 67), ("Timpani", 47, 45),
             ("Violin I (divisi a 2)", 40, 76), ("Violin II", 40, 69), ("Viola", 41, 62),
             ("Violoncello", 42, 50), ("Contrabass", 43, 38)]
    chord = (0, 4, 7, 12, 7, 4)
    tracks = []
    for k, (name, program, root) in enumerate(parts):
        notes = []
        for bar in range(16):
            shift = (0, 5, 7, 0)[bar % 4]
            if k % 3 == 0:  # arpeggios in eighths
                notes += [Note(root + shift + chord[i % 6], bar * 1920 + i * 240, 240, 70 + 5 * (i % 4)) for i in range(8)]
            elif k % 3 == 1:  # half notes
                notes += [Note(root + shift + 4 * i, bar * 1920 + i * 960, 960, 80) for i in range(2)]
            else:  # quarter-note rhythm
                notes += [Note(root + shift + chord[i], bar * 1920 + i * 480, 400, 90) for i in range(4)]
        tracks.append(Track(name=name, program=program, channel=k if k < DRUM_CHANNEL else k + 1, notes=tuple(notes),
                            mute=name == "Timpani"))
    return Song(ppq=480, time_signatures=(TimeSignature(0, 4, 4),), tracks=tuple(tracks), title="Twelve staves")


def _screen_config(width: int, height: int) -> str:
    path = Path(tempfile.mkdtemp()) / "screen.json"
    path.write_text(json.dumps({"screens": [{"name": "Screen", "x": 0, "y": 0, "width": width, "height": height,
                                             "logicalDpi": 96, "logicalBpi": 96, "dpr": 1}]}))
    return str(path)


def _wait(app, seconds: float, until=lambda: False) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["spectrogram", "overview"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--screen", default="1920x1080", help="WIDTHxHEIGHT of the offscreen screen")
    args = parser.parse_args()
    width, height = (int(v) for v in args.screen.split("x"))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screen_config(width, height)}"

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.music.formats import read_any
    from desktop_app.music.midi_io import write_midi
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as scratch:
        settings = AppSettings(QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings=settings, recovery_folder=Path(scratch) / "recovery")
        window.autosaver.stop()
        if args.what == "spectrogram":
            import music21

            path = Path(music21.__file__).parent / "corpus" / "bach" / "bwv66.6.mxl"
        else:
            path = Path(scratch) / "twelve-staves.mid"
            write_midi(orchestra_song(), path)
        window.show()
        window.show_opened(path, read_any(path))
        _wait(app, 0.5)
        if args.what == "spectrogram":
            panel = window.spectrogram
            window.docks["spectrogram"].show()
            _wait(app, 60, lambda: panel.view.spectrogram is not None and not panel.busy)
            view = panel.view
            rect = view.image_rect()
            pos = rect.center().toPoint()
            panel.readout.setText(view.describe(pos.x(), pos.y()))
            window.piano_roll.state.set_playhead(4 * window.document.song.ppq + window.document.song.ppq // 2)
        else:
            window.track_list.row_widgets(6)[1].setChecked(True)  # mute the timpani (MIDI files keep no mute)
            window.document.set_active_track(7)
            overview = window.overview
            overview.scrollbar.setValue(overview.lane_rect(5).top() - overview.lane_rect(0).top())  # staves 6 to 10
        _wait(app, 0.5)
        print(f"window {window.width()}x{window.height()} on a {width}x{height} screen; "
              f"roll rows {window.piano_roll.viewport.height / window.piano_roll.viewport.key_height:.1f}")
        saved = window.grab().save(str(args.out))
        window.playback.close()
        window.hide()
        window.deleteLater()
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
