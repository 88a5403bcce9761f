"""The real synth (FluidSynth with the installed SoundFont): pitch, where render() writes, and the
engine driving it sample-accurately to FluidSynth's own 64-frame grid."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.audio.engine import Engine
from desktop_app.audio.render import SynthSettings, render_song
from desktop_app.audio.schedule import build_schedule
from desktop_app.audio.synth import METRONOME_CHANNEL

from audio_helpers import cents, melody, midi_hz, peak_frequency, samples, song_of

FLUTE, OCARINA = 73, 79  # their fundamentals dominate the spectrum (pianos and organs less so)
FLUIDSYNTH_BLOCK = 64  # FluidSynth starts a voice at the next of its own 64-frame blocks


@pytest.mark.parametrize("rate", [44_100, 48_000])
@pytest.mark.parametrize("program", [FLUTE, OCARINA])
@pytest.mark.parametrize("pitch", [57, 69, 76])
def test_a_rendered_note_peaks_at_its_pitch(soundfont, pitch, program, rate):
    song = song_of(melody((pitch, 0, 960), program=program))  # 1 s at 120 BPM
    audio = render_song(song, SynthSettings(sample_rate=rate, reverb=False))
    steady = audio[int(0.2 * rate) : int(0.95 * rate)]  # past the attack, before the release
    assert abs(cents(peak_frequency(steady, rate), midi_hz(pitch))) < 25


def test_the_synth_at_another_rate_keeps_the_pitch(make_synth):
    for rate in (22_050, 96_000):
        synth = make_synth(rate)
        synth.set_program(0, FLUTE)
        synth.note_on(0, 69, 100)
        out = np.zeros((rate, 2), np.float32)
        synth.render(out, 0, rate)
        assert abs(cents(peak_frequency(out[rate // 5 :], rate), 440.0)) < 25, rate


def test_render_writes_only_the_rows_asked_for(make_synth):
    synth = make_synth()
    synth.set_program(0, FLUTE)
    synth.note_on(0, 69, 110)
    out = np.full((4000, 2), np.nan, np.float32)
    synth.render(out, 0, 1000)  # the attack, not looked at
    synth.render(out, 1500, 1000)
    synth.render(out, 2500, 1)
    assert np.isnan(out[1000:1500]).all() and np.isnan(out[2501:]).all()
    written = out[1500:2501]
    assert np.isfinite(written).all()
    assert np.abs(written[:, 0]).max() > 1e-3 and np.abs(written[:, 1]).max() > 1e-3  # both channels


def test_note_off_lets_the_note_die_away(make_synth):
    synth = make_synth()
    synth.set_program(0, FLUTE)
    synth.note_on(0, 69, 110)
    out = np.zeros((48_000 * 3, 2), np.float32)
    synth.render(out, 0, 24_000)
    synth.note_off(0, 69)
    synth.render(out, 24_000, len(out) - 24_000)
    assert np.abs(out[12_000:24_000]).max() > 0.01
    assert np.abs(out[-24_000:]).max() < 1e-4


def _engine_render(make_synth, schedule, frames, block, reverb=True):
    synth = make_synth(schedule.sample_rate, reverb)
    engine = Engine(synth, schedule)
    engine.play()
    out = np.zeros((frames, 2), np.float32)
    for offset in range(0, frames, block):
        engine.process(out[offset:], min(block, frames - offset))
    return out


SONG = song_of(melody((69, 37, 400), (72, 500, 480), (76, 1111, 300), program=FLUTE),
               melody((48, 0, 1900), program=0), bpm=137.5)


def test_the_block_size_does_not_change_the_sound(make_synth):
    schedule = build_schedule(SONG, 48_000, metronome=True)
    reference = _engine_render(make_synth, schedule, 3 * 48_000, 64)
    assert np.abs(reference).max() > 0.01
    for block in (1000, 256, 4096, 7):
        assert np.array_equal(_engine_render(make_synth, schedule, 3 * 48_000, block), reference), block


@pytest.mark.parametrize("tick", [1, 10, 100, 480, 1001])
def test_a_note_sounds_within_fluidsynths_block_of_its_sample(make_synth, tick):
    song = song_of(melody((69, tick, 480), program=FLUTE))
    schedule = build_schedule(song, 48_000)
    out = _engine_render(make_synth, schedule, 96_000, 256, reverb=False)
    expected = samples(song, tick, 48_000)
    onset = int(np.flatnonzero(np.abs(out).max(axis=1) > 0)[0])
    assert expected <= onset <= expected + FLUIDSYNTH_BLOCK


def test_metronome_clicks_sound_on_the_beats(make_synth):
    song = song_of(melody((60, 0, 1920), program=0, mute=True))  # only the clicks sound
    schedule = build_schedule(song, 48_000, metronome=True)
    assert set(schedule.channel.tolist()) == {METRONOME_CHANNEL}
    out = _engine_render(make_synth, schedule, 2 * 48_000, 256, reverb=False)
    loud = np.abs(out).max(axis=1) > 1e-3
    onsets = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    starts = [int(onsets[0])] + [int(b) for a, b in zip(onsets, onsets[1:]) if b - a > 4_000]
    assert len(starts) == 4
    for beat, start in enumerate(starts):
        assert 0 <= start - beat * 24_000 <= FLUIDSYNTH_BLOCK + 64  # the click's own attack
    # The accented downbeat (wood block 76, velocity 127) is the loudest.
    peaks = [np.abs(out[s : s + 2000]).max() for s in starts]
    assert peaks[0] == max(peaks)
