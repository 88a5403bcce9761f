"""The spectrogram core (desktop_app.audio.spectrogram) and the `desktop-app spectrogram` command:
tones peak in the right rows in every scale, pitch rows line up with piano-roll pitches (also for
notes rendered through FluidSynth), Griffin-Lim gets closer with more iterations, audio files are
read and resampled, and the command writes a PNG or fails with one line naming the file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from desktop_app.audio import spectrogram as sg
from desktop_app.audio.render import SynthSettings, render_song
from desktop_app.audio.soundfont import find_soundfont
from desktop_app.cli import main
from desktop_app.music.errors import MusicFileError
from desktop_app.music.note import Note
from desktop_app.music.song import Song, TempoChange, TimeSignature
from desktop_app.music.track import Track

# librosa's constant-Q transform downsamples short signals for its lowest octaves and warns that
# its internal FFT is longer than what is left; the rows it gives are right all the same.
pytestmark = pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input signal:UserWarning")

RATE = 22_050


# ----- helpers ----------------------------------------------------------------------------


def tone(hz: float | list[float], seconds: float = 1.0, rate: int = RATE, amplitude: float = 0.3,
         start: float = 0.0, end: float | None = None) -> np.ndarray:
    """Mono float32 sines of the given frequencies, sounding from `start` to `end` seconds."""
    t = np.arange(int(seconds * rate)) / rate
    freqs = [hz] if np.isscalar(hz) else list(hz)
    y = sum(amplitude * np.sin(2 * np.pi * f * t) for f in freqs)
    gate = (t >= start) & (t < (seconds if end is None else end))
    return (y * gate).astype(np.float32)


def peak_row(spec: sg.Spectrogram, first: float = 0.3, last: float = 0.7, rows: slice = slice(None)) -> int:
    """The loudest row (within `rows`) averaged over the frames from `first` to `last` of the length."""
    a, b = int(first * spec.n_frames), max(int(first * spec.n_frames) + 1, int(last * spec.n_frames))
    profile = spec.db[rows, a:b].mean(axis=1)
    return int(np.argmax(profile)) + (rows.start or 0)


def row_spacing(spec: sg.Spectrogram, row: int) -> float:
    """Hz between row `row` and its farther neighbour: the scale's resolution there."""
    gaps = np.diff(spec.row_hz)
    return float(max(gaps[max(0, row - 1)], gaps[min(len(gaps) - 1, row)]))


def one_note_song(pitch: int, program: int, bpm: float = 120.0, ticks: int = 960) -> Song:
    return Song(
        ppq=480,
        tempos=(TempoChange.from_bpm(0, bpm),),
        time_signatures=(TimeSignature(0, 4, 4),),
        tracks=(Track(name="Note", program=program, channel=0, notes=(Note(pitch, 0, ticks, 100),)),),
        title="one note",
    )


# ----- rows and frames --------------------------------------------------------------------


@pytest.mark.parametrize("scale", sg.SCALES)
@pytest.mark.parametrize("hz", [220.0, 440.0, 1000.0])
def test_a_sine_peaks_in_the_nearest_row_of_every_scale(scale, hz):
    n_fft = 8192 if scale == "log" else 2048  # log rows read FFT bins: resolvable at 8192
    settings = sg.SpectrogramSettings(scale=scale, n_fft=n_fft)
    spec = sg.compute(tone(hz), RATE, settings)
    assert spec.db.dtype == np.float32 and spec.db.shape == (len(spec.row_hz), len(spec.frame_times))
    assert np.all(np.diff(spec.row_hz) > 0), "row 0 is the lowest frequency, rising upwards"
    row = peak_row(spec)
    # The peak is one of the two rows around the tone...
    assert abs(row - spec.row_of_hz(hz)) < 1.0, (row, spec.row_of_hz(hz), spec.row_hz[row])
    # ...so its frequency is within the scale's resolution there (log rows also FFT bin spacing).
    allowed = row_spacing(spec, row) + (RATE / n_fft if scale == "log" else 0.0)
    assert abs(spec.row_hz[row] - hz) <= allowed, (spec.row_hz[row], hz, allowed)


