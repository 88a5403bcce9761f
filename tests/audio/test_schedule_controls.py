"""Playback plays what MIDI export writes (issue 8, points 2 and 3): the key events of
music/sounding.py, program changes in the middle of a track and the sustain pedal (CC64), chased
after a seek and lifted on pause."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.render import SynthSettings, render_song
from desktop_app.audio.schedule import CONTROL_CHANGE, NOTE_OFF, NOTE_ON, PROGRAM, build_schedule
from desktop_app.music.controls import ControlChange, ProgramChange
from desktop_app.music.note import Note
from desktop_app.music.track import Track

from audio_helpers import FakeSynth, drive, melody, samples, song_of

RATE = 44_100


class Recorder(FakeSynth):
    """A fake synth that also logs program changes and controller moves with their frame."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[tuple] = []

    def set_program(self, channel: int, program: int) -> None:
        super().set_program(channel, program)
        self.changes.append(("program", channel, program, self.frame))

    def set_drum_channel(self, channel: int, program: int = 0) -> None:
        super().set_drum_channel(channel, program)
        self.changes.append(("drum", channel, program, self.frame))

    def control(self, channel: int, control: int, value: int) -> None:
        super().control(channel, control, value)
        self.changes.append(("cc", channel, control, value, self.frame))

    def program_of(self, channel: int) -> int:
        return [c[2] for c in self.changes if c[0] in ("program", "drum") and c[1] == channel][-1]


def strings_then_flute():
    viola = melody((60, 0, 480), (62, 480, 480), (64, 960, 480), program=41, channel=0)
    return song_of(replace(viola, programs=(ProgramChange(480, 73), ProgramChange(960, 41))))


def test_program_changes_are_scheduled_at_their_tick_before_the_notes_there():
    song = strings_then_flute()
    schedule = build_schedule(song, RATE)
    at = schedule.time == samples(song, 480, RATE)
    assert schedule.kind[at].tolist() == [NOTE_OFF, PROGRAM, NOTE_ON]
    assert schedule.key[schedule.kind == PROGRAM].tolist() == [73, 41]


def test_program_changes_play_at_their_frame():
    song = strings_then_flute()
    synth = Recorder()
    engine = Engine(synth, build_schedule(song, RATE))
    engine.play()
    drive(engine, samples(song, 1440, RATE) + 256, 256)
    played = [(c[2], c[3]) for c in synth.changes if c[0] == "program"][-2:]
    assert played == [(73, samples(song, 480, RATE)), (41, samples(song, 960, RATE))]


def test_a_seek_past_a_program_change_plays_with_that_program():
    song = strings_then_flute()
    synth = Recorder()
    engine = Engine(synth, build_schedule(song, RATE))
    engine.seek(samples(song, 600, RATE))
    engine.play()
    drive(engine, 256, 256)
    assert synth.program_of(0) == 73
    # And back to the start: the track's own program again.
    engine.seek(0)
    drive(engine, 256, 256)
    assert synth.program_of(0) == 41


def test_the_sustain_pedal_is_played_and_lifted_on_pause():
    piano = replace(melody((48, 0, 240)), controls=(ControlChange(0, 64, 127), ControlChange(1920, 64, 0)))
    song = song_of(piano)
    schedule = build_schedule(song, RATE)
    assert schedule.kind.tolist().count(CONTROL_CHANGE) == 2
    synth = Recorder()
    engine = Engine(synth, schedule)
    engine.play()
    drive(engine, samples(song, 480, RATE), 256)
    assert ("cc", 0, 64, 127, 0) in synth.changes
    engine.pause()
    drive(engine, 256, 256)
    assert synth.changes[-1][:4] == ("cc", 0, 64, 0)  # nothing rings on after a pause


def test_notes_of_one_key_that_start_together_are_not_cut_in_playback():
    # A zero-length grace note and a held note of one key at one tick; two held notes together.
    song = song_of(melody((62, 480, 0), (62, 480, 480), (60, 0, 960), (60, 0, 240)))
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE))
    engine.play()
    drive(engine, samples(song, 960, RATE) + 256, 256)
    offs = [(frame, key) for frame, _, key in synth.offs()]
    assert offs == [(samples(song, 480, RATE), 62), (samples(song, 960, RATE), 60), (samples(song, 960, RATE), 62)]


def test_the_sustain_pedal_holds_the_sound_in_a_render(soundfont):
    note = Track(program=0, notes=(Note(60, 0, 120, 100),))
    pedalled = replace(note, controls=(ControlChange(0, 64, 127), ControlChange(2880, 64, 0)))
    settings = SynthSettings(reverb=False)
    dry = render_song(song_of(note), settings, end_tick=1920, tail_seconds=0.0)
    held = render_song(song_of(pedalled), settings, end_tick=1920, tail_seconds=0.0)
    rate = settings.sample_rate
    late = slice(int(0.6 * rate), int(1.0 * rate))  # well after the key is released at 0.125 s
    rms = lambda a: float(np.sqrt(np.mean(a[late].astype(np.float64) ** 2)))
    assert rms(held) > 10 * max(rms(dry), 1e-6)


@pytest.mark.parametrize("drum", [False, True])
def test_a_program_change_on_a_drum_track_selects_a_kit(drum):
    kit = Track(channel=9 if drum else 0, is_drum=drum, programs=(ProgramChange(480, 25),),
                notes=(Note(38, 0, 60), Note(38, 480, 60)))
    synth = Recorder()
    engine = Engine(synth, build_schedule(song_of(kit), RATE))
    engine.play()
    drive(engine, samples(song_of(kit), 600, RATE), 256)
    assert synth.changes[-1][:3] == (("drum" if drum else "program"), 0, 25)
