"""The audio engine: one function, `process`, fills a block of stereo frames. It drains the
commands the GUI queued (play, seek, new schedule, live notes), splits the block at each event's
exact sample offset, and renders the synth into the buffer between them. The real-time stream
callback and the offline renderer both call it, so a render sounds exactly like playback.

Real-time rules: the GUI talks to it only through a deque (append and popleft are atomic) and by
reading the `clock` tuple it replaces in one assignment; process() takes no lock, logs nothing,
touches no file and makes no arrays."""

from __future__ import annotations

from collections import deque
from typing import Protocol

import numpy as np

from desktop_app.audio.schedule import CONTROL_CHANGE, NOTE_ON, PROGRAM, Schedule
from desktop_app.audio.synth import METRONOME_CHANNEL
from desktop_app.music.controls import SUSTAIN_PEDAL

RELEASE_TAIL_SECONDS = 2.0  # playback keeps going this long past the last note, for releases


class SynthLike(Protocol):
    def note_on(self, channel: int, key: int, velocity: int) -> None: ...
    def note_off(self, channel: int, key: int) -> None: ...
    def control(self, channel: int, control: int, value: int) -> None: ...
    def set_program(self, channel: int, program: int) -> None: ...
    def set_drum_channel(self, channel: int, program: int = 0) -> None: ...
    def render(self, out: np.ndarray, start: int, count: int) -> None: ...


