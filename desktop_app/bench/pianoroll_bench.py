"""`desktop-app bench pianoroll`: frame times of the whole piano-roll editor on a 20,000-note song
(four tracks: one active, three as ghost notes), zoomed out to all of it and in to about 500
notes, and the time per mouse-move step (event handling plus the repaint it causes) while
dragging 500 selected notes. Real widgets and real mouse events, offscreen."""

from __future__ import annotations

import os
import statistics
import time

from desktop_app.bench.io_bench import make_song


def _stats(times: list[float]) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(times) * 1000, 2), "p95_ms": round(p95 * 1000, 2), "frames": len(times)}


def run(n_notes: int = 20_000, frames: int = 40, width: int = 1280, height: int = 720) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.document import Document
    from desktop_app.ui.piano_roll import PianoRoll

    app = QApplication.instance() or QApplication([])
    song = make_song(n_notes, n_tracks=4, seed=1).prepare()
    document = Document()
    document.load(song, None)
    roll = PianoRoll(document)
    roll.resize(width, height)
    roll.show()
    app.processEvents()
    area, vp = roll.area, roll.viewport

    def frame_times(count: int) -> list[float]:
        """Whole-editor frames: the note area (redrawn from scratch), keyboard, ruler and velocity lane."""
        parts = (area, roll.keyboard, roll.ruler, roll.velocity)
        times = []
        for _ in range(count):
            t0 = time.perf_counter()
            area.refresh_all()  # a full redraw, not the cached layers the playhead reuses
            for part in parts:
                part.repaint()
            times.append(time.perf_counter() - t0)
        return times

    def visible_notes() -> int:
        t0, t1 = vp.left_tick, vp.right_tick
        lo, hi = vp.visible_pitches
        return sum(
            int(((a[:, 2] > t0) & (a[:, 1] < t1) & (a[:, 0] >= lo) & (a[:, 0] <= hi)).sum())
            for a in (t.note_array for t in song.tracks)
        )

    all_pitches = [p for t in song.tracks for p in (int(t.note_array[:, 0].min()), int(t.note_array[:, 0].max()))]
    lo, hi = min(all_pitches), max(all_pitches)
    vp.fit(0, song.end_tick, lo, hi)
    zoomed_out = {"visible_notes": visible_notes(), **_stats(frame_times(frames))}
    span = song.end_tick * 500 / n_notes
    start = song.end_tick / 2
    vp.fit(start, start + span, lo, hi, margin=0)
    zoomed_in = {"visible_notes": visible_notes(), **_stats(frame_times(frames))}

    # Drag 500 selected notes of the active track with real mouse events.
    track = song.tracks[0]
    arr = track.note_array
    in_view = [i for i in range(len(arr)) if vp.left_tick <= arr[i, 1] < vp.right_tick]
    chosen = sorted(in_view[:500] if len(in_view) >= 500 else list(range(500)))
    document.select(chosen)
    grab = chosen[len(chosen) // 2]
    vp.set_left_tick(max(0, arr[grab, 1] - vp.width * vp.ticks_per_px / 3))
    vp.set_top(min(128, arr[grab, 0] + vp.height / vp.key_height / 2))
    press = QPointF(vp.tick_to_x(arr[grab, 1] + (arr[grab, 2] - arr[grab, 1]) / 2), vp.pitch_to_y(arr[grab, 0]) + vp.key_height / 2)

    def mouse(kind: QEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> None:
        event = QMouseEvent(kind, pos, area.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(area, event)

    mouse(QEvent.Type.MouseButtonPress, press, Qt.MouseButton.LeftButton)
    steps = []
    for i in range(frames):
        pos = press + QPointF(4 + 3 * i, (i % 5) * vp.key_height / 2)
        t0 = time.perf_counter()
        mouse(QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton)
        area.repaint()
        steps.append(time.perf_counter() - t0)
    mouse(QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)
    moved = document.undo_stack.text(document.undo_stack.index() - 1)
    roll.close()
    return {
        "benchmark": "pianoroll",
        "notes": n_notes,
        "widget_px": [width, height],
        "zoomed_out": zoomed_out,
        "zoomed_in": zoomed_in,
        "drag_500": {"selected": len(chosen), "committed": moved, **_stats(steps)},
        "goal_ms": 16,
    }
