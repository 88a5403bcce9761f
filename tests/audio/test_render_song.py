"""Offline render (the song through the playback engine into an array) and WAV/FLAC export."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from music21 import corpus

from desktop_app.audio.render import SynthSettings, render_song, write_audio
from desktop_app.music.errors import MusicFileError
from desktop_app.music.formats import read_any

from audio_helpers import cents, melody, midi_hz, samples, song_of

RATE = 48_000  # SynthSettings' default
TAIL = 2.0  # render_song's longest release tail, in seconds


@pytest.fixture(scope="module")
def chorale(soundfont):
    song = read_any(corpus.getWork("bach/bwv66.6")).song
    progress: list[float] = []
    audio = render_song(song, SynthSettings(), progress=progress.append)
    return song, audio, progress


def test_chorale_render_lasts_the_song_plus_a_short_tail(chorale):
    song, audio, _ = chorale
    assert audio.dtype == np.float32 and audio.ndim == 2 and audio.shape[1] == 2
    length = round(song.duration_seconds * RATE)
    assert length < len(audio) <= length + TAIL * RATE


def test_chorale_render_is_not_silent_and_does_not_clip(chorale):
    _, audio, _ = chorale
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert rms > 0.01
    assert np.abs(audio).max() < 1.0
    # Sound all the way through: every second of the song has some.
    song = chorale[0]
    for second in range(int(song.duration_seconds)):
        assert np.abs(audio[second * RATE : (second + 1) * RATE]).max() > 0.01, second


def _sounding(song, tick):
    return [n for t in song.tracks for n in t.notes if n.start <= tick < n.end]


@pytest.mark.parametrize("tick", [480, 960, 4320, 12000])
def test_chorale_spectrum_shows_the_fundamentals_of_the_chord(chorale, tick):
    song, audio, _ = chorale
    notes = _sounding(song, tick)
    assert len(notes) == 4
    # The span all four voices hold, past the attack.
    first = samples(song, max(n.start for n in notes), RATE) + int(0.04 * RATE)
    last = samples(song, min(n.end for n in notes), RATE)
    window = audio[first:last].mean(axis=1)
    n = 1 << 18
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window)), n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    audible = (freqs > 50) & (freqs < 5000)
    loudest, typical = spectrum[audible].max(), np.median(spectrum[audible])
    for note in notes:
        f0 = midi_hz(note.pitch)
        band = (freqs > f0 * 2 ** (-0.3 / 12)) & (freqs < f0 * 2 ** (0.3 / 12))  # +-30 cents
        peak = spectrum[band].max()
        assert peak > 0.1 * loudest and peak > 50 * typical, note
        assert abs(cents(freqs[band][np.argmax(spectrum[band])], f0)) < 15, note


def test_progress_reaches_one_monotonically(chorale):
    _, _, progress = chorale
    assert len(progress) > 10
    assert all(0 < p <= 1 for p in progress)
    assert all(a <= b for a, b in zip(progress, progress[1:]))
    assert progress[-1] == 1.0


# ----- a tick range ----------------------------------------------------------------------

FLUTE = 73
RANGE_SONG = song_of(melody((69, 0, 960), (81, 1440, 960), (76, 2880, 480), program=FLUTE))  # 120 BPM


def _level(audio, pitch, first, last):
    """Spectral magnitude near `pitch`'s fundamental in audio[first:last], per frame."""
    window = audio[first:last].mean(axis=1)
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    freqs = np.fft.rfftfreq(len(window), 1 / RATE)
    f0 = midi_hz(pitch)
    return spectrum[(freqs > f0 * 0.97) & (freqs < f0 * 1.03)].max() / len(window)


@pytest.mark.parametrize(("start_tick", "end_tick"), [(0, 1200), (480, 1920), (1440, 3360), (960, 960 + 1)])
def test_a_range_renders_its_length_plus_a_short_tail(soundfont, start_tick, end_tick):
    progress: list[float] = []
    audio = render_song(RANGE_SONG, SynthSettings(reverb=False), start_tick, end_tick, progress.append)
    length = samples(RANGE_SONG, end_tick, RATE) - samples(RANGE_SONG, start_tick, RATE)
    assert length <= len(audio) <= length + TAIL * RATE
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_a_range_cuts_the_notes_at_its_end_and_plays_nothing_after(soundfont):
    # The range ends in the middle of the A5 (81); the E5 (76) a second later must never sound.
    end_tick = 1920
    audio = render_song(RANGE_SONG, SynthSettings(reverb=False), 0, end_tick)
    end = samples(RANGE_SONG, end_tick, RATE)
    assert _level(audio, 81, end - RATE // 4, end) > 0.005  # sounding up to the cut
    # Released at the cut: it dies away within the flute's release (a held note would sound on
    # to the 2 s limit), so the render stops long before the E5's start.
    assert end < len(audio) < end + RATE // 2
    assert len(audio) < samples(RANGE_SONG, 2880, RATE)
    whole = render_song(RANGE_SONG, SynthSettings(reverb=False))
    e5 = samples(RANGE_SONG, 2880, RATE)
    assert _level(whole, 76, e5 + 2400, e5 + RATE // 4) > 0.005  # while the whole song has it


def test_a_range_starting_later_begins_at_its_start(soundfont):
    audio = render_song(RANGE_SONG, SynthSettings(reverb=False), 1440, None)
    # The A5 begins the render; the A4 before the range is not in it.
    assert _level(audio, 81, 2400, RATE // 2) > 0.005
    assert _level(audio, 69, 2400, RATE // 2) < 1e-4
    length = samples(RANGE_SONG, RANGE_SONG.end_tick, RATE) - samples(RANGE_SONG, 1440, RATE)
    assert length <= len(audio) <= length + TAIL * RATE


# ----- files -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [("out.wav", "WAV"), ("out.flac", "FLAC"), ("OUT.WAV", "WAV")])
@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_write_audio_round_trips(tmp_path, name, fmt, rate):
    t = np.arange(rate // 2 + 17) / rate
    audio = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 660 * t)], axis=1).astype(np.float32)
    audio[100] = (1.5, -1.5)  # out of range: clipped, not wrapped around
    path = tmp_path / name
    write_audio(path, audio, rate)
    info = soundfile.info(str(path))
    assert (info.format, info.samplerate, info.frames, info.channels) == (fmt, rate, len(audio), 2)
    back, back_rate = soundfile.read(str(path), dtype="float32")
    assert back_rate == rate and back.shape == audio.shape
    assert np.abs(back - np.clip(audio, -1, 1)).max() < 2 / 32768
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind


def test_write_audio_of_a_render_round_trips(tmp_path, chorale):
    song, audio, _ = chorale
    path = tmp_path / "chorale.flac"
    write_audio(path, audio, RATE)
    back, rate = soundfile.read(str(path), dtype="float32")
    assert rate == RATE and len(back) == len(audio)
    assert np.abs(back - audio).max() < 2 / 32768


@pytest.mark.parametrize("name", ["out.mp3", "out.ogg", "out", "out.wav.txt"])
def test_write_audio_refuses_other_extensions(tmp_path, name):
    with pytest.raises(MusicFileError) as raised:
        write_audio(tmp_path / name, np.zeros((10, 2), np.float32), RATE)
    assert ".wav" in raised.value.reason and ".flac" in raised.value.reason
    assert list(tmp_path.iterdir()) == []


def test_write_audio_into_a_missing_folder_raises_a_music_file_error(tmp_path):
    with pytest.raises(MusicFileError):
        write_audio(tmp_path / "no" / "such" / "out.wav", np.zeros((10, 2), np.float32), RATE)
