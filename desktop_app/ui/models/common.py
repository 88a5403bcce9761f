"""What the model panels share: the bars (and pitches) the composer selected for a model to work
on, and how a checkpoint is named in a panel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop_app.music.song import Song
from desktop_app.music.timing import BarBeat, tick_to_step


@dataclass(frozen=True)
class Span:
    """What the model may edit: grid steps [start, stop) (None: to the end) and pitches low..high."""

    start: int = 0
    stop: int | None = None
    low: int = 0
    high: int = 127


def selected_bars(song: Song, track: int, selection: frozenset[int],
                  loop: tuple[int, int] | None) -> tuple[int, int, int, int] | None:
    """(first bar, last bar, lowest pitch, highest pitch) of the selected notes of `track` (bars as
    the app numbers them, first to last bar touched); with no selection, the bars of the loop
    region and every pitch; None when there is neither."""
    meter = song.meter
    if selection and song.tracks:
        notes = [song.tracks[track].notes[i] for i in selection]
        first, last = min(n.start for n in notes), max(n.end for n in notes) - 1
        low, high = min(n.pitch for n in notes), max(n.pitch for n in notes)
    elif loop is not None and loop[1] > loop[0]:
        first, last, low, high = loop[0], loop[1] - 1, 0, 127
    else:
        return None
    return meter.bar_beat(max(first, 0)).bar, meter.bar_beat(max(last, first, 0)).bar, low, high


def selection_span(song: Song, track: int, selection: frozenset[int], loop: tuple[int, int] | None) -> Span | None:
    """The bars the selected notes span (first to last bar touched) and their pitch range; with no
    selection, the bars of the loop region and every pitch; None when there is neither."""
    bars = selected_bars(song, track, selection, loop)
    if bars is None:
        return None
    first, last, low, high = bars
    start, stop = song.meter.tick_of(BarBeat(first, 1)), song.meter.tick_of(BarBeat(last + 1, 1))
    return Span(int(tick_to_step(max(start, 0), song.ppq)), int(tick_to_step(max(stop, 0), song.ppq)), low, high)


def checkpoint_name(path: Path) -> str:
    """How a panel names a checkpoint: the shipped one, a training run's ("RUN (best)" for
    RUN/checkpoints/best), else its folder's name."""
    from desktop_app.ml.shipped import MODELS_DIR

    if path.parent == MODELS_DIR:
        return f"shipped {path.name}"
    if path.parent.name == "checkpoints":
        return f"{path.parent.parent.name} ({path.name})"
    return path.name


def on_any_change(widgets, slot) -> None:
    """Call `slot` whenever any of `widgets` (spin boxes, combo boxes, check boxes, line edits)
    changes: how a model panel saves its knobs as they are set."""
    for box in widgets:
        signal = getattr(box, "valueChanged", None) or getattr(box, "currentIndexChanged", None) \
            or getattr(box, "toggled", None) or box.textChanged
        signal.connect(slot)
