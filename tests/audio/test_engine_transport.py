"""Transport commands: pause, stop and seek release every held note; a new schedule while playing
releases and carries on from the same sample; live notes apply at the start of the next block;
the engine stops by itself past the end, but never while looping."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from desktop_app.audio.engine import RELEASE_TAIL_SECONDS, Engine
from desktop_app.audio.schedule import build_schedule

from audio_helpers import FakeSynth, drive, melody, samples, song_of

RATE = 48_000


@pytest.fixture
def song():
    # Two tracks; at tick 900 notes 60 (ch 0), 64 (ch 0) and 36 (ch 1) are held.
    return song_of(melody((60, 0, 1920), (64, 480, 960), (67, 1920, 480)),
                   melody((36, 0, 3840), program=32))


def _start(song, block=256, to_tick=900):
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE))
    engine.play()
    frames = samples(song, to_tick, RATE)
    drive(engine, frames, block)
    assert synth.sounding == {(0, 60), (0, 64), (1, 36)}
    return synth, engine, frames


@pytest.mark.parametrize("command", ["pause", "stop", "seek"])
def test_pause_stop_and_seek_release_every_held_note(song, command):
    synth, engine, frames = _start(song)
    synth.clear()
    if command == "seek":
        engine.seek(samples(song, 3000, RATE))  # past the note starts: nothing new strikes at once
    else:
        getattr(engine, command)()
    drive(engine, 256, 256)
    assert sorted(synth.offs()) == [(frames, 0, 60), (frames, 0, 64), (frames, 1, 36)]
    assert synth.ons() == []
    assert synth.sounding == set() and engine.sounding == {}


def test_pause_keeps_the_position_and_play_resumes_there(song):
    synth, engine, frames = _start(song)
    engine.pause()
    drive(engine, 10_000, 256)
    assert engine.position == frames and not engine.playing
    assert engine.clock == (frames, 0.0, False)
    synth.clear()
    engine.play()
    drive(engine, samples(song, 1920, RATE) - frames + 1, 256)
    # Resumed: the next note starts exactly 10 000 frames late (the pause), nothing replays.
    assert synth.ons() == [(samples(song, 1920, RATE) + 10_000, 0, 67, 100)]


def test_stop_returns_to_where_play_began(song):
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE))
    start = samples(song, 400, RATE)
    engine.seek(start)
    engine.play()
    drive(engine, 30_000, 256)
    engine.stop()
    drive(engine, 256, 256)
    assert engine.position == start and not engine.playing
    assert engine.clock == (start, 0.0, False)
    synth.clear()
    engine.play()
    drive(engine, samples(song, 480, RATE) - start + 1, 256)
    assert synth.ons() == [(samples(song, 480, RATE) - start + 30_256, 0, 64, 100)]


def test_seek_while_playing_continues_from_the_new_sample(song):
    synth, engine, frames = _start(song)
    target = samples(song, 1800, RATE)
    synth.clear()
    engine.seek(target)
    drive(engine, samples(song, 1920, RATE) - target + 1, 256)
    assert engine.playing
    assert synth.ons() == [(frames + samples(song, 1920, RATE) - target, 0, 67, 100)]
    assert engine.return_position == 0  # Stop still goes back to where play began


def test_seek_backwards_plays_the_notes_again(song):
    synth, engine, frames = _start(song)
    synth.clear()
    engine.seek(0)
    drive(engine, samples(song, 480, RATE) + 1, 256)
    assert synth.ons() == [(frames, 0, 60, 100), (frames, 1, 36, 100), (frames + samples(song, 480, RATE), 0, 64, 100)]


def test_set_schedule_while_playing_releases_and_continues_at_the_same_position(song):
    synth, engine, frames = _start(song)
    muted = song.with_track(0, replace(song.tracks[0], mute=True))
    synth.clear()
    synth.setup.clear()
    engine.set_schedule(build_schedule(muted, RATE))
    end = samples(song, 3840, RATE)
    drive(engine, end - frames + 10, 256)
    assert engine.playing
    # Released at the block start, channels set up again, and nothing of the muted track plays
    # again; track 1's note ends where it would have.
    assert sorted(synth.offs()[:3]) == [(frames, 0, 60), (frames, 0, 64), (frames, 1, 36)]
    assert ("program", 1, 32) in synth.setup
    assert synth.ons() == []
    assert synth.offs()[3:] == [(end, 1, 36)]  # harmless: the key was already released


def test_set_schedule_picks_up_notes_after_the_position(song):
    synth, engine, frames = _start(song)
    edited = song.with_tracks([melody((60, 0, 1920), (72, 1000, 100)), song.tracks[1]])
    synth.clear()
    engine.set_schedule(build_schedule(edited, RATE))
    drive(engine, samples(song, 1100, RATE) - frames + 1, 256)
    assert synth.ons() == [(samples(song, 1000, RATE), 0, 72, 100)]  # the new note, on time
    assert synth.intervals()[-1] == (0, 72, samples(song, 1000, RATE), samples(song, 1100, RATE))


@pytest.mark.parametrize("playing", [True, False])
def test_live_notes_apply_at_the_start_of_the_next_block(song, playing):
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE))
    if playing:
        engine.play()
    drive(engine, 1000, 250)
    engine.live_note_on(3, 72, 90)
    assert ("on", 3, 72, 90, 1000) not in synth.events  # queued, not played yet
    drive(engine, 250, 250)
    assert ("on", 3, 72, 90, 1000) in synth.events
    assert engine.live == {(3, 72)}
    engine.live_note_off(3, 72)
    drive(engine, 750, 250)
    assert ("off", 3, 72, 1250) in synth.events
    assert engine.live == set()
    assert engine.position == (2000 if playing else 0)


def test_call_runs_between_blocks(song):
    synth = FakeSynth()
    engine = Engine(synth, build_schedule(song, RATE))
    seen = []
    engine.call(lambda *a: seen.append((synth.frame, a)), "gain", 0.3)
    assert seen == []
    drive(engine, 512, 256)
    assert seen == [(0, ("gain", 0.3))]


@pytest.mark.parametrize("block", [256, 4096])
def test_the_engine_stops_by_itself_after_the_end_and_the_release_tail(song, block):
    synth = FakeSynth()
    schedule = build_schedule(song, RATE)
    engine = Engine(synth, schedule)
    engine.play()
    tail_end = schedule.end + int(RELEASE_TAIL_SECONDS * RATE)
    drive(engine, block, block)
    done = block
    while engine.playing:
        drive(engine, block, block)
        done += block
        assert done <= tail_end + 2 * block, "the engine never stopped"
    assert engine.ended and done > tail_end
    assert done - block <= tail_end  # in the first block that passes the tail's end
    assert synth.sounding == set()
    out = drive(engine, 1024, 256)  # stopped: silence rendered, position frozen
    assert engine.position == done and not np.any(out) and engine.clock[2] is False
    engine.seek(0)
    engine.play()
    drive(engine, 256, 256)
    assert engine.playing and not engine.ended


def test_the_engine_never_stops_by_itself_while_looping(song):
    synth = FakeSynth()
    schedule = build_schedule(song, RATE)
    engine = Engine(synth, schedule)
    engine.set_loop((0, schedule.end + 3 * RATE))  # the loop reaches past the end and the tail
    engine.play()
    drive(engine, 3 * (schedule.end + 3 * RATE), 4096)
    assert engine.playing and not engine.ended
    assert len(synth.ons(channel=1)) == 3  # one bass note a pass
