"""`desktop-app bench pianoroll`: frame times of the whole piano-roll editor on a 20,000-note song
(four tracks: one active, three as ghost notes), zoomed out to all of it and in to about 500
notes, against the usual Qt way timed in the same run: a QGraphicsScene with one rectangle item
per note, in a QGraphicsView the size of the roll's note area, showing the same ticks and rows.

A frame is the editor's repaint after a change, as the event loop does it: the change, then
the posted update requests delivered (processEvents), each part painting what it marked
dirty: all of it after a scroll or a track switch, only the rectangles whose pixels changed
after a selection change or an edit (the JSON gives the pixels painted per frame). Timed from
the change to the last pixel in the window's backing store. The scene view repaints its whole
viewport, every item in view drawn again (what a QGraphicsView does after its view moved). Four kinds of change (FRAMES
says the same in the JSON):

`redraw`: the selection flips between two sets of 20 notes (as a rubber band or a click
changes it). The roll rasterises the active track's notes again, recolours the pixels whose
note changed (the other tracks' notes, rows and grid come from caches) and draws the velocity
lane again. `edit`: the song changes (one note's velocity, back and forth, as an undo or a
model's step does): the active track's notes are rasterised again (the other tracks' did not
change and are kept), the changed pixels recoloured, the lane drawn again. `track`: the active
track switches between two tracks: the frame is composed and the lane drawn from scratch; what
is made per active track (other tracks' notes joined and rasterised, colour tables) is kept for
the last four, so switching back reuses it.
The scene is not told of these changes (its items are drawn as they are), which spares it the
work of updating items. `scroll`: the view moves (time and pitch in turn,
a few pixels back and forth): everything that depends on the moved axis is drawn again (a time
scroll shifts the frame and draws the uncovered columns). Medians of wall time (what the user
waits) and of the GUI thread's CPU time (steadier on a loaded machine).

Also the time per mouse-move step (event handling plus the repaint it causes) while dragging
500 selected notes. Real widgets and real mouse events, offscreen."""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from desktop_app.bench.io_bench import make_song
from desktop_app.music import edits

SCROLL_PX = 8  # a time step; a pitch step is one row
KINDS = ("redraw", "edit", "track", "scroll")
FRAMES = {
    "frame": "the editor's repaint after a change as the event loop does it (the change, then processEvents: "
             "each part paints the region it marked dirty, see painted_px), from the change to the last pixel "
             "in the backing store; the QGraphicsScene roll repaints its whole viewport (every item in view "
             "drawn) for every kind",
    "painted_px": "median pixels painted per frame (note area, keyboard, ruler, lane together); the whole "
                  "editor is note_area_px plus the keyboard, ruler and lane",
    "redraw": "the selection flips between two sets of 20 notes: the active track's notes rasterised again, "
              "changed pixels recoloured and only their pitch bands' rectangles repainted, velocity lane "
              "drawn again; rows, grid and ghost notes from caches",
    "edit": "the song changes (one note's velocity, back and forth): the active track's notes rasterised again "
            "(other tracks' kept), changed pixels recoloured and repainted (none when the note's shade "
            "stays), lane drawn again",
    "track": "the active track switches between two tracks: the active track's notes rasterised again, the "
             "frame composed and the lane drawn from scratch; what is made per active track (other tracks' "
             "notes joined and rasterised, colour tables) is kept for the last 4, so switching back reuses it",
    "scene": "for redraw, edit and track the scene's items are drawn as they are (it is spared updating them)",
    "scroll": "the view moves, time (8 px) and pitch (1 row) in turn: a time scroll shifts the frame and draws "
              "the uncovered columns (ruler and lane too; the keyboard is not repainted), a pitch scroll composes "
              "the frame again from the rasterised notes and draws the keyboard (ruler and lane not repainted)",
}


def _stats(times: list[float]) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(times) * 1000, 2), "p95_ms": round(p95 * 1000, 2), "frames": len(times)}


