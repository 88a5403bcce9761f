"""The transport bar: return to start, play/pause, stop, loop, metronome, count-in, record,
the position in bars:beats and minutes, the tempo, the master volume, the audio status and the
output underflows (xruns), with the buffer size in its tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

from desktop_app.audio.buffer_policy import BLOCKSIZE_CAP
from desktop_app.ui.playback import Playback


def format_clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)}:{seconds % 60:06.3f}"


class TransportBar(QWidget):
    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        doc = playback.document
        icon = self.style().standardIcon
        self._icons = {"play": icon(QStyle.StandardPixmap.SP_MediaPlay), "pause": icon(QStyle.StandardPixmap.SP_MediaPause)}
        self.act_start = self._action("Start", "Return to start (Home)", "Home", playback.return_to_start)
        self.act_start.setIcon(icon(QStyle.StandardPixmap.SP_MediaSkipBackward))
        self.act_play = self._action("Play", "Play / pause (Space plays and stops)", None, self._play_pause)
        self.act_play.setIcon(self._icons["play"])
        self.act_stop = self._action("Stop", "Stop and return to where playback started", None, playback.stop)
        self.act_stop.setIcon(icon(QStyle.StandardPixmap.SP_MediaStop))
        self.act_loop = self._action("Loop", "Loop the region marked on the ruler", None, None, checkable=True)
        self.act_loop.toggled.connect(playback.set_loop_enabled)
        self.act_metronome = self._action("Click", "Metronome, accented on the first beat (M)", "M", None,
                                          checkable=True)
        self.act_metronome.setChecked(playback.prefs.metronome)
        self.act_metronome.toggled.connect(playback.set_metronome)
        self.act_count_in = self._action("Count-in", "One bar of clicks before playback starts", None, None,
                                         checkable=True)
        self.act_count_in.setChecked(playback.prefs.count_in)
        self.act_count_in.toggled.connect(playback.set_count_in)
        self.act_record = self._action("● Rec", "Arm recording from the MIDI keyboard into the active track (R)",
                                       "R", None, checkable=True)
        self.act_record.toggled.connect(playback.set_record_armed)
        self.position = QLabel(self)
        self.position.setMinimumWidth(190)
        self.position.setToolTip("Playhead: bar:beat:tick and minutes:seconds")
        self.tempo = QLabel(self)
        self.tempo.setToolTip("Tempo at the playhead, from the song")
        self.volume = QSlider(Qt.Orientation.Horizontal, self)
        self.volume.setRange(0, 100)
        self.volume.setValue(round(playback.prefs.gain * 100))
        self.volume.setMaximumWidth(120)
        self.volume.setToolTip("Master volume")
        self.volume.valueChanged.connect(lambda v: playback.set_gain(v / 100))
        self.status = QLabel(self)
        self.status.setStyleSheet("color: #777")
        self.xruns = QLabel(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for action in (self.act_start, self.act_play, self.act_stop, self.act_loop, self.act_metronome,
                       self.act_count_in, self.act_record):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            if not action.icon().isNull():
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            layout.addWidget(button)
        layout.addSpacing(12)
        layout.addWidget(self.position)
        layout.addWidget(self.tempo)
        layout.addStretch(1)
        layout.addWidget(QLabel("Volume", self))
        layout.addWidget(self.volume)
        layout.addWidget(self.status)
        layout.addWidget(self.xruns)
        playback.stateChanged.connect(self._sync)
        playback.xrunsChanged.connect(self._show_xruns)
        playback.roll.playheadMoved.connect(self._show_position)
        doc.songChanged.connect(lambda: self._show_position(playback.roll.playhead))
        self._sync()
        self._show_position(0)

    def _action(self, text, tip, key, slot, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        if key:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if slot is not None:
            action.triggered.connect(lambda _c=False: slot())
        return action

    def actions_for_menu(self) -> list[QAction]:
        return [self.act_start, self.act_play, self.act_stop, self.act_loop, self.act_metronome,
                self.act_count_in, self.act_record]

    def _play_pause(self) -> None:
        if self.playback.is_playing:
            self.playback.pause()
        else:
            self.playback.play()

    def _sync(self) -> None:
        pb = self.playback
        self.act_play.setText("Pause" if pb.is_playing else "Play")
        self.act_play.setIcon(self._icons["pause" if pb.is_playing else "play"])
        for action in (self.act_play, self.act_stop, self.act_start):
            action.setEnabled(pb.available)
        self.status.setText("● recording armed" if pb.recording_armed else
                            ("" if pb.available else "no audio output"))
        self.status.setToolTip(pb.unavailable or "")
        self._show_xruns()

    def _show_xruns(self) -> None:
        """Underflows while playing, as DAWs show xruns, red once there are some; the buffer size
        and the audio thread's priority in the tooltip."""
        output = self.playback.output
        self.xruns.setVisible(output is not None)
        if output is None:
            return
        n = self.playback.xruns
        self.xruns.setText(f"{n} xrun{'s' * (n != 1)}")
        self.xruns.setStyleSheet("color: #c33" if n else "color: #777")
        granted, what = output.realtime or (False, "not known yet")
        threads = ", ".join(output.client_threads)
        link = f"; its link to the sound server too ({threads})" if threads else ""
        self.xruns.setToolTip(
            f"Output underruns (xruns) while playing since the audio started: each one is a gap in the "
            f"sound. When they repeat, the buffer is raised a step (up to {BLOCKSIZE_CAP} frames) and "
            f"remembered.\nBuffer: {output.blocksize} frames, {output.latency * 1000:.1f} ms output latency."
            f"\nAudio thread: {'real-time priority' if granted else 'normal priority'} ({what}){link}.")

    def _show_position(self, tick: int) -> None:
        song = self.playback.document.song
        where = song.meter.bar_beat(tick)
        self.position.setText(f"{where.bar}:{where.beat}:{where.ticks:03d}   {format_clock(song.tempo_map.seconds(tick))}")
        self.tempo.setText(f"{song.tempo_map.bpm_at(tick):.1f} BPM")
