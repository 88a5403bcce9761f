"""The main window: menus, the song overview, dock areas for the editors, the status bar, and
the file life cycle (open, save, import, export, recent files, recovery, drag and drop)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Callable

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QThreadPool, QTimer, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QProgressBar, QToolBar, QWidget

from desktop_app import APP_NAME, __version__
from desktop_app.music.errors import MusicFileError
from desktop_app.music.formats import READABLE_EXTENSIONS, can_read, is_project_path, read_any
from desktop_app.music.midi_io import MIDI_EXTENSIONS, write_midi
from desktop_app.music.musicxml_io import MUSICXML_EXTENSIONS
from desktop_app.music.project_file import PROJECT_EXTENSION, Project, write_project
from desktop_app.music.song import Song
from desktop_app.resources import DEMO_SEED
from desktop_app.runner.background import run_in_background
from desktop_app.runner.jobs import ModelRunner
from desktop_app.ui.dialogs import Dialogs, SaveChoice
from desktop_app.ui.document import Document
from desktop_app.ui.models.accompany_panel import AccompanyPanel
from desktop_app.ui.models.arcnn_panel import build_arcnn
from desktop_app.ui.models.transformer_panel import TransformerPanel
from desktop_app.ui.recovery import (
    Autosaver, RecoveryFile, claim_recovery_file, default_recovery_folder, orphaned_recovery_files, read_recovery,
)
from desktop_app.ui.settings import AppSettings
from desktop_app.ui.shortcuts_dialog import ShortcutsDialog
from desktop_app.ui.audio_export import SCOPES, export_audio, song_for_scope
from desktop_app.ui.piano_roll import PianoRoll
from desktop_app.ui.playback import Playback
from desktop_app.ui.settings_dialog import AudioSettingsDialog
from desktop_app.ui.transport_bar import TransportBar
from desktop_app.ui.song_overview import SongOverview
from desktop_app.ui.spectrogram.panel import SpectrogramPanel
from desktop_app.ui.track_list import TrackListPanel
from desktop_app.ui.window_layout import ROLL_ROWS, place_on_screen, share_with_spectrogram


def _filter(label: str, extensions: tuple[str, ...]) -> str:
    return f"{label} ({' '.join('*' + e for e in extensions)})"


OPEN_FILTERS = ";;".join(
    [
        _filter("All supported files", READABLE_EXTENSIONS),
        _filter("Projects", (PROJECT_EXTENSION,)),
        _filter("MIDI files", MIDI_EXTENSIONS),
        _filter("MusicXML files", MUSICXML_EXTENSIONS),
    ]
)
IMPORT_FILTERS = ";;".join(
    [_filter("MIDI and MusicXML", MIDI_EXTENSIONS + MUSICXML_EXTENSIONS), _filter("MIDI files", MIDI_EXTENSIONS),
     _filter("MusicXML files", MUSICXML_EXTENSIONS)]
)
PROJECT_FILTER = _filter("Projects", (PROJECT_EXTENSION,))
MIDI_FILTER = _filter("MIDI files", (".mid",))

LAYOUT_VERSION = 8  # bump when docks change, so an old saved layout is not applied


def song_summary(song: Song) -> str:
    """One line for the status bar: tracks, notes, tempo, meter, key, length."""
    ts = song.time_signature  # the metre after any pickup
    seconds = int(round(song.duration_seconds))
    parts = [
        f"{len(song.tracks)} track{'s' * (len(song.tracks) != 1)}",
        f"{song.note_count:,} notes",
        f"{song.tempos[0].bpm:.0f} BPM" + (" (changes)" if len(song.tempos) > 1 else ""),
        f"{ts.numerator}/{ts.denominator}",
    ]
    if song.key:
        parts.append(song.key.display_name())
    parts += [f"{seconds // 60}:{seconds % 60:02d}", f"{song.ppq} PPQ"]
    return "  ·  ".join(parts)


def _read_prepared(path: Path) -> Project:
    """Read a file and compute what the views need, all on the worker thread."""
    project = read_any(path)
    project.song.prepare()
    return project


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings | None = None,
        dialogs: Dialogs | None = None,
        recovery_folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.dialogs = dialogs or Dialogs(self)
        self.document = Document(self)
        self.autosaver = Autosaver(  # this instance's own recovery file: others running keep theirs
            self.document, claim_recovery_file(recovery_folder or default_recovery_folder()),
            self.settings.autosave_seconds, self,
        )
        self.loading: Path | None = None  # a file being read on a worker thread
        self._hovered_message = ""
        self.piano_roll = PianoRoll(self.document, self)
        self.setCentralWidget(self.piano_roll)
        self.overview = SongOverview(self)
        self.playback = Playback(self.document, self.piano_roll.state, self.settings.audio(), self)
        self.transport = TransportBar(self.playback, self)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self.setAcceptDrops(True)
        place_on_screen(self, self.screen().availableGeometry())
        self.document.songChanged.connect(self._song_changed)
        self.document.fileChanged.connect(self._update_title)
        self.autosaver.failed.connect(lambda why: self.statusBar().showMessage(f"Autosave failed: {why}", 10000))
        self.overview.trackActivated.connect(self.document.set_active_track)
        self.piano_roll.keyPressed.connect(self.playback.key_down)
        self.piano_roll.keyReleased.connect(self.playback.key_up)
        self.piano_roll.noteAuditioned.connect(self.playback.audition)
        self.piano_roll.noteHovered.connect(self._show_hovered_note)
        self.docks["spectrogram"].visibilityChanged.connect(self._spectrogram_visibility)
        self.playback.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.playback.bufferRaised.connect(self.settings.set_blocksize)
        self.playback.stateChanged.connect(self._audio_changed)
        self.document.selectionChanged.connect(lambda: self.overview.set_active_track(self.document.active_track))
        self._restore_layout()
        self._song_changed()
        self._update_title()

    # ----- construction -------------------------------------------------------------------

    def _add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea, shown: bool) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        dock.setVisible(shown)
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        self.transport_toolbar = QToolBar("Transport", self)
        self.transport_toolbar.setObjectName("transport")
        self.transport_toolbar.addWidget(self.transport)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.transport_toolbar)
        self.overview.setMinimumHeight(110)
        self._add_dock("overview", "Song", self.overview, Qt.DockWidgetArea.TopDockWidgetArea, True)
        # The left column (tracks) runs to the bottom, so the spectrogram sits right under the roll.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.spectrogram = SpectrogramPanel(self.document, self.piano_roll, self.playback, self)
        self.spectrogram.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._add_dock("spectrogram", "Spectrogram", self.spectrogram, Qt.DockWidgetArea.BottomDockWidgetArea, False)
        self.track_list = TrackListPanel(self.document, parent=self)
        self._add_dock("tracks", "Tracks", self.track_list, Qt.DockWidgetArea.LeftDockWidgetArea, True)
        self.runner = ModelRunner(self)
        self.arcnn_panel, self.takes = build_arcnn(self, self.document, self.runner, self.piano_roll, self.playback,
                                                   self.settings)
        self.arcnn_panel.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._add_dock("arcnn", "AR-CNN", self.arcnn_panel, Qt.DockWidgetArea.RightDockWidgetArea, False)
        self.arcnn_panel.run_action.triggered.connect(self.docks["arcnn"].show)
        self.addActions([self.arcnn_panel.run_action, self.arcnn_panel.heat_action])
        self.transformer_panel = TransformerPanel(self.document, self.runner, self.takes, self.arcnn_panel.display,
                                                  self.piano_roll.state, self.settings, self)
        self.transformer_panel.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._add_dock("transformer", "Transformer", self.transformer_panel, Qt.DockWidgetArea.RightDockWidgetArea,
                       False)
        self.tabifyDockWidget(self.docks["arcnn"], self.docks["transformer"])
        for action in (self.transformer_panel.continue_action, self.transformer_panel.fill_action):
            action.triggered.connect(self.docks["transformer"].show)
            action.triggered.connect(self.docks["transformer"].raise_)
        self.addActions([self.transformer_panel.continue_action, self.transformer_panel.fill_action])
        self.accompany_panel = AccompanyPanel(self.document, self.runner, self.takes, self.arcnn_panel.display,
                                              self.settings, self)
        self.accompany_panel.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._add_dock("accompany", "Accompany", self.accompany_panel, Qt.DockWidgetArea.RightDockWidgetArea, False)
        self.tabifyDockWidget(self.docks["transformer"], self.docks["accompany"])
        self.accompany_panel.run_action.triggered.connect(self.docks["accompany"].show)
        self.accompany_panel.run_action.triggered.connect(self.docks["accompany"].raise_)
        self.addAction(self.accompany_panel.run_action)
        self.dataset_view = self.training_panel = None  # built when one of their docks is first shown
        for name, title in (("dataset", "Dataset"), ("training", "Training")):
            dock = self._add_dock(name, title, QWidget(self), Qt.DockWidgetArea.BottomDockWidgetArea, False)
            dock.visibilityChanged.connect(lambda visible: visible and self.model_views())
        self.tabifyDockWidget(self.docks["dataset"], self.docks["training"])
        self.resizeDocks([self.docks["overview"]], [150], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["tracks"]], [300], Qt.Orientation.Horizontal)

    def _action(self, text: str, slot: Callable, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_new = self._action("&New", self.new_document, K.New, "Start an empty song")
        self.act_open = self._action("&Open…", self.choose_and_open, K.Open, "Open a project, MIDI or MusicXML file")
        self.act_save = self._action("&Save", self.save, K.Save, "Save the project")
        self.act_save_as = self._action("Save &As…", self.save_as, K.SaveAs, "Save the project under a new name")
        self.act_import = self._action("&Import MIDI/MusicXML…", self.choose_and_import, "Ctrl+I",
                                       "Open a MIDI or MusicXML file as a new, untitled project")
        self.act_export_midi = self._action("&Export MIDI…", self.export_midi, "Ctrl+E", "Write the song as a MIDI file")
        self.act_quit = self._action("&Quit", self.close, "Ctrl+Q", "Close the window")
        self.act_export_audio = {
            scope: self._action(f"Export Audio: {label}…", lambda s=scope: self.export_audio(s),
                                "Ctrl+Shift+E" if scope == "song" else None,
                                f"Render the {label.lower()} to a WAV or FLAC file")
            for scope, label in SCOPES.items()
        }
        self.act_play = self._action("Play / Stop", lambda: self.playback.toggle(), "Space",
                                     "Start or stop playback from the playhead")
        self.act_play.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.act_audio_settings = self._action("&Audio and MIDI Settings…", self.show_audio_settings, "Ctrl+,",
                                               "Output device, buffer size, SoundFont, MIDI ports")
        self.act_undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(K.Undo)
        self.act_redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_shortcuts = self._action("&Keyboard Shortcuts", self.show_shortcuts, "F1", "List every shortcut")
        self.act_about = self._action("&About", self.show_about)
        self.act_reset_layout = self._action("&Reset Layout", self.reset_layout, tip="Put every panel back in place")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.act_new, self.act_open])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.act_save, self.act_save_as])
        file_menu.addSeparator()
        file_menu.addActions([self.act_import, self.act_export_midi])
        file_menu.addActions(list(self.act_export_audio.values()))
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.act_undo, self.act_redo])
        edit_menu.addSeparator()
        tools_menu = edit_menu.addMenu("&Tools")
        tools_menu.addActions(list(self.piano_roll.tool_actions.values()))
        edit_menu.addActions(self.piano_roll.edit_actions)
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_audio_settings)
        transport_menu = bar.addMenu("&Transport")
        transport_menu.addAction(self.act_play)
        transport_menu.addActions(self.transport.actions_for_menu())
        models_menu = bar.addMenu("&Models")
        models_menu.addActions([self.docks["arcnn"].toggleViewAction(), self.arcnn_panel.run_action,
                                self.arcnn_panel.heat_action])
        models_menu.addSeparator()
        models_menu.addActions([self.docks["transformer"].toggleViewAction(), self.transformer_panel.continue_action,
                                self.transformer_panel.fill_action])
        models_menu.addSeparator()
        models_menu.addActions([self.docks["accompany"].toggleViewAction(), self.accompany_panel.run_action])
        models_menu.addSeparator()
        models_menu.addActions([self.docks["dataset"].toggleViewAction(), self.docks["training"].toggleViewAction()])
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.transport_toolbar.toggleViewAction())
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.act_reset_layout)
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.act_shortcuts, self.act_about])
        self._fill_recent_menu()

    def _build_status_bar(self) -> None:
        self.summary_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        self.audio_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.summary_label)
        self.statusBar().addPermanentWidget(self.audio_label)

    def _restore_layout(self) -> None:
        self._default_state = self.saveState(LAYOUT_VERSION)
        geometry, state = self.settings.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)

    def model_views(self):
        """The dataset view and the training panel, built the first time one of their docks is shown
        (pyqtgraph and the models load then, not at start-up)."""
        if self.dataset_view is None:
            from desktop_app.ui.models.dataset_view import DatasetView
            from desktop_app.ui.models.training_panel import TrainingPanel

            self.dataset_view = DatasetView(self.runner, self)
            self.training_panel = TrainingPanel(self.runner, self.settings, self, pieces_for=self.dataset_view.pieces_of)
            for view in (self.dataset_view, self.training_panel):
                view.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
            self.dataset_view.pieceActivated.connect(lambda path: self.open_file(Path(path)))
            self.dataset_view.datasetChanged.connect(
                lambda _d: self.training_panel.refresh_datasets(select=self.dataset_view.built_as))
            self.training_panel.useInEditor.connect(self._use_in_editor)
            self.docks["dataset"].setWidget(self.dataset_view)
            self.docks["training"].setWidget(self.training_panel)
            docks = [self.docks["dataset"], self.docks["training"]]
            self.resizeDocks(docks, [self.height() // 2] * 2, Qt.Orientation.Vertical)  # room for the plots
        return self.dataset_view, self.training_panel

    def _use_in_editor(self, model: str, checkpoint: str) -> None:
        """A trained model chosen in the training panel: its editor panel loads it now."""
        if model == "arcnn":
            self.arcnn_panel.load_checkpoint(Path(checkpoint), remember=True)
        elif model == "transformer":
            self.transformer_panel.load_checkpoint(Path(checkpoint), remember=True)
        elif model == "gan":
            self.accompany_panel.load_checkpoint(Path(checkpoint), remember=True)

    # ----- views follow the document ------------------------------------------------------

    def _song_changed(self) -> None:
        song = self.document.song
        self.overview.set_song(song)
        self.overview.set_active_track(self.document.active_track)
        self.summary_label.setText(song_summary(song))

    def _show_hovered_note(self, text: str) -> None:
        """The note under the mouse in the status bar; leaving it clears only that message."""
        bar = self.statusBar()
        if text:
            bar.showMessage(text)
        elif bar.currentMessage() == self._hovered_message:
            bar.clearMessage()
        self._hovered_message = text

    def _spectrogram_visibility(self, visible: bool) -> None:
        """When the spectrogram opens, share the height so the roll keeps two octaves of rows."""
        if visible:
            QTimer.singleShot(0, self._share_with_spectrogram)

    def _share_with_spectrogram(self) -> None:
        share_with_spectrogram(self)
        QTimer.singleShot(0, lambda: self.piano_roll.fit_rows(ROLL_ROWS))

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.dirty)

    def _show_loaded(self, project: Project, path: Path | None, dirty: bool = False, untitled_name: str = "Untitled") -> None:
        self._reset_transport()
        self.document.load(project.song, path, project.view, dirty=dirty, untitled_name=untitled_name)
        self.piano_roll.request_fit()

    def _reset_transport(self) -> None:
        """A song that replaces another starts at its beginning, with no loop left from the old one."""
        self.playback.pause()
        self.playback.return_to_start()
        self.piano_roll.state.set_loop(None)

    # ----- opening ------------------------------------------------------------------------

    def maybe_save(self) -> bool:
        """Ask to save unsaved work; False means the user cancelled."""
        if not self.document.dirty:
            return True
        choice = self.dialogs.ask_save_changes(self.document.display_name)
        if choice is SaveChoice.SAVE:
            return self.save()
        return choice is SaveChoice.DISCARD

    def new_document(self) -> None:
        if self.loading is None and self.maybe_save():
            self._reset_transport()
            self.document.load(Song(), None)
            self.autosaver.discard()

    def choose_and_open(self) -> None:
        path = self.dialogs.open_path("Open", self.settings.last_folder, OPEN_FILTERS)
        if path:
            self.open_file(Path(path))

    def choose_and_import(self) -> None:
        path = self.dialogs.open_path("Import MIDI or MusicXML", self.settings.last_folder, IMPORT_FILTERS)
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path) -> bool:
        """Open `path` on a worker thread (a project keeps its path; MIDI and MusicXML open as new
        untitled projects). Returns False when nothing was started: the user cancelled, or
        another file is still loading."""
        if self.loading is not None or not self.maybe_save():
            return False
        path = Path(path)
        self.loading = path
        self.progress.setVisible(True)
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._set_file_actions_enabled(False)
        run_in_background(lambda: _read_prepared(path), lambda p: self.show_opened(path, p),
                          lambda e: self._open_failed(path, e), owner=self)
        return True

    def _finish_loading(self) -> None:
        self.loading = None
        self.progress.setVisible(False)
        self._set_file_actions_enabled(True)

    def _set_file_actions_enabled(self, enabled: bool) -> None:
        for action in (self.act_new, self.act_open, self.act_import):
            action.setEnabled(enabled)

    def show_opened(self, path: Path, project: Project) -> None:
        """Make the project read from `path` the open document."""
        self._finish_loading()
        if is_project_path(path):
            self._show_loaded(project, path)
        else:
            self._show_loaded(project, None, untitled_name=f"{project.song.title or path.stem} (imported)")
        self.autosaver.discard()
        self.settings.add_recent(path)
        self.settings.set_last_folder(path.parent)
        self.statusBar().showMessage(f"Opened {path.name}", 5000)

    def _open_failed(self, path: Path, error: Exception) -> None:
        self._finish_loading()
        self.statusBar().showMessage(f"Could not open {path.name}", 5000)
        if isinstance(error, MusicFileError):
            text = f"{error.path}\n\n{error.reason[:1].upper()}{error.reason[1:]}."
        else:
            text = f"{path}\n\nAn unexpected error stopped the import: {type(error).__name__}: {error}"
        self.dialogs.error("Cannot open file", text)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for i, entry in enumerate(recent):
            action = self.recent_menu.addAction(f"&{(i + 1) % 10} {Path(entry).name}")
            action.setToolTip(entry)
            action.setStatusTip(entry)
            action.triggered.connect(lambda _c=False, p=entry: self._open_recent(p))
        if recent:
            self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear Recent Files")
        clear.setEnabled(bool(recent))
        clear.triggered.connect(self.settings.clear_recent)

    def _open_recent(self, entry: str) -> None:
        if not Path(entry).exists():
            self.settings.remove_recent(entry)
            self.dialogs.error("Cannot open file", f"{entry}\n\nThe file no longer exists; it was removed from the list.")
            return
        self.open_file(Path(entry))

    def open_demo(self) -> None:
        """Open the shipped demo seed as a new untitled song."""
        if self.loading is not None or not self.maybe_save():
            return
        try:
            project = read_any(DEMO_SEED)
        except MusicFileError as e:
            self._open_failed(DEMO_SEED, e)
            return
        self._show_loaded(project, None, untitled_name=project.song.title or "Demo")
        self.autosaver.discard()

    def offer_recovery(self) -> bool:
        """After a crash, offer back the autosaved work of instances that died (never of one still
        running). True if some was restored. An unusable recovery file is reported once and set
        aside, so that start-up goes on."""
        restored = False
        for orphan in orphaned_recovery_files(self.autosaver.folder):
            if restored:
                orphan.let_go()  # one document per window: offered again at the next start
            else:
                restored = self._offer_recovery_file(orphan)
        return restored

    def _offer_recovery_file(self, orphan: RecoveryFile) -> bool:
        try:
            project, original = read_recovery(orphan.path)
        except MusicFileError as e:
            self._recovery_failed(orphan, e.reason)
            return False
        what = f"changes to “{original.name}”" if original else "an untitled song"
        if not self.dialogs.ask_restore(what):
            orphan.forget()
            return False
        try:
            self._show_loaded(project, original, dirty=True)
        except Exception as e:  # whatever a dead instance left must not stop this one starting
            self.document.load(Song(), None)
            self._recovery_failed(orphan, f"restoring it failed: {type(e).__name__}: {e}")
            return False
        self.autosaver.adopt(orphan)
        self.statusBar().showMessage("Restored unsaved work", 5000)
        return True

    def _recovery_failed(self, orphan: RecoveryFile, reason: str) -> None:
        bad = orphan.set_aside()
        self.dialogs.error(
            "Cannot restore unsaved work",
            f"{orphan.path}\n\n{reason[:1].upper()}{reason[1:]}.\nThe file was set aside as {bad.name}.",
        )

    # ----- saving -------------------------------------------------------------------------

    def _project(self) -> Project:
        view = dict(self.document.view_state)
        view["active_track"] = self.document.active_track
        return Project(self.document.song, view)

    def save(self) -> bool:
        path = self.document.path
        if path is None or not is_project_path(path):
            return self.save_as()
        return self._write_project(path)

    def save_as(self) -> bool:
        current = self.document.path
        stem = current.stem if current else (self.document.song.title or "Untitled")
        folder = current.parent if current else Path(self.settings.last_folder)
        chosen = self.dialogs.save_path("Save Project", str(folder / f"{stem}{PROJECT_EXTENSION}"), PROJECT_FILTER)
        if not chosen:
            return False
        path = Path(chosen)
        if path.suffix.lower() != PROJECT_EXTENSION:
            path = path.with_name(path.name + PROJECT_EXTENSION)
        return self._write_project(path)

    def _write_project(self, path: Path) -> bool:
        try:
            write_project(self._project(), path)
        except MusicFileError as e:
            self.dialogs.error("Cannot save", f"{e.path}\n\n{e.reason}")
            return False
        self.document.mark_saved(path)
        self.autosaver.discard()
        self.settings.add_recent(path)
        self.settings.set_last_folder(path.parent)
        self.statusBar().showMessage(f"Saved {path.name}", 5000)
        return True

    def export_midi(self) -> bool:
        stem = self.document.path.stem if self.document.path else (self.document.song.title or "Untitled")
        chosen = self.dialogs.save_path("Export MIDI", str(Path(self.settings.last_folder) / f"{stem}.mid"), MIDI_FILTER)
        if not chosen:
            return False
        path = Path(chosen)
        if path.suffix.lower() not in MIDI_EXTENSIONS:
            path = path.with_name(path.name + ".mid")
        try:
            write_midi(self.document.song, path)
        except MusicFileError as e:
            self.dialogs.error("Cannot export MIDI", f"{e.path}\n\n{e.reason}")
            return False
        self.statusBar().showMessage(f"Exported {path.name}", 5000)
        return True

    # ----- help ---------------------------------------------------------------------------

    def shortcut_actions(self) -> list[QAction]:
        return (self.actions() + [self.act_undo, self.act_redo] + self.piano_roll.actions()
                + self.transport.actions_for_menu())

    # ----- sound --------------------------------------------------------------------------

    def _audio_changed(self) -> None:
        pb = self.playback
        if pb.available:
            self.audio_label.setText(f"♪ {pb.output.device_name} · {pb.output.latency * 1000:.0f} ms")
            self.audio_label.setToolTip("Audio output")
        else:
            self.audio_label.setText("No audio output")
            self.audio_label.setToolTip(f"{pb.unavailable}. Rendering and export still work.")

    def export_audio(self, scope: str = "song") -> None:
        doc = self.document
        try:
            song, start, end = song_for_scope(doc.song, scope, doc.active_track, doc.selection,
                                              self.piano_roll.state.loop)
        except ValueError as e:
            self.dialogs.error("Nothing to export", str(e))
            return
        stem = doc.path.stem if doc.path else (doc.song.title or "Untitled")
        chosen = self.dialogs.save_path("Export Audio", str(Path(self.settings.last_folder) / f"{stem}.wav"),
                                        "Audio files (*.wav *.flac)")
        if not chosen:
            return
        path = Path(chosen)
        if path.suffix.lower() not in (".wav", ".flac"):
            path = path.with_name(path.name + ".wav")
        export_audio(self, self.statusBar(), self.progress, path, song, self.playback.settings, start, end,
                     lambda text: self.dialogs.error("Cannot export audio", text))

    def show_audio_settings(self) -> None:
        dialog = AudioSettingsDialog(self.playback.prefs, self)
        if dialog.exec():
            prefs = dialog.prefs()
            self.settings.set_audio(prefs)
            self.playback.prefs = prefs
            self.playback.start()

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.shortcut_actions(), self).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<br>A music-composition workstation with a piano roll, "
            f"playback, a spectrogram and three models that write with you: an AR-CNN that edits, "
            f"a transformer that continues and fills bars, a GAN that harmonises.<br><br>"
            f"Python {platform.python_version()} · Qt for Python {pyside_version}",
        )

    # ----- window events ------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if any(u.isLocalFile() and can_read(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile() and can_read(u.toLocalFile())]
        if paths:
            event.acceptProposedAction()
            self.open_file(Path(paths[0]))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.training_active and not self.dialogs.ask_stop_training():
            event.ignore()
            return
        if not self.maybe_save():
            event.ignore()
            return
        self.settings.set_window_layout(self.saveGeometry(), self.saveState(LAYOUT_VERSION))
        self.settings.sync()
        self.autosaver.stop()
        self.settings.set_audio(self.playback.prefs)
        self.playback.close()
        self.runner.shutdown()
        QThreadPool.globalInstance().waitForDone(5000)  # a recovery write in flight must not outlive discard
        self.autosaver.close()
        event.accept()