@pytest.mark.parametrize("scale", ["log", "cqt"])
def test_pitch_scale_rows_sit_on_midi_pitches(scale):
    settings = sg.SpectrogramSettings(scale=scale, low_pitch=36, high_pitch=96, bins_per_semitone=3, n_fft=8192)
    spec = sg.compute(tone(440.0, 0.5), RATE, settings)
    assert spec.n_rows == (96 - 36) * 3 + 1
    pitches = sg.hz_to_midi(spec.row_hz)
    np.testing.assert_allclose(pitches, 36 + np.arange(spec.n_rows) / 3, atol=1e-9)
    assert spec.row_of_hz(sg.midi_to_hz(69)) == pytest.approx((69 - 36) * 3)


@pytest.mark.parametrize("pitch", [45, 52, 57, 64, 69, 76, 81, 88])
def test_a_tone_at_a_midi_pitch_peaks_in_that_pitch_row(pitch):
    hz = float(sg.midi_to_hz(pitch))
    signal = tone(hz)
    cqt = sg.compute(signal, RATE, sg.SpectrogramSettings(scale="cqt"))
    assert float(sg.hz_to_midi(cqt.row_hz[peak_row(cqt)])) == pytest.approx(pitch, abs=1e-9)
    log = sg.compute(signal, RATE, sg.SpectrogramSettings(scale="log", n_fft=8192))
    assert abs(float(sg.hz_to_midi(log.row_hz[peak_row(log)])) - pitch) <= 1 / 3 + 1e-9


def test_levels_are_db_below_the_loudest_cell_down_to_top_db():
    spec = sg.compute(tone([300.0, 2000.0]), RATE, sg.SpectrogramSettings(scale="mel", top_db=60.0))
    assert spec.db.max() == pytest.approx(0.0, abs=1e-4)
    assert spec.db.min() >= -60.0 - 1e-4
    silent = sg.compute(np.zeros(RATE, np.float32), RATE, sg.SpectrogramSettings(scale="cqt"))
    assert np.all(np.isfinite(silent.db))


def test_frames_are_a_hop_apart_and_a_burst_lands_on_its_frames():
    settings = sg.SpectrogramSettings(scale="linear", n_fft=1024, hop=256)
    spec = sg.compute(tone(1000.0, 2.0, start=0.5, end=1.25), RATE, settings)
    hop_s = 256 / RATE
    np.testing.assert_allclose(np.diff(spec.frame_times), hop_s)
    assert spec.frame_times[0] == 0.0
    assert list(spec.frame_of_seconds([0.0, 0.5, 1.25, 99.0])) == [0, round(0.5 / hop_s), round(1.25 / hop_s),
                                                                   spec.n_frames - 1]
    row = int(round(spec.row_of_hz(1000.0)))
    loud = np.flatnonzero(spec.db[row] > -20.0)
    half_window = 512 / RATE  # frames are centred: a frame hears n_fft / 2 either side
    assert spec.frame_times[loud[0]] == pytest.approx(0.5, abs=half_window)
    assert spec.frame_times[loud[-1]] == pytest.approx(1.25, abs=half_window)


def test_cqt_stops_below_nyquist_at_a_low_sample_rate():
    rate = 8000
    spec = sg.compute(tone(440.0, 1.0, rate=rate), rate, sg.SpectrogramSettings(scale="cqt"))
    assert spec.row_hz[-1] < rate / 2
    assert float(sg.hz_to_midi(spec.row_hz[peak_row(spec)])) == pytest.approx(69.0)


def test_with_scale_rejects_unknown_scales():
    assert sg.with_scale(sg.SpectrogramSettings(), "mel").scale == "mel"
    with pytest.raises(ValueError, match="bark"):
        sg.with_scale(sg.SpectrogramSettings(), "bark")
    assert set(sg.PRESETS) == {"Full range", "Melodic range"}
    assert all(p.scale in sg.SCALES for p in sg.PRESETS.values())


# ----- rendered notes line up with piano-roll pitches -------------------------------------


