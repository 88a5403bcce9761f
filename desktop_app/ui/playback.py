"""Playback for the window: keeps the engine's schedule in step with the document, runs the
transport, moves the playhead from the audio clock at 60 Hz, auditions keys and edited notes,
records from a MIDI keyboard into the active track as one undo step, and polls the output's
underflow (xrun) count, raising the buffer a step when they repeat."""

from __future__ import annotations

from collections import deque
import mido
from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.audio.buffer_policy import BufferPolicy
from desktop_app.audio.engine import Engine
from desktop_app.audio.midi_ports import MidiInput, MidiOutput, MidiUnavailable
from desktop_app.audio.render import SynthSettings
from desktop_app.audio.schedule import build_schedule, track_channel, with_count_in
from desktop_app.audio.stream import AudioOutput, AudioUnavailable
from desktop_app.audio.synth import METRONOME_CHANNEL, SynthUnavailable
from desktop_app.music import edits
from desktop_app.music.errors import MusicFileError
from desktop_app.music.note import Note
from desktop_app.music.snap import Snap
from desktop_app.music.song import Song
from desktop_app.ui.document import Document
from desktop_app.ui.piano_roll.state import RollState
from desktop_app.ui.settings import AudioPrefs

FRAME_MS = 16  # the playhead's refresh: about 60 Hz
AUDITION_MS = 250  # how long an edited note sounds


