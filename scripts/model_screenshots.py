"""Screenshots of the dataset view and the training panel for the docs, taken offscreen:

    .venv/bin/python scripts/model_screenshots.py dataset docs/images/dataset-view.png
    .venv/bin/python scripts/model_screenshots.py training docs/images/training-panel.png

`dataset`: the Bach chorales built (from the user cache when it holds them) with the histograms
shown. `training`: the AR-CNN's tiny preset training on the chorales, taken mid-run once
--steps steps are done (a scratch run folder, deleted afterwards), with a hover read-out."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def _wait(app, seconds: float, until=lambda: False) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if until():
            return True
        app.processEvents()
        time.sleep(0.01)
    return until()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["dataset", "training"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="1400x820", help="WIDTHxHEIGHT of the panel")
    parser.add_argument("--model", default="arcnn")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--steps", type=int, default=150, help="training: steps done when the picture is taken")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.runner.jobs import ModelRunner
    from desktop_app.ui.models.dataset_view import DatasetView
    from desktop_app.ui.models.training_panel import TrainingPanel
    from desktop_app.ui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    runner = ModelRunner()
    with tempfile.TemporaryDirectory() as scratch:
        if args.what == "dataset":
            widget = DatasetView(runner)
            widget.resize(width, height)
            widget.show()
            widget.source.setCurrentText("chorales")
            widget.build()
            if not _wait(app, 600, lambda: widget.dataset is not None):
                print("the dataset did not build in time", file=sys.stderr)
                return 1
        else:
            settings = AppSettings(QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat))
            widget = TrainingPanel(runner, settings, runs_folder=Path(scratch) / "runs")
            widget.resize(width, height)
            widget.show()
            _wait(app, 120, lambda: args.model in widget.presets)
            widget.model_box.setCurrentText(args.model)
            widget.data_box.setCurrentText("chorales")
            widget.preset_box.setCurrentText(args.preset)
            widget.lr_box.setValue(3e-3)
            widget.batch_box.setValue(16)
            widget.steps_box.setValue(4 * args.steps)
            widget.eval_box.setValue(max(args.steps // 8, 1))
            widget.checkpoint_box.setValue(args.steps * 2)
            widget.device_box.setCurrentText("cpu")
            widget.start()
            steps = lambda: len(widget.curves.points.get("train/loss", ([], []))[0])  # noqa: E731
            if not _wait(app, 900, lambda: steps() >= args.steps or (widget.process is not None and not widget.process.running
                                                                      and widget.process.status != "idle")):
                print("training did not get far enough in time", file=sys.stderr)
            widget.curves.redraw()
            widget.curves.readout.setText(widget.curves.readout_at(args.steps * 3 // 4))
        _wait(app, 0.5)
        saved = widget.grab().save(str(args.out))
        print(f"{args.out}: {widget.width()}x{widget.height()}")
        if args.what == "training" and widget.process is not None:
            widget.stop()
            widget.process.wait(60)
        runner.shutdown(30)
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
