"""The dataset view, driven with real clicks: build a small folder of MIDI files and see its counts,
histograms and the split of every piece; exclude an outlier; a double-click opens a piece."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from desktop_app.ml.data import load_dataset, split_of_piece
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track
from desktop_app.runner.jobs import ModelRunner
from desktop_app.ui.models.dataset_view import PIECE_COLUMNS, DatasetView
from desktop_app.ui.models.plots import bar_heights

MELODIES = {  # name -> pitches of quarter notes, two bars of 4/4 each at least
    "alpha": [60, 62, 64, 65, 67, 65, 64, 62],
    "beta": [67, 69, 71, 72, 74, 72, 71, 69, 67],
    "gamma": [55, 57, 59, 60, 62, 60, 59, 57],
    "delta": [64, 64, 65, 67, 67, 65, 64, 62, 60, 60],
    "epsilon": [72, 71, 69, 67, 65, 64, 62, 60],
    "zeta": [48, 52, 55, 60, 55, 52, 48, 52],
    "eta": [62, 66, 69, 74, 69, 66, 62, 66, 69],
    "theta": [59, 60, 62, 64, 65, 67, 69, 71],
    "rumble": [12, 14, 16, 17, 19, 17, 16, 14],  # below the piano's A0: an extreme range
}
NOTES = sum(len(p) for p in MELODIES.values())


def write_folder(folder: Path) -> Path:
    folder.mkdir()
    for name, pitches in MELODIES.items():
        notes = tuple(Note(p, i * 480, 480, 90) for i, p in enumerate(pitches))
        write_midi(Song(tracks=(Track(name="Melody", notes=notes),), title=name), folder / f"{name}.mid")
    return folder


@pytest.fixture
def folder(tmp_path) -> Path:
    return write_folder(tmp_path / "tunes")


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    """Each test keeps its choices (and registered folders) to itself."""
    monkeypatch.setenv("DESKTOP_APP_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def view(qtbot, folder):
    runner = ModelRunner()
    widget = DatasetView(runner, choose_folder=lambda start: str(folder))
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    assert runner.shutdown(10)


def build_by_clicks(qtbot, view: DatasetView) -> None:
    with qtbot.waitSignal(view.datasetChanged, timeout=60_000):
        qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)


def table_column(view: DatasetView, name: str) -> dict[str, str]:
    """Piece name -> what the pieces table shows in column `name`, for every row."""
    model, col = view.pieces.model(), PIECE_COLUMNS.index(name)
    return {model.index(r, 0).data(): str(model.index(r, col).data()) for r in range(model.rowCount())}


def piece_centre(view: DatasetView, name: str) -> QPoint:
    """Where the pieces table shows the name of piece `name`."""
    model = view.pieces.model()
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == name)
    view.pieces.scrollTo(model.index(row, 0))
    return view.pieces.visualRect(model.index(row, 0)).center()


def click_check(qtbot, table, row: int) -> None:
    """Click the check box of the first cell of `row`, where the style draws it."""
    item = table.item(row, 0)
    table.scrollToItem(item)
    option = QStyleOptionViewItem()
    option.rect = table.visualItemRect(item)
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    option.state |= QStyle.StateFlag.State_Enabled
    box = table.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, table)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=box.center())


def double_click(qtbot, widget, pos: QPoint) -> None:
    """Press, release, then the double-click event, as a real double-click arrives (an item view
    acts on a double-click only over the item it was pressed on)."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def test_adding_a_folder_builds_it_and_shows_counts_histograms_and_the_split(qtbot, view, folder):
    build_by_clicks(qtbot, view)
    assert view.source.currentText() == "tunes"
    text = view.counts.text()
    assert f"{len(MELODIES)} pieces" in text and f"{NOTES} notes" in text
    assert "0 excluded" in text and "0 unreadable" in text
    pitch_counts = bar_heights(view.bars["pitch"])
    assert sum(pitch_counts) == NOTES  # every note is in the pitch histogram
    assert sum(bar_heights(view.bars["pitch_class"])) == NOTES
    assert "mean" in view.plots["pitch"].plotItem.titleLabel.text  # mean, std and IQR beside each plot

    # the split shown per piece is the dataset's split by piece, read independently here
    reference = load_dataset(str(folder))
    expected = {p.name: split_of_piece(p) for p in reference.all_pieces}
    assert table_column(view, "Split") == expected
    for name, split in view.stats["splits"].items():
        assert f"{name} {split['pieces']} pieces" in view.splits.text()
    assert sum(s["pieces"] for s in view.stats["splits"].values()) == len(MELODIES)

    # a click on a column's header sorts the pieces by it, numbers as numbers
    view.tabs.setCurrentIndex(1)
    header, col = view.pieces.horizontalHeader(), PIECE_COLUMNS.index("Notes")
    qtbot.waitUntil(lambda: header.sectionSize(col) > 0)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(col) + header.sectionSize(col) // 2, header.height() // 2))
    model = view.pieces.model()
    notes = [model.index(r, col).data() for r in range(model.rowCount())]
    assert notes == sorted(notes) and notes[-1] == max(len(p) for p in MELODIES.values())