class Playback(QObject):
    stateChanged = Signal()  # playing, paused, stopped, recording, or the output came or went
    message = Signal(str)  # something for the status bar
    xrunsChanged = Signal(int)  # output underflows while playing since the audio started
    bufferRaised = Signal(int)  # the output reopened with this many frames a block, to be remembered

    def __init__(self, document: Document, roll: RollState, prefs: AudioPrefs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.roll = roll
        self.prefs = prefs
        self.engine: Engine | None = None
        self.output: AudioOutput | None = None
        self.unavailable: str | None = "audio is not started"
        self.loop_enabled = False
        self.is_playing = False  # the transport as the GUI sees it; the engine follows its commands
        self.audition_song: Song | None = None  # a take being auditioned plays instead of the song
        self._return_tick = 0
        self.recording_armed = False
        self._recorded: deque = deque()  # (sample, message) from the MIDI thread
        self._record_start: int | None = None
        self._midi_in: MidiInput | None = None
        self._midi_out: MidiOutput | None = None
        self._moving_playhead = False
        self._xruns_shown = 0
        self._realtime_shown: tuple[bool, str] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)
        self._rebuild = QTimer(self)
        self._rebuild.setSingleShot(True)
        self._rebuild.setInterval(0)
        self._rebuild.timeout.connect(self._rebuild_schedule)
        document.songChanged.connect(self._rebuild.start)
        roll.playheadMoved.connect(self._playhead_set_by_user)
        roll.loopChanged.connect(self._sync_loop)

    # ----- output -------------------------------------------------------------------------

    @property
    def settings(self) -> SynthSettings:
        p = self.prefs
        return SynthSettings(p.soundfont or None, p.sample_rate, p.gain, p.reverb)

    def start(self) -> bool:
        """Open the synth and the output device; on failure say why and keep going without."""
        self.close()
        try:
            synth = self.settings.make_synth()
        except (SynthUnavailable, MusicFileError) as e:
            return self._unavailable(str(e))
        self.engine = Engine(synth, self._schedule())
        try:
            self.output = AudioOutput(self.engine, self.prefs.device or None, self.prefs.blocksize,
                                      policy=BufferPolicy(self.prefs.blocksize))
        except AudioUnavailable as e:
            synth.close()
            self.engine = None
            return self._unavailable(str(e))
        self.unavailable = None
        self._xruns_shown, self._realtime_shown = 0, None
        self._sync_loop()
        self._open_midi()
        self._timer.start()
        self.message.emit(f"Audio: {self.output.device_name}, {self.prefs.sample_rate} Hz, "
                          f"{self.output.latency * 1000:.1f} ms")
        self.stateChanged.emit()
        return True

    def _unavailable(self, reason: str) -> bool:
        self.unavailable = reason
        self.message.emit(f"No audio output: {reason}. Export still works.")
        self.stateChanged.emit()
        return False

    def close(self) -> None:
        self._timer.stop()
        if self.is_playing:  # the output goes (lost, closed, restarted): playback stops, a take is kept
            self.is_playing = False
            self._finish_recording()
        for port in (self._midi_in, self._midi_out):
            if port is not None:
                port.close()
        self._midi_in = self._midi_out = None
        if self.output is not None:
            self.output.close()
            self.output = None
        if self.engine is not None:
            self.engine.synth.close()
            self.engine = None

    @property
    def available(self) -> bool:
        return self.engine is not None and self.output is not None

    @property
    def xruns(self) -> int:
        """Output underflows (gaps in the sound) while playing since the audio started."""
        return self.output.underflows if self.output is not None else 0

    def _watch_underflows(self) -> None:
        """Show new underflows; when they or near misses repeat, the output reopens with a larger
        buffer (the song plays on) and the new size is said in one line and remembered."""
        output = self.output
        if output.realtime != self._realtime_shown:  # the callback thread has asked: say what it got
            self._realtime_shown = output.realtime
            self.stateChanged.emit()
        if output.underflows != self._xruns_shown:
            self._xruns_shown = output.underflows
            self.xrunsChanged.emit(self._xruns_shown)
        raised = output.adapt()
        if raised is None:
            return
        self.prefs.blocksize = raised
        self.message.emit(f"Audio buffer raised to {raised} frames ({output.latency * 1000:.0f} ms) "
                          f"after the sound stalled more than once")
        self.bufferRaised.emit(raised)
        self.stateChanged.emit()

    def _open_midi(self) -> None:
        if self.prefs.midi_input:
            try:
                self._midi_in = MidiInput(self.prefs.midi_input, self.midi_message)
            except MidiUnavailable as e:
                self.message.emit(str(e))
        if self.prefs.midi_output:
            try:
                self._midi_out = MidiOutput(self.prefs.midi_output)
                self.engine.events_out = self._midi_out.events
            except MidiUnavailable as e:
                self.message.emit(str(e))

    # ----- time conversions ---------------------------------------------------------------

    def tick_to_sample(self, tick: float) -> int:
        return round(self.document.song.tempo_map.seconds(tick) * self.prefs.sample_rate)

    def sample_to_tick(self, sample: float) -> int:
        return int(self.document.song.tempo_map.ticks(max(0.0, sample) / self.prefs.sample_rate))

    # ----- transport ----------------------------------------------------------------------

    def toggle(self) -> None:
        """Space: play, or stop when playing."""
        if self.is_playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        if not self.available or self.is_playing:
            return
        engine = self.engine
        if self.roll.playhead >= self.document.song.end_tick > 0 and self.roll.loop is None:
            self._set_playhead(0)  # at the end (it ran out): play from the start again
        self._return_tick = self.roll.playhead
        start = self.tick_to_sample(self.roll.playhead)
        if self.prefs.count_in:
            schedule, begin = with_count_in(self._schedule(), self.document.song, start, self.roll.playhead,
                                            METRONOME_CHANNEL)
            engine.set_schedule(schedule)
            engine.seek(begin)
        else:
            engine.seek(start)
        if self.recording_armed:
            self._recorded.clear()
            self._record_start = start
        engine.play()
        self.is_playing = True
        self.stateChanged.emit()

    def pause(self) -> None:
        """Stop where we are."""
        if self.engine is None or not self.is_playing:
            return
        self.engine.pause()
        self.is_playing = False
        self._finish_recording()
        self._restore_schedule()
        self.stateChanged.emit()

    def stop(self) -> None:
        """Stop and go back to where playback started."""
        if self.engine is None:
            return
        was_playing = self.is_playing
        self.pause()
        if was_playing:
            self._set_playhead(self._return_tick)
            self.engine.seek(self.tick_to_sample(self._return_tick))

    def _restore_schedule(self) -> None:
        if self.prefs.count_in:  # drop the count-in clicks
            self.engine.set_schedule(self._schedule())

    def return_to_start(self) -> None:
        self._set_playhead(0)
        if self.engine is not None:
            self.engine.seek(0)

    def set_loop_enabled(self, on: bool) -> None:
        self.loop_enabled = on
        self._sync_loop()
        self.stateChanged.emit()

    def _sync_loop(self) -> None:
        if self.engine is None:
            return
        loop = self.roll.loop if self.loop_enabled else None
        self.engine.set_loop(None if loop is None else (self.tick_to_sample(loop[0]), self.tick_to_sample(loop[1])))

    def set_metronome(self, on: bool) -> None:
        self.prefs.metronome = on
        self._rebuild.start()

    def set_count_in(self, on: bool) -> None:
        self.prefs.count_in = on

    def set_clip(self, audio, sample_rate: int) -> bool:
        """Play `audio` ((n,) or (n, channels) float) along with the song from its start, resampled
        to the output rate; None removes it. False when there is no audio output."""
        if self.engine is None:
            return False
        if audio is None:
            self.engine.set_clip(None)
            return True
        import numpy as np

        from desktop_app.audio.spectrogram import resample_stereo

        self.engine.set_clip(np.ascontiguousarray(resample_stereo(audio, sample_rate, self.prefs.sample_rate)))
        return True

    def set_gain(self, gain: float) -> None:
        self.prefs.gain = gain
        if self.engine is not None:
            self.engine.call(self.engine.synth.set_gain, gain)

    def set_audition_song(self, song: Song | None) -> None:
        """Play `song` (a take) in place of the document's, from where playback is; None goes back."""
        if song is not self.audition_song:
            self.audition_song = song
            self._rebuild.start()

    def _schedule(self):
        song = self.document.song if self.audition_song is None else self.audition_song
        return build_schedule(song, self.prefs.sample_rate, self.prefs.metronome, METRONOME_CHANNEL)

    def _rebuild_schedule(self) -> None:
        """The song changed: play the new one from where we are (edits are heard while playing)."""
        if self.engine is not None:
            self.engine.set_schedule(self._schedule())
            self._sync_loop()

    # ----- the playhead -------------------------------------------------------------------

    def heard_tick(self) -> int:
        return self.sample_to_tick(self.output.heard_sample()) if self.output is not None else self.roll.playhead

    def _frame(self) -> None:
        if self.output is not None and self.output.lost:
            reason = self.output.lost
            output, self.output = self.output, None  # its clock is gone: the playhead stays where it was
            output.close()
            self.close()
            self._unavailable(reason)
            return
        if self._midi_out is not None:
            self._midi_out.pump()
        if self.output is not None:
            self._watch_underflows()
        if self.engine is None or not self.is_playing:
            return
        if self.engine.ended:  # ran past the end and stopped by itself
            self.engine.ended = False
            self.is_playing = False
            self._finish_recording()
            self._restore_schedule()
            self.stateChanged.emit()
        elif self.engine.clock[2]:
            self._set_playhead(self.heard_tick())

    def _set_playhead(self, tick: int) -> None:
        self._moving_playhead = True
        try:
            self.roll.set_playhead(tick)
        finally:
            self._moving_playhead = False

    def _playhead_set_by_user(self, tick: int) -> None:
        """A click on the ruler: playback jumps there."""
        if not self._moving_playhead and self.engine is not None:
            self.engine.seek(self.tick_to_sample(tick))

    # ----- audition -----------------------------------------------------------------------

    def _channel(self) -> int:
        return track_channel(self.document.active_track)

    def key_down(self, pitch: int, velocity: int = 100) -> None:
        if self.engine is not None:
            self.engine.live_note_on(self._channel(), pitch, velocity)

    def key_up(self, pitch: int) -> None:
        if self.engine is not None:
            self.engine.live_note_off(self._channel(), pitch)

    def audition(self, pitch: int, velocity: int) -> None:
        """A drawn, moved, resized or transposed note sounds briefly (when audition is on)."""
        if self.engine is None or not self.prefs.audition:
            return
        channel = self._channel()
        self.engine.live_note_on(channel, pitch, velocity)
        QTimer.singleShot(AUDITION_MS, lambda: self.engine and self.engine.live_note_off(channel, pitch))

    # ----- MIDI keyboard and recording ----------------------------------------------------

    def set_record_armed(self, on: bool) -> None:
        if not on:
            self._finish_recording()
        elif self.is_playing and self._record_start is None:  # armed while playing: record from here
            self._recorded.clear()
            self._record_start = self.tick_to_sample(self.heard_tick())
        self.recording_armed = on
        self.stateChanged.emit()

    def midi_message(self, message: mido.Message) -> None:
        """From the MIDI thread: sound the note at once, and stamp it for recording."""
        if message.type not in ("note_on", "note_off") or self.engine is None:
            return
        on = message.type == "note_on" and message.velocity > 0
        if on:
            self.engine.live_note_on(self._channel(), message.note, message.velocity)
        else:
            self.engine.live_note_off(self._channel(), message.note)
        if self.recording_armed and self._record_start is not None and self.output is not None:
            self._recorded.append((self.output.heard_sample(), on, message.note, message.velocity))

    def _finish_recording(self) -> None:
        """Put what was played into the active track as one undo step."""
        if self._record_start is None:
            return
        self._record_start = None
        notes = self.recorded_notes(list(self._recorded))
        self._recorded.clear()
        doc = self.document
        if not notes or not doc.song.tracks:
            return
        track = doc.song.tracks[doc.active_track]
        if self.prefs.record_quantize:
            notes = list(edits.quantize(track.with_notes(notes), None,
                                        Snap.resolve(self.roll.snap_choice, doc.song.ppq, 4.0).ticks).notes)
        first = len(track.notes)
        n = len(notes)
        doc.apply(f"Record {n} note{'s' * (n != 1)}", doc.song.with_track(doc.active_track, edits.add_notes(track, notes)),
                  selection=range(first, first + n))
        self.message.emit(f"Recorded {n} note{'s' * (n != 1)}")

    def recorded_notes(self, events: list[tuple[float, bool, int, int]]) -> list[Note]:
        """Pair stamped note-ons and note-offs into notes (first on, first off); a key still
        down when recording stops ends there."""
        held: dict[int, list[tuple[int, int]]] = {}
        notes: list[Note] = []
        last = 0
        for sample, on, key, velocity in sorted(events, key=lambda e: e[0]):
            tick = self.sample_to_tick(sample)
            last = max(last, tick)
            if on:
                held.setdefault(key, []).append((tick, velocity))
            elif held.get(key):
                start, vel = held[key].pop(0)
                notes.append(Note(key, start, max(1, tick - start), vel))
        stop = max(last, self.heard_tick())
        for key, starts in held.items():
            notes += [Note(key, start, max(1, stop - start), vel) for start, vel in starts]
        return sorted(notes, key=lambda n: (n.start, n.pitch))