@pytest.fixture(scope="module")
def need_soundfont():
    if find_soundfont() is None:
        pytest.skip("no General MIDI SoundFont found (apt: fluid-soundfont-gm)")


@pytest.mark.parametrize("pitch", [48, 60, 67, 72, 84])
def test_a_rendered_flute_note_peaks_in_the_cqt_row_of_its_piano_roll_pitch(need_soundfont, pitch):
    song = one_note_song(pitch, program=73)  # flute: the fundamental dominates
    audio = render_song(song, SynthSettings(sample_rate=RATE, reverb=False), tail_seconds=0.2)
    spec = sg.compute(audio, RATE, sg.MELODIC_RANGE)
    bps = sg.MELODIC_RANGE.bins_per_semitone
    # The note sounds for 1 s (two beats at 120 BPM); look at its middle.
    first, last = spec.frame_of_seconds([0.35, 0.65])
    lo = int(round(spec.row_of_hz(sg.midi_to_hz(pitch - 5))))
    hi = int(round(spec.row_of_hz(sg.midi_to_hz(pitch + 5))))
    profile = spec.db[lo : hi + 1, first:last].mean(axis=1)
    row = lo + int(np.argmax(profile))
    assert row == (pitch - sg.MELODIC_RANGE.low_pitch) * bps
    assert float(sg.hz_to_midi(spec.row_hz[row])) == pytest.approx(pitch)
    # Before the note and long after its release, that row is quiet.
    assert spec.db[row, first:last].mean() > spec.db[row, -2:].mean() + 20


# ----- Griffin-Lim ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chord():
    signal = tone([261.63, 329.63, 392.0], 1.5, amplitude=0.2)
    settings = sg.SpectrogramSettings(n_fft=1024, hop=256)
    return signal, settings, sg.magnitude_stft(signal, settings)


def test_griffin_lim_converges_with_more_iterations(chord):
    signal, settings, magnitude = chord
    results = [sg.griffin_lim(magnitude, settings, n, length=len(signal), seed=3) for n in (1, 8, 64)]
    convergence = [r.spectral_convergence for r in results]
    assert convergence[0] > convergence[1] > convergence[2], convergence
    assert convergence[2] < 0.2
    for n, r in zip((1, 8, 64), results):
        assert r.iterations == n
        assert r.audio.dtype == np.float32 and r.audio.shape == signal.shape


def test_griffin_lim_is_reproducible_with_a_seed(chord):
    signal, settings, magnitude = chord
    a = sg.griffin_lim(magnitude, settings, 4, length=len(signal), seed=7)
    b = sg.griffin_lim(magnitude, settings, 4, length=len(signal), seed=7)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert a.spectral_convergence == b.spectral_convergence


def test_spectral_convergence_of_the_original_is_zero(chord):
    signal, settings, magnitude = chord
    assert sg.spectral_convergence(magnitude, signal, settings) == pytest.approx(0.0, abs=1e-5)
    assert magnitude.shape[0] == settings.n_fft // 2 + 1


# ----- reading and resampling audio -------------------------------------------------------


def test_read_audio_of_a_missing_file_names_it(tmp_path):
    path = tmp_path / "nothing here.wav"
    with pytest.raises(MusicFileError) as info:
        sg.read_audio(path)
    assert info.value.path == str(path) and "no such file" in info.value.reason
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name, data", [("letter.wav", b"Dear composer,\nthis is a text file.\n"),
                                        ("noise.flac", bytes((i * 7919) % 256 for i in range(4000))),
                                        ("empty.wav", b"")])
def test_read_audio_of_a_file_that_is_not_audio_names_it(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MusicFileError) as info:
        sg.read_audio(path)
    assert info.value.path == str(path) and "cannot read" in info.value.reason
    assert "Traceback" not in info.value.reason


