"""The track list: one row per track with its colour, name, instrument, mute and solo, plus
buttons and a context menu to add, delete, reorder and recolour tracks. The document owns the
song; every change made here is one undoable step, and the rows follow the document."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QStringListModel, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.music import edits
from desktop_app.music.gm import GM_PROGRAMS, program_name
from desktop_app.music.song import Song
from desktop_app.music.track import DRUM_CHANNEL, Track
from desktop_app.ui.colours import track_colour, new_track_colour, with_colours_kept
from desktop_app.ui.document import Document

COL_COLOUR, COL_NAME, COL_INSTRUMENT, COL_MUTE, COL_SOLO = range(5)
HEADERS = ("", "Name", "Instrument", "Mute", "Solo")
DRUM_INDEX = len(GM_PROGRAMS)  # the combo's last entry, after the 128 GM programs
INSTRUMENT_NAMES = (*GM_PROGRAMS, "Drum Kit")

INSTRUMENT_MIN_WIDTH = 110  # px: an instrument name's first dozen letters and the arrow

ColourChooser = Callable[[QColor], "QColor | None"]


def track_label(track: Track, index: int) -> str:
    """How undo names and tooltips call a track: its name, or its number when it has none."""
    return track.name or f"Track {index + 1}"


def new_track_name(song: Song) -> str:
    """"Track N" for the first N from the new track count up that no track is called yet."""
    names = {t.name for t in song.tracks}
    n = len(song.tracks) + 1
    while f"Track {n}" in names:
        n += 1
    return f"Track {n}"


def instrument_index(track: Track) -> int:
    """The instrument combo's entry for `track`."""
    return DRUM_INDEX if track.is_drum else track.program


def with_instrument(song: Song, track: Track, index: int) -> Track:
    """`track` playing the combo entry `index`: drums go to channel 10; a track leaving the drums
    takes a free melodic channel."""
    if index == DRUM_INDEX:
        return replace(track, is_drum=True, channel=DRUM_CHANNEL)
    channel = edits.free_channel(song) if track.channel == DRUM_CHANNEL else track.channel
    return replace(track, is_drum=False, program=index, channel=channel)


class _InstrumentCombo(QComboBox):
    """A combo that ignores the mouse wheel until it has focus, so scrolling the list never
    changes an instrument by accident."""

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class _TrackTable(QTableWidget):
    """F2 anywhere in a row edits the track's name."""

    def edit(
        self,
        index: QModelIndex,
        trigger: QAbstractItemView.EditTrigger = QAbstractItemView.EditTrigger.AllEditTriggers,
        event: QEvent | None = None,
    ) -> bool:
        if trigger == QAbstractItemView.EditTrigger.EditKeyPressed and index.column() != COL_NAME:
            index = index.siblingAtColumn(COL_NAME)
        return super().edit(index, trigger, event)


@dataclass
class _Row:
    """The widgets of one row and the settings they show (to skip rows that did not change)."""

    instrument: QComboBox
    mute: QCheckBox
    solo: QCheckBox
    shown: tuple = ()