class Engine:
    def __init__(self, synth: SynthLike, schedule: Schedule) -> None:
        self.synth = synth
        self.schedule = schedule
        self.sample_rate = schedule.sample_rate
        self.commands: deque = deque()
        self.playing = False
        self.position = 0  # the song sample the next rendered frame belongs to
        self.return_position = 0  # where Stop goes back to
        self.loop: tuple[int, int] | None = None
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, key) -> notes held
        self.live: set[tuple[int, int]] = set()
        self.pedals: set[int] = set()  # channels whose sustain pedal the song holds down
        self.clip: np.ndarray | None = None  # (n, 2) float32 audio mixed in from song sample 0
        self.events_out: deque | None = None  # when set, applied events go here for MIDI out
        self.ended = False  # playback ran past the end and stopped by itself
        self._next = 0  # index of the next schedule event
        self._changed = False  # whether a program or controller change moved a channel off its set-up
        self.clock = (0, 0.0, False)  # (song sample at block start, DAC time of that block, playing)
        self._setup_channels(schedule)

    # ----- commands, called from any thread ----------------------------------------------

    def play(self) -> None:
        self.commands.append(("play",))

    def pause(self) -> None:
        self.commands.append(("pause",))

    def stop(self) -> None:
        self.commands.append(("stop",))

    def seek(self, sample: int) -> None:
        self.commands.append(("seek", int(sample)))

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        self.commands.append(("loop", loop))

    def set_schedule(self, schedule: Schedule) -> None:
        self.commands.append(("schedule", schedule))

    def live_note_on(self, channel: int, key: int, velocity: int) -> None:
        self.commands.append(("on", channel, key, velocity))

    def live_note_off(self, channel: int, key: int) -> None:
        self.commands.append(("off", channel, key))

    def set_clip(self, clip: np.ndarray | None) -> None:
        """Audio (an imported recording, a reconstruction) that plays along from sample 0."""
        self.commands.append(("clip", clip))

    def call(self, fn, *args) -> None:
        """Run a synth setting change (gain, reverb, program) between two blocks."""
        self.commands.append(("call", fn, args))

    # ----- the block ----------------------------------------------------------------------

    def process(self, out: np.ndarray, frames: int, dac_time: float = 0.0) -> None:
        """Fill out[:frames] (a C-contiguous float32 (n, 2) array) with the next block."""
        commands = self.commands
        while commands:
            self._apply(commands.popleft())
        self.clock = (self.position, dac_time, self.playing)
        if not self.playing:
            self.synth.render(out, 0, frames)
            return
        synth = self.synth
        cursor = 0  # frames of the block already rendered
        while cursor < frames:
            sched = self.schedule
            pos = self.position
            seg_end = pos + (frames - cursor)  # the song sample this segment stops at
            wrap = self.loop is not None and pos < self.loop[1] <= seg_end
            if wrap:
                seg_end = self.loop[1]
            start = cursor
            times = sched.time
            i, n = self._next, len(times)
            while i < n and times[i] < seg_end:
                at = start + int(times[i]) - pos
                if at > cursor:
                    synth.render(out, cursor, at - cursor)
                    cursor = at
                self._event(sched, i)
                i += 1
            stop = start + (seg_end - pos)
            if stop > cursor:
                synth.render(out, cursor, stop - cursor)
            clip = self.clip
            if clip is not None:
                a, b = max(pos, 0), min(seg_end, len(clip))
                if b > a:
                    out[start + a - pos : start + b - pos] += clip[a:b]
            cursor = stop
            self.position, self._next = seg_end, i
            if wrap:
                self._release()
                self.position = self.loop[0]
                self._next = sched.index_at(self.position)
                self._chase()
        if self.loop is None and self.position > self.schedule.end + RELEASE_TAIL_SECONDS * self.sample_rate:
            self._release()
            self.playing = False
            self.ended = True

    def _event(self, sched: Schedule, i: int) -> None:
        channel, key = int(sched.channel[i]), int(sched.key[i])
        held = self.sounding
        kind = sched.kind[i]
        if kind > NOTE_ON:
            self._change(int(kind), channel, key, int(sched.velocity[i]))
            return
        if kind == NOTE_ON:
            self.synth.note_on(channel, key, int(sched.velocity[i]))
            held[(channel, key)] = held.get((channel, key), 0) + 1
        else:
            self.synth.note_off(channel, key)
            count = held.get((channel, key), 0)
            if count > 1:
                held[(channel, key)] = count - 1
            else:
                held.pop((channel, key), None)
        if self.events_out is not None:
            self.events_out.append((int(sched.kind[i]), channel, key, int(sched.velocity[i])))

    def _change(self, kind: int, channel: int, key: int, value: int) -> None:
        """A program change (`value` 1 on a drum channel) or a controller move."""
        self._changed = True
        if kind == PROGRAM:
            if value:
                self.synth.set_drum_channel(channel, key)
            else:
                self.synth.set_program(channel, key)
        elif kind == CONTROL_CHANGE:
            self.synth.control(channel, key, value)
            if key == SUSTAIN_PEDAL:
                if value >= 64:
                    self.pedals.add(channel)
                else:
                    self.pedals.discard(channel)

    def _chase(self) -> None:
        """Give every channel the program and controller values the song has at the position, as
        a player does when it starts in the middle (after a seek, a loop wrap, a new schedule)."""
        changes = self.schedule.changes_before(self.position)
        if changes or self._changed:
            self._setup_channels(self.schedule)
            for kind, channel, key, value in changes:
                self._change(kind, channel, key, value)
        self._changed = bool(changes)

    def _release(self) -> None:
        """Note-off for every note the song left sounding (a loop wrap, a stop, a new schedule),
        and the sustain pedal up where the song held it down."""
        for channel in self.pedals:
            self.synth.control(channel, SUSTAIN_PEDAL, 0)
        self.pedals.clear()
        for channel, key in self.sounding:
            self.synth.note_off(channel, key)
            if self.events_out is not None:
                self.events_out.append((0, channel, key, 0))
        self.sounding.clear()

    def _apply(self, command: tuple) -> None:
        name = command[0]
        if name == "play":
            if not self.playing:
                self.return_position = self.position
                self.playing, self.ended = True, False
                self._next = self.schedule.index_at(self.position)
                self._chase()
        elif name == "pause":
            self.playing = False
            self._release()
        elif name == "stop":
            self.playing = False
            self._release()
            self.position = self.return_position
        elif name == "seek":
            self._release()
            self.position = command[1]
            if not self.playing:
                self.return_position = command[1]
            self._next = self.schedule.index_at(self.position)
            if self.playing:
                self._chase()
        elif name == "loop":
            self.loop = command[1]
        elif name == "schedule":
            self._release()
            self.schedule = command[1]
            self._setup_channels(command[1])
            self._next = self.schedule.index_at(self.position)
            self._changed = False
            self._chase()
        elif name == "on":
            self.synth.note_on(command[1], command[2], command[3])
            self.live.add((command[1], command[2]))
        elif name == "off":
            self.synth.note_off(command[1], command[2])
            self.live.discard((command[1], command[2]))
        elif name == "clip":
            self.clip = command[1]
        elif name == "call":
            command[1](*command[2])

    def _setup_channels(self, schedule: Schedule) -> None:
        for setup in schedule.channels:
            if setup.is_drum:
                self.synth.set_drum_channel(setup.channel, setup.program)
            else:
                self.synth.set_program(setup.channel, setup.program)
            self.synth.control(setup.channel, 7, setup.volume)
            self.synth.control(setup.channel, 10, setup.pan)
        self.synth.set_drum_channel(METRONOME_CHANNEL, 0)