def test_read_audio_of_a_file_without_samples_says_so(tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(str(path), np.zeros((0, 2), np.float32), RATE)
    with pytest.raises(MusicFileError, match="no samples") as info:
        sg.read_audio(path)
    assert info.value.path == str(path)


@pytest.mark.parametrize("suffix, subtype, tolerance", [(".wav", "FLOAT", 0.0), (".wav", "PCM_16", 1 / 32768),
                                                        (".flac", "PCM_16", 1 / 32768), (".flac", "PCM_24", 1e-6)])
def test_wav_and_flac_round_trip(tmp_path, suffix, subtype, tolerance):
    left, right = tone(440.0, 0.5, rate=44_100), tone(660.0, 0.5, rate=44_100)
    stereo = np.stack([left, right], axis=1)
    path = tmp_path / f"tones{suffix}"
    soundfile.write(str(path), stereo, 44_100, subtype=subtype)
    audio, rate = sg.read_audio(path)
    assert rate == 44_100 and audio.dtype == np.float32 and audio.shape == stereo.shape
    np.testing.assert_allclose(audio, stereo, atol=tolerance + 1e-7)
    mono_path = tmp_path / f"mono{suffix}"
    soundfile.write(str(mono_path), left, 44_100, subtype=subtype)
    audio, rate = sg.read_audio(mono_path)
    assert audio.shape == (len(left), 1)  # always (frames, channels)


def dominant_hz(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate, target", [(22_050, 48_000), (44_100, 48_000), (48_000, 44_100), (48_000, 48_000)])
def test_resample_stereo_gives_two_channels_at_the_target_rate(rate, target):
    left, right = tone(440.0, 1.0, rate=rate), tone(1000.0, 1.0, rate=rate)
    out = sg.resample_stereo(np.stack([left, right], axis=1), rate, target)
    assert out.dtype == np.float32 and out.ndim == 2 and out.shape[1] == 2 and out.flags["C_CONTIGUOUS"]
    assert abs(len(out) - target) <= 1  # one second stays one second
    assert dominant_hz(out[:, 0], target) == pytest.approx(440.0, abs=2.0)
    assert dominant_hz(out[:, 1], target) == pytest.approx(1000.0, abs=2.0)
    if rate == target:
        np.testing.assert_array_equal(out, np.stack([left, right], axis=1))


def test_resample_stereo_of_mono_and_of_many_channels():
    mono = tone(440.0, 0.5, rate=24_000)
    out = sg.resample_stereo(mono, 24_000, 48_000)
    assert out.shape[1] == 2 and abs(len(out) - 24_000) <= 1
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    one_column = sg.resample_stereo(mono[:, None], 24_000, 24_000)
    assert one_column.shape == (len(mono), 2)
    quad = np.stack([mono, 2 * mono, 3 * mono, 4 * mono], axis=1)
    out = sg.resample_stereo(quad, 24_000, 24_000)
    np.testing.assert_array_equal(out, quad[:, :2])


# ----- the command ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tones_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "tones.wav"
    signal = np.concatenate([tone(220.0, 0.75), tone(440.0, 0.75), tone([523.25, 659.26], 0.75)])
    soundfile.write(str(path), signal, RATE)
    return path


@pytest.mark.parametrize("scale", sg.SCALES)
def test_spectrogram_command_writes_a_png_in_every_scale(tmp_path, tones_wav, capsys, scale):
    from PySide6.QtGui import QImage

    out = tmp_path / f"{scale}.png"
    assert main(["spectrogram", str(tones_wav), str(out), "--scale", scale]) == 0
    assert "error" not in capsys.readouterr().err
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 400 and image.height() >= 100
    colours = {image.pixel(x, y) for x in range(0, image.width(), 11) for y in range(0, image.height(), 5)}
    assert len(colours) > 10  # a picture, not a blank
    brightest = max((c >> 16 & 255) + (c >> 8 & 255) + (c & 255) for c in colours)
    assert brightest > 300


def test_spectrogram_command_with_a_missing_input_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "missing.wav"
    out = tmp_path / "out.png"
    assert main(["spectrogram", str(missing), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and "no such file" in err, err
    assert not out.exists()


def test_spectrogram_command_with_a_non_png_output_exits_2_naming_it(tmp_path, tones_wav, capsys):
    out = tmp_path / "picture.jpg"
    assert main(["spectrogram", str(tones_wav), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "PNG" in err, err
    assert not out.exists()