def swatch_icon(colour: QColor, size: int = 14) -> QIcon:
    """A filled square with a thin dark border, the same in selected rows (no highlight tint)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    painter = QPainter(pixmap)
    painter.setPen(colour.darker(160))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    icon = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
        icon.addPixmap(pixmap, mode)
    return icon


def _centred(widget: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignCenter)
    return holder


class TrackListPanel(QWidget):
    """The song's tracks as a table bound to `document`. `choose_colour` asks for a colour
    (QColor -> QColor, or None or an invalid colour when cancelled); tests inject their own."""

    def __init__(
        self, document: Document, choose_colour: ColourChooser | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self._choose_colour = choose_colour or (lambda c: QColorDialog.getColor(c, self, "Track colour"))
        self._updating = False
        self._rows: list[_Row] = []
        self._instrument_model = QStringListModel(list(INSTRUMENT_NAMES), self)

        self.table = _TrackTable(0, len(HEADERS), self)
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setToolTip("The song's tracks. Click a row to edit that track; right-click for more.")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for col in range(len(HEADERS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # Names get the width they need (up to what leaves the instrument its minimum); the
        # instrument combo takes the rest and shortens its text first.
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COL_INSTRUMENT, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(24)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.viewport().installEventFilter(self)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        self.add_action = self._action("Add track", "Add a new track after the active one", self.add_track)
        self.delete_action = self._action("Delete track", "Delete the active track", self.delete_track)
        self.up_action = self._action("Move up", "Move the active track one place up", lambda: self.move_track(-1))
        self.down_action = self._action("Move down", "Move the active track one place down", lambda: self.move_track(1))
        self.rename_action = self._action("Rename…", "Edit the active track's name (F2)", self.rename_track)
        self.colour_action = self._action("Change colour…", "Pick a colour for the active track", self.change_colour)
        self.reset_colour_action = self._action(
            "Use default colour", "Give the active track its default colour again", self.reset_colour
        )

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons: dict[str, QToolButton] = {}
        for key, action in (("add", self.add_action), ("delete", self.delete_action),
                            ("up", self.up_action), ("down", self.down_action)):
            button = QToolButton(self)
            button.setDefaultAction(action)
            self.buttons[key] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.table)

        self.table.currentCellChanged.connect(self._current_cell_changed)
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemDoubleClicked.connect(self._item_double_clicked)
        self.table.customContextMenuRequested.connect(self._show_context_menu)
        document.songChanged.connect(self.refresh)
        document.selectionChanged.connect(self.refresh)
        self.refresh()

    def _action(self, text: str, tip: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # --- widgets for the song ---------------------------------------------------------------

    def row_widgets(self, row: int) -> tuple[QComboBox, QCheckBox, QCheckBox]:
        """The instrument combo and the mute and solo boxes of `row`."""
        r = self._rows[row]
        return r.instrument, r.mute, r.solo

    def refresh(self) -> None:
        """Show the document's tracks and active track. Only rows whose settings changed are
        touched, so a note edit costs next to nothing; no edit is emitted while updating."""
        song, active = self.document.song, self.document.active_track
        self._updating = True
        try:
            while len(self._rows) > len(song.tracks):
                self._rows.pop()
                self.table.removeRow(len(self._rows))
            while len(self._rows) < len(song.tracks):
                self._add_row()
            for i, track in enumerate(song.tracks):
                self._show_track(i, track)
            if song.tracks and self.table.currentRow() != active:
                self.table.setCurrentCell(active, COL_NAME)
        finally:
            self._updating = False
        self._fit_name_column()
        self._update_actions()

    def eventFilter(self, watched, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_name_column()
        return super().eventFilter(watched, event)

    def _fit_name_column(self) -> None:
        """Give the Name column its longest name's width, less only what the instrument needs."""
        table, header = self.table, self.table.horizontalHeader()
        names = [self.table.item(row, COL_NAME).text() for row in range(table.rowCount())]
        metrics = table.fontMetrics()
        padding = 2 * table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) + 12
        wanted = max([metrics.horizontalAdvance(n) for n in names + [HEADERS[COL_NAME]]]) + padding
        others = sum(header.sectionSize(c) for c in (COL_COLOUR, COL_MUTE, COL_SOLO))
        room = table.viewport().width() - others - INSTRUMENT_MIN_WIDTH
        width = max(metrics.horizontalAdvance(HEADERS[COL_NAME]) + padding, min(wanted, room))
        if header.sectionSize(COL_NAME) != width:
            header.resizeSection(COL_NAME, width)

    def _add_row(self) -> None:
        row = len(self._rows)
        self.table.insertRow(row)
        swatch = QTableWidgetItem()
        swatch.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        swatch.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(row, COL_COLOUR, swatch)
        name = QTableWidgetItem()
        name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(row, COL_NAME, name)
        combo = _InstrumentCombo()
        combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        combo.setModel(self._instrument_model)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(14)
        combo.currentIndexChanged.connect(lambda index, r=row: self._instrument_chosen(r, index))
        self.table.setCellWidget(row, COL_INSTRUMENT, combo)
        mute, solo = QCheckBox(), QCheckBox()
        mute.toggled.connect(lambda on, r=row: self._flag_toggled(r, "mute", on))
        solo.toggled.connect(lambda on, r=row: self._flag_toggled(r, "solo", on))
        self.table.setCellWidget(row, COL_MUTE, _centred(mute))
        self.table.setCellWidget(row, COL_SOLO, _centred(solo))
        self._rows.append(_Row(combo, mute, solo))

    def _show_track(self, row: int, track: Track) -> None:
        colour = track_colour(track, row)
        shown = (track.name, track.program, track.is_drum, track.mute, track.solo, track.color, colour.name())
        r = self._rows[row]
        if r.shown == shown:
            return
        r.shown = shown
        label = track_label(track, row)
        swatch = self.table.item(row, COL_COLOUR)
        swatch.setText(str(row + 1))
        swatch.setIcon(swatch_icon(colour))
        swatch.setData(Qt.ItemDataRole.UserRole, colour.name())
        kind = "its own colour" if track.color else "the default colour for its place"
        swatch.setToolTip(f"Track {row + 1}, {kind} {colour.name()}. Double-click to change it.")
        name = self.table.item(row, COL_NAME)
        name.setText(track.name)
        name.setToolTip(f"“{label}”: double-click or press F2 to rename")
        r.instrument.setCurrentIndex(instrument_index(track))
        r.instrument.setToolTip(
            f"Instrument of “{label}”: {program_name(track.program, track.is_drum)}. "
            "A General MIDI program, or Drum Kit (plays on channel 10)."
        )
        r.mute.setChecked(track.mute)
        r.mute.setToolTip(f"Mute “{label}”: silence it in playback")
        r.solo.setChecked(track.solo)
        r.solo.setToolTip(f"Solo “{label}”: while any track is soloed, only soloed tracks play")

    def _update_actions(self) -> None:
        n, active = len(self.document.song.tracks), self.document.active_track
        for action in (self.delete_action, self.rename_action, self.colour_action):
            action.setEnabled(n > 0)
        self.reset_colour_action.setEnabled(n > 0 and bool(self.document.song.tracks[active].color))
        self.up_action.setEnabled(n > 0 and active > 0)
        self.down_action.setEnabled(n > 0 and active < n - 1)

    # --- user actions -----------------------------------------------------------------------

    def _current_cell_changed(self, row: int, _col: int, _prev_row: int, _prev_col: int) -> None:
        if not self._updating and row >= 0:
            self.document.set_active_track(row)

    def _set_track(self, name: str, row: int, track: Track) -> None:
        """Replace the track at `row` as one undoable step."""
        song = self.document.song
        if track != song.tracks[row]:
            self.document.apply(name, song.with_track(row, track))

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating or item.column() != COL_NAME:
            return
        row, track = item.row(), self.document.song.tracks[item.row()]
        text = item.text().strip()
        if not text or text == track.name:
            self._rows[row].shown = ()
            self.refresh()  # show the name as it is
            return
        self._set_track(f"Rename track to “{text}”", row, replace(track, name=text))

    def _instrument_chosen(self, row: int, index: int) -> None:
        if self._updating or index < 0:
            return
        song = self.document.song
        track = song.tracks[row]
        self._set_track(
            f"Change instrument of “{track_label(track, row)}” to {INSTRUMENT_NAMES[index]}",
            row,
            with_instrument(song, track, index),
        )

    def _flag_toggled(self, row: int, flag: str, on: bool) -> None:
        if self._updating:
            return
        track = self.document.song.tracks[row]
        verb = {("mute", True): "Mute", ("mute", False): "Unmute", ("solo", True): "Solo", ("solo", False): "Unsolo"}
        self._set_track(f"{verb[flag, on]} “{track_label(track, row)}”", row, replace(track, **{flag: on}))

    def _item_double_clicked(self, item: QTableWidgetItem) -> None:
        if item.column() == COL_COLOUR:
            self.document.set_active_track(item.row())
            self.change_colour()

    def add_track(self) -> None:
        """A new empty track after the active one, on a free channel; it becomes active."""
        song = self.document.song
        index = self.document.active_track + 1 if song.tracks else 0
        track = Track(name=new_track_name(song), channel=edits.free_channel(song), color=new_track_colour(song, index))
        self.document.apply("Add track", edits.insert_track(with_colours_kept(song), index, track), selection=(),
                            active_track=index)

    def delete_track(self) -> None:
        song, active = self.document.song, self.document.active_track
        if not song.tracks:
            return
        label = track_label(song.tracks[active], active)
        new_active = max(0, min(active, len(song.tracks) - 2))  # the next track, or the one above the last
        self.document.apply(
            f"Delete track “{label}”", edits.remove_track(with_colours_kept(song), active), selection=(),
            active_track=new_active,
        )

    def move_track(self, step: int) -> None:
        """Move the active track `step` places (-1 up, +1 down); it stays active."""
        song, active = self.document.song, self.document.active_track
        target = active + step
        if not song.tracks or not 0 <= target < len(song.tracks):
            return
        label = track_label(song.tracks[active], active)
        self.document.apply(
            f"Move track “{label}” {'up' if step < 0 else 'down'}",
            edits.move_track(with_colours_kept(song), active, target),
            active_track=target,
        )

    def rename_track(self) -> None:
        if self.document.song.tracks:
            self.table.setFocus()
            self.table.editItem(self.table.item(self.document.active_track, COL_NAME))

    def change_colour(self) -> None:
        """Ask for a colour for the active track."""
        song, active = self.document.song, self.document.active_track
        if not song.tracks:
            return
        track = song.tracks[active]
        chosen = self._choose_colour(track_colour(track, active))
        if chosen is None or not chosen.isValid():
            return
        label = track_label(track, active)
        self._set_track(f"Change colour of “{label}”", active, replace(track, color=chosen.name()))

    def reset_colour(self) -> None:
        song, active = self.document.song, self.document.active_track
        if song.tracks:
            track = song.tracks[active]
            self._set_track(f"Reset colour of “{track_label(track, active)}”", active, replace(track, color=""))

    # --- context menu -----------------------------------------------------------------------

    def context_menu(self) -> QMenu:
        """The menu for the active track (the row that was right-clicked)."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for action in (self.add_action, self.delete_action, self.up_action, self.down_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.rename_action, self.colour_action, self.reset_colour_action):
            menu.addAction(action)
        return menu

    def _show_context_menu(self, pos: QPoint) -> None:
        row = self.table.rowAt(pos.y())
        if row >= 0:
            self.document.set_active_track(row)
        menu = self.context_menu()
        menu.exec(self.table.viewport().mapToGlobal(pos))
        menu.deleteLater()
