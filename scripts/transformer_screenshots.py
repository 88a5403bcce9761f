"""Screenshots of the transformer panel in the editor for the docs, taken offscreen:

    .venv/bin/python scripts/transformer_screenshots.py docs/images --checkpoint resources/models/transformer

The first bars of a chorale (bwv66.6 from the music21 corpus, four tracks) as the seed, with the
transformer panel open: `transformer-continue.png` after a continuation of all tracks in two
variations (two takes; the second auditioned, its new notes in the take colour), and
`transformer-infill.png` after bars of the seed were filled anew on the active track.
Without --checkpoint a tiny model is trained on a few chorales for --steps steps first (seconds),
so the pictures show the layout, not what a well-trained model writes."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def wait(app, condition, seconds: float = 300.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("transformer_screenshots: timed out waiting for the model")
        app.processEvents()
        time.sleep(0.01)


def tiny_model(steps: int):
    """A tiny transformer trained for `steps` steps on a few chorales (an illustration only)."""
    import torch

    from desktop_app.ml.data import piece_from_song
    from desktop_app.ml.data.sources import corpus_folder
    from desktop_app.ml.models import transformer as M
    from desktop_app.music.musicxml_io import read_musicxml

    names = sorted((corpus_folder() / "bach").glob("bwv2*.mxl"))[:12]
    pieces = [piece_from_song(read_musicxml(path), path.name, "corpus") for path in names]
    config = M.Config(**M.PRESETS["tiny"])
    examples = M.make_examples(pieces, config)
    torch.manual_seed(0)
    net = M.build(config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    for step in range(steps):
        torch.manual_seed(step)
        value, _ = M.loss(net, examples.batch(torch.randint(0, len(examples), (16,))))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    return net.eval()


def seed_song(name: str, bars: int):
    """The first `bars` bars of a chorale from the music21 corpus."""
    from music21 import corpus

    from desktop_app.music.formats import read_any
    from desktop_app.music.timing import BarBeat

    song = read_any(Path(corpus.getWork(name))).song
    end = song.meter.tick_of(BarBeat(bars + 1, 1))
    return song.with_tracks([t.with_notes(tuple(n for n in t.notes if n.start < end)) for t in song.tracks])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for transformer-continue.png and transformer-infill.png")
    parser.add_argument("--checkpoint", type=Path, help="a transformer checkpoint folder (default: a tiny model "
                                                        "trained here)")
    parser.add_argument("--chorale", default="bwv66.6")
    parser.add_argument("--seed-bars", type=int, default=4)
    parser.add_argument("--bars", type=int, default=4, help="bars to continue by")
    parser.add_argument("--fill", default="2-3", help="bars to fill, A-B")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300, help="training steps of the tiny model")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import torch
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.music.timing import BarBeat
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = AppSettings(QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings=settings)
    window.resize(1600, 1000)
    window.show()
    song = seed_song(args.chorale, args.seed_bars)
    window.document.load(song, None, untitled_name=f"{args.chorale}, bars 1-{args.seed_bars}")
    panel = window.transformer_panel
    window.docks["transformer"].show()
    window.docks["transformer"].raise_()
    if args.checkpoint:
        panel.load_checkpoint(args.checkpoint)
    else:
        panel.set_model(tiny_model(args.steps), name=f"tiny, {args.steps} steps on 12 chorales (illustration)")
    wait(app, lambda: panel.net is not None)
    meter = song.meter
    pitches = [n.pitch for t in song.tracks for n in t.notes]
    window.piano_roll.viewport.fit(0, meter.tick_of(BarBeat(args.seed_bars + args.bars + 1, 1)),
                                   min(pitches) - 5, max(pitches) + 5)
    panel.seed_edit.setText(str(args.seed))
    panel.variations.setValue(2)
    panel.bars.setValue(args.bars)
    panel.scope.setCurrentIndex(1)
    ended = []
    panel.runEnded.connect(ended.append)
    panel.run(infill=False)
    wait(app, lambda: ended)
    window.takes.audition(window.takes.takes[1])
    app.processEvents()
    args.out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out / "transformer-continue.png"))
    print(panel.status.text())

    window.takes.clear()
    first, last = (int(b) for b in args.fill.split("-"))
    window.piano_roll.state.set_loop((meter.tick_of(BarBeat(first, 1)), meter.tick_of(BarBeat(last + 1, 1))))
    window.piano_roll.viewport.fit(0, meter.tick_of(BarBeat(args.seed_bars + 1, 1)), min(pitches) - 5,
                                   max(pitches) + 5)
    panel.scope.setCurrentIndex(0)
    panel.variations.setValue(1)
    ended.clear()
    panel.run(infill=True)
    wait(app, lambda: ended)
    app.processEvents()
    window.grab().save(str(args.out / "transformer-infill.png"))
    print(panel.status.text())
    window.takes.clear()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