def _scene_roll(song, size, colours):
    """The usual Qt way: a QGraphicsScene of one QGraphicsRectItem per note (x in ticks, y in
    rows), the active track in its colour, the others as translucent grey ghosts."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QPen
    from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

    scene = QGraphicsScene()
    ghost_brush, ghost_pen = QBrush(QColor(40, 40, 40, 110)), QPen(QColor(30, 30, 30, 150), 0)
    for index, track in enumerate(song.tracks):
        brush = QBrush(colours[index]) if index == 0 else ghost_brush
        pen = QPen(colours[index].darker(170), 0) if index == 0 else ghost_pen
        for pitch, start, end, _velocity in track.note_array.tolist():
            item = scene.addRect(QRectF(start, 127 - pitch, end - start, 1), pen, brush)
            item.setZValue(1 if index == 0 else 0)
    scene.setSceneRect(QRectF(0, 0, song.end_tick, 128))
    view = QGraphicsView(scene)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setFrameShape(QGraphicsView.Shape.NoFrame)
    view.resize(size)
    return scene, view


def run(n_notes: int = 20_000, frames: int = 40, width: int = 1280, height: int = 720) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QPointF, Qt
    from PySide6.QtGui import QMouseEvent, QTransform
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.colours import track_colour
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
    scene, view = _scene_roll(song, area.size(), [track_colour(t, i) for i, t in enumerate(song.tracks)])
    view.show()
    app.processEvents()

    def steps(count: int):
        """The view moves of `count` frames: time and pitch in turn, back and forth."""
        for k in range(count):
            sign = 1 if (k // 2) % 2 == 0 else -1
            yield (sign * SCROLL_PX, 0) if k % 2 == 0 else (0, sign)

    class Painted(QObject):
        """Counts the pixels the editor's parts are asked to paint."""

        pixels = 0

        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                Painted.pixels += sum(r.width() * r.height() for r in event.region())
            return False

    painted_filter = Painted()
    for part in (area, roll.keyboard, roll.ruler, roll.velocity):
        part.installEventFilter(painted_filter)

    def roll_frames(count: int, kind: str) -> tuple[list[float], list[float], list[int]]:
        """Wall and CPU seconds and pixels painted of `count` frames: the change, then the event
        loop's repaint of what it marked dirty."""
        arr = song.tracks[document.active_track].note_array
        shown = np.flatnonzero((arr[:, 2] > vp.left_tick) & (arr[:, 1] < vp.right_tick))[:40]
        selections = (shown[::2].tolist(), shown[1::2].tolist())
        if kind == "edit":
            track = song.tracks[document.active_track]
            louder = edits.set_velocities(track, {int(shown[0]): 1 + track.notes[int(shown[0])].velocity % 127})
            document.apply("Edit", song.with_track(document.active_track, louder))
        wall, cpu, painted = [], [], []
        for k, (dx, rows) in enumerate(steps(count)):
            Painted.pixels = 0
            t0, c0 = time.perf_counter(), time.thread_time()
            if kind == "redraw":
                document.select(selections[k % 2])
            elif kind == "edit":
                document.undo_stack.undo() if k % 2 == 0 else document.undo_stack.redo()
            elif kind == "track":
                document.set_active_track(1 - k % 2)
            elif dx:
                vp.scroll_time(dx)
            else:
                vp.scroll_pitch(rows)
            app.processEvents()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            painted.append(Painted.pixels)
        document.select(())
        if kind == "edit" and document.undo_stack.canUndo():
            document.undo_stack.undo()
        document.set_active_track(0)
        app.processEvents()
        return wall, cpu, painted

    def match_scene() -> None:
        """Show in the scene view the ticks and rows the roll's note area shows."""
        view.setTransform(QTransform.fromScale(1 / vp.ticks_per_px, vp.key_height))
        view.horizontalScrollBar().setValue(round(vp.left_tick / vp.ticks_per_px))
        view.verticalScrollBar().setValue(round((127 - vp.top + 1) * vp.key_height))

    def scene_frames(count: int, kind: str) -> tuple[list[float], list[float]]:
        hbar, vbar = view.horizontalScrollBar(), view.verticalScrollBar()
        wall, cpu = [], []
        for dx, rows in steps(count):
            t0, c0 = time.perf_counter(), time.thread_time()
            if kind == "scroll" and dx:  # other kinds: the scene's items are drawn again as they are
                hbar.setValue(hbar.value() + dx)
            elif kind == "scroll":
                vbar.setValue(vbar.value() - round(rows * vp.key_height))
            view.viewport().repaint()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        return wall, cpu

    def visible_notes() -> int:
        t0, t1 = vp.left_tick, vp.right_tick
        lo, hi = vp.visible_pitches
        return sum(
            int(((a[:, 2] > t0) & (a[:, 1] < t1) & (a[:, 0] >= lo) & (a[:, 0] <= hi)).sum())
            for a in (t.note_array for t in song.tracks)
        )

    def measure() -> dict:
        match_scene()
        app.processEvents()
        result = {"visible_notes": visible_notes()}
        for kind in KINDS:
            scene_wall, scene_cpu = scene_frames(frames, kind)
            roll_wall, roll_cpu, painted = roll_frames(frames, kind)
            result[kind] = {
                **_stats(roll_wall), "cpu_median_ms": _stats(roll_cpu)["median_ms"],
                "painted_px": int(statistics.median(painted)),
                "qgraphicsscene": {**_stats(scene_wall), "cpu_median_ms": _stats(scene_cpu)["median_ms"]},
                "times_faster": round(statistics.median(scene_wall) / max(statistics.median(roll_wall), 1e-9), 1),
                "times_faster_cpu": round(statistics.median(scene_cpu) / max(statistics.median(roll_cpu), 1e-9), 1),
            }
        return result

    all_pitches = [p for t in song.tracks for p in (int(t.note_array[:, 0].min()), int(t.note_array[:, 0].max()))]
    lo, hi = min(all_pitches), max(all_pitches)
    vp.fit(0, song.end_tick, lo, hi)
    zoomed_out = measure()
    span = song.end_tick * 500 / n_notes
    start = song.end_tick / 2
    vp.fit(start, start + span, lo, hi, margin=0)
    zoomed_in = measure()
    view.close()

    # Drag 500 selected notes of the active track with real mouse events.
    track = song.tracks[0]
    arr = track.note_array
    in_view = [i for i in range(len(arr)) if vp.left_tick <= arr[i, 1] < vp.right_tick]
    chosen = sorted(in_view[:500] if len(in_view) >= 500 else list(range(min(500, len(arr)))))
    document.select(chosen)
    grab = chosen[len(chosen) // 2]
    vp.set_left_tick(max(0, arr[grab, 1] - vp.width * vp.ticks_per_px / 3))
    vp.set_top(min(128, arr[grab, 0] + vp.height / vp.key_height / 2))
    press = QPointF(vp.tick_to_x(arr[grab, 1] + (arr[grab, 2] - arr[grab, 1]) / 2), vp.pitch_to_y(arr[grab, 0]) + vp.key_height / 2)

    def mouse(kind: QEvent.Type, pos: QPointF, buttons: Qt.MouseButton) -> None:
        event = QMouseEvent(kind, pos, area.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(area, event)

    mouse(QEvent.Type.MouseButtonPress, press, Qt.MouseButton.LeftButton)
    drag_steps = []
    for i in range(frames):
        pos = press + QPointF(4 + 3 * i, (i % 5) * vp.key_height / 2)
        t0 = time.perf_counter()
        mouse(QEvent.Type.MouseMove, pos, Qt.MouseButton.LeftButton)
        area.repaint()
        drag_steps.append(time.perf_counter() - t0)
    mouse(QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)
    moved = document.undo_stack.text(document.undo_stack.index() - 1)
    roll.close()
    return {
        "benchmark": "pianoroll",
        "notes": n_notes,
        "frames": FRAMES,
        "widget_px": [width, height],
        "note_area_px": [area.width(), area.height()],
        "zoomed_out": zoomed_out,
        "zoomed_in": zoomed_in,
        "zoomed_in_over_zoomed_out": {
            kind: {"wall": round(zoomed_in[kind]["median_ms"] / max(zoomed_out[kind]["median_ms"], 1e-6), 2),
                   "cpu": round(zoomed_in[kind]["cpu_median_ms"] / max(zoomed_out[kind]["cpu_median_ms"], 1e-6), 2)}
            for kind in KINDS},
        "drag_500": {"selected": len(chosen), "committed": moved, **_stats(drag_steps)},
        "goal": {"times_faster_at_20000": 8, "zoomed_in_over_zoomed_out": 0.33, "frame_ms": 16},
    }
