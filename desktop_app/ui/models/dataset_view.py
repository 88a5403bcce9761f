"""The dataset view: the "build the dataset" step made visible. Pick a built-in dataset or add a
folder, build it on the runner (progress and cancel), and see what it holds: counts of pieces,
notes, bars and hours; histograms of pitch, pitch class, duration, notes per bar, polyphony, key
and tempo with their mean, standard deviation and interquartile range; the outliers with their
reasons, each of which can be excluded or kept; and the split of every piece. A double-click on a
piece opens it in the piano roll.

Building and the statistics run on the runner's thread; the ml modules are imported there too, so
opening the app does not wait for them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QProgressBar,
    QPushButton, QScrollArea, QTableView, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from desktop_app.ml.progress import format_seconds
from desktop_app.runner.jobs import Job, JobCancelled, ModelRunner
from desktop_app.ui.models.plots import make_plot, set_bars

# histogram name -> (title, summary name or None)
HISTOGRAMS = {
    "pitch": ("Pitch (MIDI)", "pitch"),
    "pitch_class": ("Pitch class", "pitch_class"),
    "duration_steps": ("Duration (16th steps)", "duration_steps"),
    "notes_per_bar": ("Notes per bar", "notes_per_bar"),
    "polyphony": ("Polyphony (notes sounding)", "polyphony"),
    "key": ("Key", None),
    "tempo_bpm": ("Tempo (BPM)", "tempo_bpm"),
    "bars_per_piece": ("Bars per piece", "bars_per_piece"),
}
PIECE_COLUMNS = ("Piece", "Split", "Notes", "Bars", "Voices", "Key", "Meter", "Outlier")
OUTLIER_COLUMNS = ("Exclude", "Piece", "Reason")


def build_dataset(name: str, ctx) -> tuple[object, dict]:
    """Build (or read from the cache) dataset `name` and its statistics; runs on the runner's thread."""
    from desktop_app.ml.data import BuildCancelled, dataset_stats, load_dataset

    try:
        dataset = load_dataset(name, progress=ctx.report, cancel=lambda: ctx.cancelled)
    except BuildCancelled:
        raise JobCancelled from None
    ctx.check()
    return dataset, dataset_stats(dataset)


def _bars_per_piece(stats: dict) -> dict[str, list]:
    """A histogram of the pieces' lengths in bars, from the per-piece rows (pieces kept for training)."""
    bars = [p["bars"] for p in stats["per_piece"] if not p["excluded"]]
    top = max(bars, default=0)
    counts = [0] * (top + 1)
    for b in bars:
        counts[b] += 1
    return {"bins": list(range(top + 1)), "counts": counts}