def test_an_outlier_shows_its_reason_and_a_click_excludes_it(qtbot, view):
    build_by_clicks(qtbot, view)
    table = view.outliers
    names = [table.item(r, 1).text() for r in range(table.rowCount())]
    assert names == ["rumble.mid"]
    assert "extreme range" in table.item(0, 2).text()
    assert table.item(0, 0).checkState() == Qt.CheckState.Unchecked  # an extreme range is kept unless asked
    assert "kept: extreme range" in table_column(view, "Outlier")["rumble.mid"]

    view.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(view.datasetChanged, timeout=30_000):
        click_check(qtbot, table, 0)
    assert f"{len(MELODIES) - 1} pieces" in view.counts.text() and "1 excluded" in view.counts.text()
    assert f"{NOTES - len(MELODIES['rumble'])} notes" in view.counts.text()
    assert "excluded: extreme range" in table_column(view, "Outlier")["rumble.mid"]
    assert view.pieces_of("other") is None
    train, valid = view.pieces_of("tunes")
    assert "rumble.mid" not in {p.name for p in train + valid}
    assert view.outliers.item(0, 0).checkState() == Qt.CheckState.Checked

    with qtbot.waitSignal(view.datasetChanged, timeout=30_000):  # and a second click takes it back
        click_check(qtbot, view.outliers, 0)
    assert f"{len(MELODIES)} pieces" in view.counts.text()


def test_an_excluded_outlier_stays_excluded_in_the_next_session_and_for_training(qtbot, view, folder, tmp_path):
    build_by_clicks(qtbot, view)
    view.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(view.datasetChanged, timeout=30_000):
        click_check(qtbot, view.outliers, 0)
    # What training and `desktop-app dataset stats` load, in this session or the next:
    assert [o.name for o in load_dataset(str(folder), workers=1).excluded] == ["rumble.mid"]
    runner = ModelRunner()
    later = DatasetView(runner, choose_folder=lambda start: str(folder))
    qtbot.addWidget(later)
    later.resize(1000, 700)
    later.show()
    build_by_clicks(qtbot, later)
    assert later.outliers.item(0, 0).checkState() == Qt.CheckState.Checked
    assert "1 excluded" in later.counts.text()
    assert runner.shutdown(10)


def test_double_clicking_a_piece_asks_to_open_its_file(qtbot, view, folder):
    build_by_clicks(qtbot, view)
    view.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(view.pieceActivated) as opened:
        double_click(qtbot, view.pieces.viewport(), piece_centre(view, "gamma.mid"))
    assert Path(opened.args[0]) == folder / "gamma.mid"


def test_a_missing_folder_is_reported_in_one_line_and_nothing_is_shown(qtbot, view, tmp_path):
    view.source.setCurrentText(str(tmp_path / "nowhere"))
    with qtbot.waitSignal(view.message, timeout=30_000) as said:
        qtbot.mouseClick(view.build_button, Qt.MouseButton.LeftButton)
    assert "nowhere" in said.args[0] and "no such folder" in said.args[0]
    assert view.dataset is None and view.pieces.model().rowCount() == 0
    assert not view.progress.isVisible()


def test_cancel_stops_a_build(qtbot, view, folder, monkeypatch):
    import desktop_app.ml.data.build as build

    started = []

    def slow_parse(job):  # a parse that takes a while, so the cancel lands in the middle
        started.append(job)
        time.sleep(0.2)
        return real(job)

    real = build.parse_job
    monkeypatch.setattr(build, "parse_job", slow_parse)
    monkeypatch.setattr(build, "lookup", lambda cache, key: None)  # nothing comes from the cache
    monkeypatch.setattr(build, "IN_PROCESS_BELOW", 100)  # parsed on the runner's thread, where the patch holds
    view.source.setCurrentText(str(folder))
    qtbot.mouseClick(view.build_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(started) >= 1, timeout=10_000)
    with qtbot.waitSignal(view.message, timeout=10_000) as said:
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in said.args[0]
    assert len(started) < len(MELODIES) and view.dataset is None
    assert not view.cancel_button.isEnabled()


def test_in_the_window_a_double_clicked_piece_opens_in_the_piano_roll(qtbot, window, folder):
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    for menu in ("Models", "View"):
        assert {"Dataset", "Training"} <= {a.text() for a in menus[menu].actions()}
    assert window.dataset_view is None  # built when its dock is first shown
    menus["View"].actions()[[a.text() for a in menus["View"].actions()].index("Dataset")].trigger()
    view = window.dataset_view
    assert view is not None and window.docks["dataset"].widget() is view
    view.choose_folder = lambda start: str(folder)
    qtbot.waitUntil(lambda: view.add_button.height() > 0)  # the dock is laid out
    build_by_clicks(qtbot, view)
    assert window.training_panel.data_box.currentText() == "tunes"  # the training panel offers what was built
    view.tabs.setCurrentIndex(1)
    double_click(qtbot, view.pieces.viewport(), piece_centre(view, "delta.mid"))
    qtbot.waitUntil(lambda: window.loading is None and window.document.song.note_count == len(MELODIES["delta"]),
                    timeout=30_000)
    pitches = [n.pitch for t in window.document.song.tracks for n in t.notes]
    assert sorted(pitches) == sorted(MELODIES["delta"])
