"""Screenshots of the AR-CNN in the editor for the docs, taken offscreen:

    .venv/bin/python scripts/arcnn_screenshots.py docs/images --checkpoint resources/models/arcnn

A chorale melody (the soprano of bwv66.6 from the music21 corpus) with the AR-CNN panel open and
the heat layer on: `arcnn-before.png` shows what the model thinks before it acts, `arcnn-after.png`
the first take of a run (added notes green, removed ones outlined red) with the heat refreshed.
Without --checkpoint a randomly initialised tiny model is used, so the pictures only show the
layout, not what a trained model hears."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def chorale_melody(name: str):
    """The soprano of a chorale from the music21 corpus, as a one-track song."""
    from music21 import corpus

    from desktop_app.music.formats import read_any

    song = read_any(Path(corpus.getWork(name))).song
    soprano = next((t for t in song.tracks if "soprano" in t.name.lower()), song.tracks[0])
    return song.with_tracks([soprano])


def wait(app, condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("arcnn_screenshots: timed out waiting for the model")
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for arcnn-before.png and arcnn-after.png")
    parser.add_argument("--checkpoint", type=Path, help="an AR-CNN checkpoint folder (default: a random tiny model)")
    parser.add_argument("--chorale", default="bwv66.6")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--bars", type=int, default=8, help="bars shown")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import torch
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv)
    settings = AppSettings(QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings=settings)
    window.resize(1600, 1000)
    window.show()
    song = chorale_melody(args.chorale)
    window.document.load(song, None, untitled_name=f"{args.chorale} soprano")
    panel = window.arcnn_panel
    window.docks["arcnn"].show()
    if args.checkpoint:
        panel.load_checkpoint(args.checkpoint)
    else:
        from desktop_app.ml.models import arcnn

        torch.manual_seed(0)
        panel.set_model(arcnn.ArcnnNet(arcnn.ArcnnConfig(**arcnn.PRESETS["tiny"])).eval(), "random tiny model (illustration)")
    wait(app, lambda: panel.net is not None)
    meter = song.meter
    end = meter.bar_starts(song.end_tick)[min(args.bars, len(meter.bar_starts(song.end_tick)) - 1)]
    notes = song.tracks[0].notes
    app.processEvents()
    window.piano_roll.viewport.fit(0, end, min(n.pitch for n in notes) - 4, max(n.pitch for n in notes) + 4)
    panel.seed_edit.setText(str(args.seed))
    panel.iterations.setValue(args.iterations)
    updates = []
    panel.heatUpdated.connect(lambda: updates.append(1))
    panel.heat_action.setChecked(True)
    wait(app, lambda: updates)
    args.out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out / "arcnn-before.png"))
    ended = []
    panel.runEnded.connect(ended.append)
    panel.run()
    wait(app, lambda: ended, 600)
    updates.clear()
    wait(app, lambda: updates)
    window.grab().save(str(args.out / "arcnn-after.png"))
    print(panel.status.text())
    window.takes.clear()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