class PiecesModel(QAbstractTableModel):
    """Every piece of a dataset, one row each (a model, so that thousands of folk tunes show at once):
    the name (its source file under UserRole), split, counts, key, meter and outlier note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple] = []
        self.sources: list[str] = []
        self.excluded: list[bool] = []

    def set_stats(self, stats: dict) -> None:
        reasons = {o["name"]: o for o in stats["outliers"]}
        self.beginResetModel()
        self.rows, self.sources, self.excluded = [], [], []
        for piece in stats["per_piece"]:
            outlier = reasons.get(piece["name"])
            note = (("excluded: " if outlier["excluded"] else "kept: ") + "; ".join(outlier["reasons"])) if outlier else ""
            self.rows.append((piece["name"], piece["split"], piece["notes"], piece["bars"], piece["voices"],
                              piece["key"] or "?", piece["meter"], note))
            self.sources.append(piece["source"])
            self.excluded.append(bool(piece["excluded"]))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(PIECE_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return PIECE_COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[row][col]  # numbers stay numbers, so they sort as numbers
        if role in (Qt.ItemDataRole.UserRole, Qt.ItemDataRole.ToolTipRole) and col == 0:
            return self.sources[row]
        if role == Qt.ItemDataRole.ForegroundRole and self.excluded[row]:
            return QColor(Qt.GlobalColor.gray)
        return None


class DatasetView(QWidget):
    """Signals: pieceActivated(source file) on a double-click, datasetChanged(dataset) when a
    dataset is built or its exclusions change, message(text) for the status bar."""

    pieceActivated = Signal(str)
    datasetChanged = Signal(object)
    message = Signal(str)

    def __init__(self, runner: ModelRunner, parent: QWidget | None = None,
                 choose_folder: Callable[[str], str] | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.choose_folder = choose_folder or (
            lambda start: QFileDialog.getExistingDirectory(self, "Add a folder of MIDI or MusicXML files", start))
        self.dataset = None  # the Dataset shown, exclusions applied
        self.built_as = ""  # what it was built from: a dataset's name or a folder
        self.stats: dict | None = None
        self.job: Job | None = None
        self._build_widgets()
        self.refresh_sources()

    # ----- construction -------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.source = QComboBox(self)
        self.source.setEditable(True)  # a folder path may be typed too
        self.source.setMinimumContentsLength(10)
        self.source.setToolTip("A built-in dataset, a registered folder, or a folder path")
        self.add_button = QPushButton("Add Folder…", self)
        self.add_button.setToolTip("Register a folder of MIDI and MusicXML files as a dataset")
        self.add_button.clicked.connect(self.add_folder)
        self.build_button = QPushButton("Build", self)
        self.build_button.setToolTip("Parse the dataset (cached pieces are read back at once) and show what it holds")
        self.build_button.clicked.connect(self.build)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.source, 1)
        for widget in (self.add_button, self.build_button, self.cancel_button):
            top.addWidget(widget)

        self.counts = QLabel("Choose a dataset and press Build.", self)
        self.counts.setWordWrap(True)
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.splits = QLabel(self)

        self.plots = {}
        histograms = QWidget(self)
        grid = QGridLayout(histograms)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, (name, (title, _)) in enumerate(HISTOGRAMS.items()):
            plot = make_plot(title, histograms, height=130)
            plot.setMouseEnabled(x=False, y=False)
            self.plots[name] = plot
            grid.addWidget(plot, i // 4, i % 4)
        self.bars: dict[str, object] = {}

        self.pieces_model = PiecesModel(self)
        sorter = QSortFilterProxyModel(self)
        sorter.setSourceModel(self.pieces_model)
        self.pieces = QTableView(self)
        self.pieces.setModel(sorter)
        self.pieces.setSortingEnabled(True)
        self.pieces.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # dataset order until a header is clicked
        self.pieces.setToolTip("Double-click a piece to open it in the piano roll")
        self.pieces.doubleClicked.connect(lambda index: self._open_source(index.siblingAtColumn(0).data(
            Qt.ItemDataRole.UserRole)))
        self.outliers = QTableWidget(0, len(OUTLIER_COLUMNS), self)
        self.outliers.setHorizontalHeaderLabels(OUTLIER_COLUMNS)
        self.outliers.setToolTip("Tick a piece to leave it out of training; double-click to open it")
        for table in (self.pieces, self.outliers):
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.verticalHeader().setVisible(False)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
        self.outliers.cellDoubleClicked.connect(
            lambda row, _col: self._open_source(self.outliers.item(row, 1).data(Qt.ItemDataRole.UserRole)))
        self.outliers.itemChanged.connect(self._outlier_toggled)

        scroll = QScrollArea(self)  # the dock may be small: the plots scroll rather than squeeze
        scroll.setWidgetResizable(True)
        scroll.setWidget(histograms)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(scroll, "Histograms")
        self.tabs.addTab(self.pieces, "Pieces")
        self.tabs.addTab(self.outliers, "Outliers")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.counts)
        layout.addWidget(self.splits)
        layout.addWidget(self.tabs, 1)

    def refresh_sources(self, select: str | None = None) -> None:
        """Fill the dataset list from the built-in and registered datasets."""
        from desktop_app.ml.data.user_datasets import list_datasets  # plain JSON and a dict: no torch

        current = select or self.source.currentText()
        self.source.clear()
        for row in list_datasets():
            self.source.addItem(row["name"])
            self.source.setItemData(self.source.count() - 1, row.get("folder") or row.get("description", ""),
                                    Qt.ItemDataRole.ToolTipRole)
        if current:
            self.source.setCurrentText(current)

    # ----- building -----------------------------------------------------------------------

    def add_folder(self) -> None:
        """Register a folder as a dataset under its name, then build it."""
        from desktop_app.ml.data.user_datasets import add_user_dataset
        from desktop_app.music.errors import MusicFileError

        folder = self.choose_folder(str(Path.home()))
        if not folder:
            return
        try:
            name = add_user_dataset(folder)
        except MusicFileError as e:
            self._say(f"Cannot add {e.path}: {e.reason}")
            return
        self.refresh_sources(select=name)
        self.build()

    def build(self, name: str | None = None) -> Job | None:
        """Build the chosen dataset on the runner; progress shows below, Cancel stops it."""
        name = (name or self.source.currentText()).strip()
        if not name:
            self._say("Choose a dataset or add a folder first.")
            return None
        if self.job is not None:
            self.job.cancel()
        job = Job("dataset", f"Build {name}", lambda ctx: build_dataset(name, ctx), self)
        job.progress.connect(self._progress)
        job.finished.connect(lambda result, j=job: self._built(j, result, name))
        job.failed.connect(lambda reason, j=job: self._ended(j, f"Cannot build {name}: {reason}"))
        job.cancelled.connect(lambda j=job: self._ended(j, f"Building {name} was cancelled; what was parsed is cached."))
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(job.deleteLater)
        self.job = job
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.counts.setText(f"Building {name}…")
        self.runner.submit(job)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _progress(self, done: int, total: int, eta: float) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"%v / %m files · {format_seconds(eta)} left" if eta == eta and done < total
                                else "%v / %m files")

    def _ended(self, job: Job, text: str) -> None:
        if job is not self.job:
            return
        self.job = None
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.counts.setText(text)
        self._say(text)

    def _built(self, job: Job, result: tuple, built_as: str | None = None) -> None:
        if job is not self.job:
            return
        self._ended(job, "")
        if built_as is not None:
            self.built_as = built_as
        dataset, stats = result
        self.show_dataset(dataset, stats)

    # ----- showing ------------------------------------------------------------------------

    def show_dataset(self, dataset, stats: dict) -> None:
        """Show `dataset` and its `dataset_stats`."""
        self.dataset, self.stats = dataset, stats
        s = stats
        self.counts.setText(
            f"<b>{s['name']}</b>: {s['pieces']:,} pieces ({s['pieces_found']:,} found, {s['excluded']} excluded, "
            f"{s['unreadable']} unreadable) · {s['notes']:,} notes · {s['bars']:,} bars · {s['hours']:.2f} hours")
        self.splits.setText("Split by piece: " + " · ".join(
            f"{name} {split['pieces']} pieces ({split['notes']:,} notes)" for name, split in s["splits"].items()))
        self._show_histograms(s)
        self.pieces_model.set_stats(s)
        self._show_outliers(s)
        self.datasetChanged.emit(dataset)

    def _show_histograms(self, stats: dict) -> None:
        for name, (title, summary_name) in HISTOGRAMS.items():
            hist = stats["histograms"].get(name) or _bars_per_piece(stats)
            plot = self.plots[name]
            if "edges" in hist:  # tempo: bins between edges
                edges = hist["edges"]
                x = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
                self.bars[name] = set_bars(plot, x, hist["counts"], width=(edges[1] - edges[0]) * 0.9)
            elif hist["bins"] and isinstance(hist["bins"][0], str):
                self.bars[name] = set_bars(plot, list(range(len(hist["bins"]))), hist["counts"], labels=hist["bins"])
            else:
                bins, counts = hist["bins"], hist["counts"]
                used = [i for i, c in enumerate(counts) if c]
                if used:  # pitch 0-127 and the like: show the range that holds something
                    bins, counts = bins[used[0]:used[-1] + 1], counts[used[0]:used[-1] + 1]
                self.bars[name] = set_bars(plot, bins, counts)
            summary = stats["summary"].get(summary_name or "", {})
            if summary.get("count"):
                title = (f"{title}<br>mean {summary['mean']:.2f} · std {summary['std']:.2f} · "
                         f"IQR {summary['q1']:g}–{summary['q3']:g}")
            plot.setTitle(title, size="9pt")

    def _show_outliers(self, stats: dict) -> None:
        sources = {p["name"]: p["source"] for p in stats["per_piece"]}
        table = self.outliers
        table.blockSignals(True)
        table.setRowCount(len(stats["outliers"]))
        for row, outlier in enumerate(stats["outliers"]):
            unreadable = outlier["kinds"] == ["unreadable"]
            check = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            check.setFlags(flags if unreadable else flags | Qt.ItemFlag.ItemIsUserCheckable)
            check.setCheckState(Qt.CheckState.Checked if outlier["excluded"] else Qt.CheckState.Unchecked)
            check.setData(Qt.ItemDataRole.UserRole, outlier["name"])
            name = QTableWidgetItem(outlier["name"])
            name.setData(Qt.ItemDataRole.UserRole, sources.get(outlier["name"], outlier["name"].split("#")[0]))
            reason = QTableWidgetItem("; ".join(outlier["reasons"]))
            reason.setToolTip(reason.text())
            for col, item in enumerate((check, name, reason)):
                table.setItem(row, col, item)
        table.blockSignals(False)
        self.tabs.setTabText(2, f"Outliers ({len(stats['outliers'])})")

    # ----- choices ------------------------------------------------------------------------

    def set_excluded(self, name: str, excluded: bool) -> Job | None:
        """Leave the outlier `name` out of the dataset (or take it back), remember the choice for
        training and later sessions, and recompute the statistics."""
        if self.dataset is None:
            return None
        from desktop_app.ml.data.choices import choose

        try:
            dataset = choose(self.dataset, name, excluded)
        except OSError as e:
            self._say(f"Cannot keep the choice for {name}: {e.strerror or e}")
            dataset = self.dataset.choosing(name, excluded)

        def stats(_ctx):
            from desktop_app.ml.data import dataset_stats

            return dataset, dataset_stats(dataset)

        job = Job("dataset", f"Statistics of {dataset.name}", stats, self)
        job.finished.connect(lambda result, j=job: self._built(j, result))
        job.failed.connect(lambda reason, j=job: self._ended(j, f"Cannot compute the statistics: {reason}"))
        job.cancelled.connect(lambda j=job: self._ended(j, ""))
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(job.deleteLater)
        if self.job is not None:
            self.job.cancel()
        self.job = job
        self.runner.submit(job)
        self._say(f"{'Excluded' if excluded else 'Kept'} {name}")
        return job

    def _outlier_toggled(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or not item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            return
        self.set_excluded(item.data(Qt.ItemDataRole.UserRole), item.checkState() == Qt.CheckState.Checked)

    def _open_source(self, source: str) -> None:
        """Ask to open a piece's file in the piano roll (a double-click on its row)."""
        if not source:
            return
        from desktop_app.music.formats import can_read

        path = Path(re.sub(r"#\d+$", "", source))  # the N-th tune of an ABC file is "FILE#N"
        if not path.is_file():
            self._say(f"Cannot open {path}: the file is gone")
        elif not can_read(path):
            self._say(f"Cannot open {path.name} in the piano roll: it reads MIDI and MusicXML files")
        else:
            self.pieceActivated.emit(str(path))

    def pieces_of(self, name: str) -> tuple[list, list] | None:
        """The training and validation pieces of dataset `name`, with the exclusions chosen here,
        when it is the one shown (the training panel trains on them); else None."""
        if self.dataset is None or name not in (self.built_as, self.dataset.root):
            return None
        return self.dataset.split("train"), self.dataset.split("valid")

    def _say(self, text: str) -> None:
        if text:
            self.message.emit(text)
