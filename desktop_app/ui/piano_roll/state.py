"""What the piano-roll parts share besides the viewport: tool, snap, note length, playhead,
loop region, and view switches."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QObject, Signal

from desktop_app.music import snap


class Tool(Enum):
    DRAW = "draw"
    SELECT = "select"
    ERASE = "erase"
    SPLIT = "split"
    GLUE = "glue"


TOOL_KEYS = {Tool.DRAW: "1", Tool.SELECT: "2", Tool.ERASE: "3", Tool.SPLIT: "4", Tool.GLUE: "5"}
TOOL_TIPS = {
    Tool.DRAW: "Draw (1): click to add a note of the last-used length, drag to set its length",
    Tool.SELECT: "Select (2): click or drag a box to select; drag notes to move, their edges to resize; "
    "Shift adds, Ctrl toggles, Ctrl+drag duplicates, Alt ignores the grid, double-click deletes",
    Tool.ERASE: "Erase (3): click or drag across notes to delete them",
    Tool.SPLIT: "Split (4): click inside a note to cut it in two at the grid line",
    Tool.GLUE: "Glue (5): click a note to join it with the next note of the same pitch",
}


class RollState(QObject):
    changed = Signal()  # what the note grid shows changed (tool, snap, loop, switches)
    playheadMoved = Signal(int)  # only the playhead line moves: views repaint a thin strip
    loopChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tool = Tool.SELECT
        self.snap_choice = snap.DEFAULT
        self.note_length = 480  # ticks; the last length drawn or resized
        self.playhead = 0
        self.loop: tuple[int, int] | None = None
        self.follow_playhead = True
        self.scale_highlight = True

    def set_tool(self, tool: Tool) -> None:
        if tool is not self.tool:
            self.tool = tool
            self.changed.emit()

    def set_snap(self, choice: str) -> None:
        if choice not in snap.CHOICES:
            raise ValueError(f"unknown snap {choice!r}")
        self.snap_choice = choice
        self.changed.emit()

    def set_playhead(self, tick: int) -> None:
        tick = max(0, int(tick))
        if tick != self.playhead:
            self.playhead = tick
            self.playheadMoved.emit(tick)

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        if loop is not None:
            a, b = sorted(loop)
            loop = (max(0, a), max(0, b)) if b > a else None
        if loop != self.loop:
            self.loop = loop
            self.loopChanged.emit()
            self.changed.emit()
