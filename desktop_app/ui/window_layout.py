"""How big the main window opens, and how the roll and the spectrogram share the height under it:
the window takes most of the screen it opens on, and when the spectrogram dock opens the roll
keeps at least two octaves of rows (the spectrogram gets the rest, up to a share)."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt

SCREEN_SHARE = 0.92  # of the screen's free area
MAX_WINDOW = QSize(1680, 1050)  # beyond this the roll only gets emptier
MIN_WINDOW = QSize(960, 640)
ROLL_ROWS = 24  # two octaves
ROW_PX = 9  # the smallest row height that still reads well
SPECTROGRAM_SHARE = 0.45  # the most of the roll-and-spectrogram height the spectrogram takes


def default_window_size(available: QRect) -> QSize:
    """The window's size on a screen whose free area is `available`: most of it, capped."""
    width = min(MAX_WINDOW.width(), round(available.width() * SCREEN_SHARE))
    height = min(MAX_WINDOW.height(), round(available.height() * SCREEN_SHARE))
    return QSize(min(available.width(), max(MIN_WINDOW.width(), width)),
                 min(available.height(), max(MIN_WINDOW.height(), height)))


def place_on_screen(window, available: QRect) -> None:
    """Give `window` its default size for `available` and centre it there."""
    size = default_window_size(available)
    window.resize(size)
    frame = QRect(0, 0, size.width(), size.height())
    frame.moveCenter(available.center())
    window.move(frame.topLeft())


def spectrogram_height(roll_height: int, roll_chrome: int, dock_height: int, dock_minimum: int) -> int:
    """The spectrogram dock's height when it shares `roll_height + dock_height` with a roll whose
    toolbar, ruler, velocity lane and scroll bar take `roll_chrome`: the roll keeps ROLL_ROWS rows
    of ROW_PX where it can; the dock gets at least its minimum and at most SPECTROGRAM_SHARE of the
    height the two leave for notes and spectrogram."""
    free = roll_height - roll_chrome + dock_height
    return max(dock_minimum, min(free - ROLL_ROWS * ROW_PX, int(free * SPECTROGRAM_SHARE)))


def share_with_spectrogram(window) -> None:
    """Split the height between the piano roll and the newly shown spectrogram dock; where even
    the dock's minimum would leave the roll under two octaves, the song overview gives up its
    extra height first."""
    roll, dock = window.piano_roll, window.docks["spectrogram"]
    if dock.isFloating() or not dock.isVisible():
        return
    chrome = roll.height() - roll.area.height()
    dock_minimum = dock.minimumSizeHint().height()
    roll_height = roll.height()
    overview = window.docks.get("overview")
    spare = roll_height + dock.height() - (chrome + ROLL_ROWS * ROW_PX) - dock_minimum
    if spare < 0 and overview is not None and overview.isVisible() and not overview.isFloating():
        give = min(-spare, overview.height() - overview.minimumSizeHint().height())
        if give > 0:
            window.resizeDocks([overview], [overview.height() - give], Qt.Orientation.Vertical)
            roll_height += give
    height = spectrogram_height(roll_height, chrome, dock.height(), dock_minimum)
    window.resizeDocks([dock], [height], Qt.Orientation.Vertical)
