"""Screenshots of the GAN for the docs, taken offscreen:

    .venv/bin/python scripts/gan_screenshots.py docs/images --checkpoint resources/models/gan

`gan-training.png`: the training panel mid-run, a GAN training on the built-in chorales (a scratch run
folder, deleted afterwards) once --steps steps are done: generator and critic loss on one plot, the
gradient penalty, a sample metric beside the real voices, and the strip of rolls generated from fixed
noise at each evaluation. `gan-accompany.png`: the soprano of a chorale (bwv66.6 from the music21 corpus)
harmonised in the editor by the Accompany panel, the take with alto, tenor and bass accepted. With
--checkpoint that model writes the voices; without, the scratch run's checkpoint does, so the picture
shows the layout, not what a well-trained model writes. `--only accompany --checkpoint CK` retakes the
second picture alone (a minute)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def wait(app, seconds: float, until=lambda: False) -> bool:
    """Process events until `until()` or `seconds` pass; True when it came."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until():
            return True
        time.sleep(0.02)
    return until()


def soprano(name: str, bars: int):
    """The soprano of a corpus chorale, its first `bars` bars, as a one-track song."""
    from music21 import corpus

    from desktop_app.music.formats import read_any
    from desktop_app.music.timing import BarBeat

    song = read_any(Path(corpus.getWork(name))).song
    end = song.meter.tick_of(BarBeat(bars + 1, 1))
    top = song.tracks[0]
    return song.with_tracks([top.with_notes(tuple(n for n in top.notes if n.start < end))])


def training_shot(app, args, scratch: Path, runner):
    """The training panel mid-run: returns (picture saved, the run's checkpoint or None)."""
    from PySide6.QtCore import QSettings

    from desktop_app.ui.models.training_panel import TrainingPanel
    from desktop_app.ui.settings import AppSettings

    width, height = (int(v) for v in args.size.split("x"))
    settings = AppSettings(QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    panel = TrainingPanel(runner, settings, runs_folder=scratch / "runs")
    panel.resize(width, height)
    panel.show()
    wait(app, 120, lambda: "gan" in panel.presets)
    panel.model_box.setCurrentText("gan")
    panel.data_box.setCurrentText(args.data)
    panel.preset_box.setCurrentText(args.preset)
    panel.lr_box.setValue(args.lr)
    panel.batch_box.setValue(16)
    panel.steps_box.setValue(4 * args.steps)
    panel.eval_box.setValue(max(args.steps // args.cells, 1))
    panel.checkpoint_box.setValue(args.steps)
    panel.device_box.setCurrentText("cpu")
    panel.start()
    steps = lambda: len(panel.curves.points.get("train/g_loss", ([], []))[0])  # noqa: E731
    if not wait(app, 1800, lambda: steps() >= args.steps or (panel.process is not None and not panel.process.running
                                                              and panel.process.status != "idle")):
        print("training did not get far enough in time", file=sys.stderr)
    panel.curves.redraw()
    panel.curves.readout.setText(panel.curves.readout_at(steps() * 3 // 4))
    wait(app, 0.5)
    saved = panel.grab().save(str(args.out / "gan-training.png"))
    print(f"gan-training.png: {panel.width()}x{panel.height()}, step {steps()}, {len(panel.strip.cells)} rolls")
    checkpoint = None
    if panel.process is not None:
        panel.stop()
        panel.process.wait(120)
        checkpoint = panel.checkpoint()
    return saved, checkpoint


def accompany_shot(app, args, scratch: Path, checkpoint: Path) -> bool:
    """The harmonised soprano in the editor, the first take accepted."""
    from PySide6.QtCore import QSettings

    from desktop_app.music.timing import BarBeat
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    settings = AppSettings(QSettings(str(scratch / "window.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings=settings)
    window.resize(1600, 1000)
    window.show()
    song = soprano(args.chorale, args.bars)
    window.document.load(song, None, untitled_name=f"{args.chorale} soprano, bars 1-{args.bars}")
    window.docks["accompany"].show()
    window.docks["accompany"].raise_()
    panel = window.accompany_panel
    panel.load_checkpoint(checkpoint)
    wait(app, 300, lambda: panel.net is not None)
    if panel.net is None:
        print(f"cannot load {checkpoint}: {panel.status.text()}", file=sys.stderr)
        return False
    panel.seed_edit.setText(str(args.seed))
    panel.variations.setValue(2)
    panel.variety.setValue(args.variety)
    ended: list[str] = []
    panel.runEnded.connect(ended.append)
    panel.run()
    wait(app, 300, lambda: bool(ended))
    print(panel.status.text())
    window.takes.accept(window.takes.takes[0])
    window.document.set_active_track(0)
    pitches = [n.pitch for t in window.document.song.tracks for n in t.notes]
    window.piano_roll.viewport.fit(0, song.meter.tick_of(BarBeat(args.bars + 1, 1)), min(pitches) - 3,
                                   max(pitches) + 3)
    panel.status.setText("Accepted Take 1 (one undo step): alto, tenor and bass are new tracks, playing viola, "
                         "cello and contrabass.")
    window.statusBar().showMessage(f"Accepted Take 1 · {args.chorale}: its soprano, the GAN's alto, tenor and bass")
    wait(app, 0.5)
    saved = window.grab().save(str(args.out / "gan-accompany.png"))
    print(f"gan-accompany.png: {window.width()}x{window.height()}")
    window.document.load(song, None)
    window.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for gan-training.png and gan-accompany.png")
    parser.add_argument("--checkpoint", type=Path, help="the GAN checkpoint folder that harmonises (default: the "
                                                        "scratch run's)")
    parser.add_argument("--only", choices=["training", "accompany"], help="take one picture only (accompany "
                                                                         "needs --checkpoint)")
    parser.add_argument("--data", default="chorales")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=120, help="steps done when the training picture is taken")
    parser.add_argument("--cells", type=int, default=8, help="evaluations (rolls in the strip) by then")
    parser.add_argument("--size", default="1400x900", help="WIDTHxHEIGHT of the training panel")
    parser.add_argument("--chorale", default="bwv66.6")
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--variety", type=float, default=1.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from desktop_app.runner.jobs import ModelRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    args.out.mkdir(parents=True, exist_ok=True)
    runner = ModelRunner()
    scratch = Path(tempfile.mkdtemp(prefix="gan-screenshots-"))
    try:
        saved, checkpoint = training_shot(app, args, scratch, runner) if args.only != "accompany" else (True, None)
        if args.only == "training":
            return 0 if saved else 1
        checkpoint = args.checkpoint or checkpoint
        if checkpoint is None:
            print("no checkpoint to harmonise with: give --checkpoint", file=sys.stderr)
            return 1
        saved = accompany_shot(app, args, scratch, checkpoint) and saved
    finally:
        runner.shutdown(60)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
