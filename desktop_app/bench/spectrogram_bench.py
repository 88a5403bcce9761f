"""`desktop-app bench spectrogram`: seconds from a 3-minute 44.1 kHz audio file to the image on
screen, for mel and constant-Q, and the longest GUI-thread stall meanwhile, through the real
spectrogram dock (import, worker thread, resample to pixels, paint)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _test_file(folder: Path, seconds: float = 180.0, rate: int = 44_100) -> Path:
    """A 3-minute chord sequence with a little noise, as 16-bit WAV."""
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    chord = np.zeros_like(t)
    for k, pitch in enumerate((48, 55, 60, 64, 67, 72)):
        chord += np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69 + (t // 2 % 5)) / 12) * t) / (k + 1)
    audio = (0.2 * chord / np.abs(chord).max() + 0.005 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32)
    path = folder / "three_minutes.wav"
    soundfile.write(path, audio, rate, subtype="PCM_16")
    return path


def run() -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_app.audio import spectrogram as sg
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    results = {"benchmark": "spectrogram"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = _test_file(folder)
        t0 = time.perf_counter()
        sg.warm_up()
        results["warmup_s"] = round(time.perf_counter() - t0, 3)  # librosa and numba load; the app does it at start
        window = MainWindow(settings=AppSettings(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat)),
                            recovery_folder=folder / "recovery")
        window.resize(1400, 900)
        window.show()
        window.docks["spectrogram"].show()
        panel = window.spectrogram
        for _ in range(5):
            app.processEvents()
        for scale, goal in (("mel", 1.0), ("cqt", 3.0)):
            panel.imported = None
            panel.set_scale(scale)
            while panel.busy:
                app.processEvents()
            gaps, last = [], [time.perf_counter()]

            def tick() -> None:
                now = time.perf_counter()
                gaps.append(now - last[0])
                last[0] = now

            timer = QTimer()
            timer.timeout.connect(tick)
            timer.start(5)
            painted = []
            view = panel.view
            original = view.paintEvent

            def paint(event, original=original):
                original(event)
                spec = view.spectrogram
                if spec is not None and spec.settings.scale == scale and spec.n_frames > 10_000 and view._image is not None:
                    painted.append(time.perf_counter())

            view.paintEvent = paint
            start = time.perf_counter()
            panel.import_audio(path)
            while not painted and time.perf_counter() - start < 60:
                app.processEvents()
                time.sleep(0.001)
            timer.stop()
            view.paintEvent = original
            spec = view.spectrogram
            results[scale] = {
                "seconds_to_image": round(painted[0] - start, 3) if painted else None,
                "goal_s": goal,
                "rows": spec.n_rows,
                "frames": spec.n_frames,
                "longest_gui_stall_ms": round(max(gaps) * 1000, 1) if gaps else None,
                "goal_stall_ms": 50,
            }
        window.document.undo_stack.setClean()
        window.close()
    results["file"] = "180 s, 44.1 kHz, 16-bit mono WAV"
    return results
