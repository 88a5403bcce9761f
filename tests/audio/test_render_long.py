"""Rendering long songs: straight into the file block by block, in the same memory whatever the
length, with the same samples as a render into one array; songs past the limit are refused
before any work."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile

from desktop_app.audio.render import CHUNK_FRAMES, SynthSettings, render_song, render_to_file, write_audio
from desktop_app.music import MusicFileError, Note, Song, Track


def beats_song(seconds: float) -> Song:
    """A note on every beat at 120 BPM for `seconds`, on two tracks."""
    beats = int(seconds * 2)
    melody = tuple(Note(60 + i % 12, i * 480, 400, 90) for i in range(beats))
    bass = tuple(Note(36 + i % 5, i * 960, 900, 70) for i in range(beats // 2))
    return Song(tracks=(Track(name="m", notes=melody), Track(name="b", program=32, channel=1, notes=bass)))


def test_a_streamed_render_equals_the_render_into_an_array(tmp_path, soundfont):
    song = beats_song(20)
    settings = SynthSettings(sample_rate=16_000)
    render_to_file(tmp_path / "streamed.wav", song, settings)
    write_audio(tmp_path / "array.wav", render_song(song, settings), settings.sample_rate)
    streamed, rate = soundfile.read(tmp_path / "streamed.wav", dtype="int16")
    assert rate == 16_000 and len(streamed) > 20 * rate > 2 * CHUNK_FRAMES
    assert np.array_equal(streamed, soundfile.read(tmp_path / "array.wav", dtype="int16")[0])


def test_a_long_render_to_a_file_takes_no_more_memory_than_a_block(tmp_path, soundfont):
    """Five minutes at 8 kHz are 19 MB as one float array (45 MB at the peak of a render into an
    array and its encoding); streamed, the peak stays near a block (1.6 MB)."""
    seconds, rate = 300, 8_000
    whole_array = seconds * rate * 2 * 4
    tracemalloc.start()
    try:
        render_to_file(tmp_path / "long.flac", beats_song(seconds), SynthSettings(sample_rate=rate))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert soundfile.info(tmp_path / "long.flac").duration >= seconds
    assert peak < whole_array / 4, f"peak {peak / 2**20:.1f} MB"


def test_a_song_past_the_limit_is_refused_before_rendering(tmp_path):
    out = tmp_path / "huge.wav"
    song = Song(tracks=(Track(notes=(Note(60, 0, 2**31 - 1, 100),)),))  # 621 hours: 400 GB as one array
    with pytest.raises(MusicFileError) as info:
        render_to_file(out, song, SynthSettings())
    assert info.value.path == str(out) and info.value.reason.startswith("too long: the song lasts 621.4 hours")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("rate", [0, -1, 1, 7_999, 96_001, 10_000_000])
def test_a_sample_rate_fluidsynth_cannot_use_is_refused(tmp_path, rate):
    with pytest.raises(MusicFileError, match=f"cannot render at {rate} Hz"):
        render_to_file(tmp_path / "x.wav", beats_song(1), SynthSettings(sample_rate=rate))
    with pytest.raises(MusicFileError, match=f"cannot render at {rate} Hz"):
        write_audio(tmp_path / "x.wav", np.zeros((10, 2), np.float32), rate)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_render_leaves_the_old_file(tmp_path, soundfont, monkeypatch):
    out = tmp_path / "song.wav"
    write_audio(out, np.full((100, 2), 0.25, np.float32), 16_000)
    before = out.read_bytes()
    import desktop_app.audio.render as render

    def broken_blocks(*args, **kwargs):
        yield np.zeros((CHUNK_FRAMES, 2), np.float32)
        raise MusicFileError("song.dap", "the render broke half-way")

    monkeypatch.setattr(render, "render_blocks", broken_blocks)
    with pytest.raises(MusicFileError, match="half-way"):
        render_to_file(out, beats_song(5), SynthSettings(sample_rate=16_000))
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["song.wav"]


@pytest.mark.parametrize("shape", [(70_000,), (70_000, 1), (70_000, 2)])
def test_write_audio_keeps_the_channels_it_is_given(tmp_path, shape):
    audio = np.random.default_rng(3).uniform(-0.5, 0.5, shape).astype(np.float32)
    write_audio(tmp_path / "x.flac", audio, 22_050)
    back, rate = soundfile.read(tmp_path / "x.flac", dtype="float32", always_2d=True)
    assert rate == 22_050 and back.shape == (shape[0], 1 if len(shape) == 1 else shape[1])
    assert np.abs(back - audio.reshape(back.shape)).max() < 1e-4
