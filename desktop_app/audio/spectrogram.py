"""Spectrograms with librosa, in four frequency scales. In the log and constant-Q scales the
rows sit on MIDI pitches (a few per semitone), so a note of pitch p peaks in the rows of p and
the axis can name notes. Also Griffin-Lim: audio back from a magnitude spectrogram alone."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

SCALES = ("linear", "log", "mel", "cqt")
SCALE_LABELS = {"linear": "Linear", "log": "Log (pitch rows)", "mel": "Mel", "cqt": "Constant-Q (pitch rows)"}


@dataclass(frozen=True)
class SpectrogramSettings:
    scale: str = "cqt"
    n_fft: int = 2048
    hop: int = 512
    window: str = "hann"
    top_db: float = 80.0
    low_pitch: int = 24  # C1: lowest row in the log and constant-Q scales
    high_pitch: int = 108  # C8
    bins_per_semitone: int = 3
    n_mels: int = 128
    low_hz: float = 0.0  # linear and mel range
    high_hz: float | None = None  # None: up to Nyquist

    @property
    def pitch_scale(self) -> bool:
        return self.scale in ("log", "cqt")


FULL_RANGE = SpectrogramSettings(scale="mel", low_pitch=12, high_pitch=127, low_hz=0.0, high_hz=None)
MELODIC_RANGE = SpectrogramSettings(scale="cqt", low_pitch=36, high_pitch=96, low_hz=60.0, high_hz=2100.0)
PRESETS = {"Full range": FULL_RANGE, "Melodic range": MELODIC_RANGE}


def midi_to_hz(pitch):
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def hz_to_midi(hz):
    return 69.0 + 12.0 * np.log2(np.maximum(np.asarray(hz, dtype=np.float64), 1e-9) / 440.0)


@dataclass(frozen=True)
class Spectrogram:
    """`db[row, frame]`: level in dB relative to the loudest cell (0 at the top, -top_db at the
    floor). Row 0 is the lowest frequency. `frame_times[k]` is frame k's centre in seconds."""

    db: np.ndarray
    row_hz: np.ndarray
    frame_times: np.ndarray
    sample_rate: int
    settings: SpectrogramSettings

    @property
    def n_rows(self) -> int:
        return self.db.shape[0]

    @property
    def n_frames(self) -> int:
        return self.db.shape[1]

    def row_of_hz(self, hz: float) -> float:
        """Fractional row of a frequency (interpolated between row centres)."""
        return float(np.interp(hz, self.row_hz, np.arange(self.n_rows)))

    def frame_of_seconds(self, seconds):
        """Nearest frame to `seconds` (a number or an array), clipped to the spectrogram."""
        hop_s = self.settings.hop / self.sample_rate
        return np.clip(np.rint(np.asarray(seconds) / hop_s).astype(np.int64), 0, max(0, self.n_frames - 1))


def warm_up() -> None:
    """Load librosa and its compiled kernels (about 2 s the first time in a process), so the
    first spectrogram the user asks for comes at full speed. Run it on a worker at start-up."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for scale in ("mel", "cqt"):
            compute(np.zeros(22_050, np.float32), 22_050, SpectrogramSettings(scale=scale))


def to_mono(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def compute(audio: np.ndarray, sample_rate: int, settings: SpectrogramSettings) -> Spectrogram:
    """The spectrogram of `audio` (mono or (n, channels)) in the settings' scale."""
    import librosa

    y = to_mono(audio)
    s = settings
    if s.scale == "cqt":
        bps = s.bins_per_semitone
        # Bins centred on pitches: the first row is low_pitch itself, then 1/bps semitone steps.
        n_bins = (s.high_pitch - s.low_pitch) * bps + 1
        nyquist_pitch = float(hz_to_midi(sample_rate / 2)) - 1.0
        n_bins = min(n_bins, int((nyquist_pitch - s.low_pitch) * bps))
        with warnings.catch_warnings():  # short signals: librosa warns about its low octaves' FFT size
            warnings.simplefilter("ignore", UserWarning)
            magnitude = np.abs(librosa.cqt(y, sr=sample_rate, hop_length=s.hop,
                                           fmin=float(midi_to_hz(s.low_pitch)), n_bins=n_bins, bins_per_octave=12 * bps))
        rows = midi_to_hz(s.low_pitch + np.arange(n_bins) / bps)
    else:
        power = np.abs(librosa.stft(y, n_fft=s.n_fft, hop_length=s.hop, window=s.window)) ** 2
        fft_hz = librosa.fft_frequencies(sr=sample_rate, n_fft=s.n_fft)
        high = s.high_hz or sample_rate / 2
        if s.scale == "mel":
            basis = librosa.filters.mel(sr=sample_rate, n_fft=s.n_fft, n_mels=s.n_mels, fmin=s.low_hz, fmax=high)
            magnitude = np.sqrt(basis @ power)
            rows = librosa.mel_frequencies(n_mels=s.n_mels + 2, fmin=s.low_hz, fmax=high)[1:-1]  # band centres
        elif s.scale == "log":
            bps = s.bins_per_semitone
            rows = midi_to_hz(s.low_pitch + np.arange((s.high_pitch - s.low_pitch) * bps + 1) / bps)
            rows = rows[rows < sample_rate / 2]
            magnitude = np.sqrt(_interpolation_matrix(fft_hz, rows) @ power)
        else:
            keep = (fft_hz >= s.low_hz) & (fft_hz <= high)
            magnitude, rows = np.sqrt(power[keep]), fft_hz[keep]
    db = librosa.amplitude_to_db(magnitude, ref=np.max, top_db=s.top_db).astype(np.float32)
    times = np.arange(db.shape[1]) * s.hop / sample_rate
    return Spectrogram(db, np.asarray(rows, dtype=np.float64), times, sample_rate, settings)


def _interpolation_matrix(source_hz: np.ndarray, target_hz: np.ndarray) -> np.ndarray:
    """(targets, sources) weights reading each target frequency off the two nearest FFT bins."""
    position = np.interp(target_hz, source_hz, np.arange(len(source_hz)))
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(source_hz) - 1)
    frac = position - low
    weights = np.zeros((len(target_hz), len(source_hz)), dtype=np.float32)
    rows = np.arange(len(target_hz))
    weights[rows, low] += 1 - frac
    weights[rows, high] += frac
    return weights


@dataclass(frozen=True)
class Reconstruction:
    audio: np.ndarray  # mono float32
    iterations: int
    spectral_convergence: float  # ||S - |STFT(y)||| / ||S||: 0 is perfect


def magnitude_stft(audio: np.ndarray, settings: SpectrogramSettings) -> np.ndarray:
    import librosa

    return np.abs(librosa.stft(to_mono(audio), n_fft=settings.n_fft, hop_length=settings.hop, window=settings.window))


def spectral_convergence(magnitude: np.ndarray, audio: np.ndarray, settings: SpectrogramSettings) -> float:
    rebuilt = magnitude_stft(audio, settings)
    frames = min(rebuilt.shape[1], magnitude.shape[1])
    diff = magnitude[:, :frames] - rebuilt[:, :frames]
    return float(np.linalg.norm(diff) / max(np.linalg.norm(magnitude[:, :frames]), 1e-12))


def griffin_lim(magnitude: np.ndarray, settings: SpectrogramSettings, iterations: int = 32,
                length: int | None = None, seed: int = 0) -> Reconstruction:
    """Audio whose STFT magnitude approaches `magnitude` (from magnitude_stft), with phases found
    by Griffin-Lim (librosa's fast variant, momentum 0.99) from a seeded random start."""
    import librosa

    audio = librosa.griffinlim(magnitude, n_iter=iterations, hop_length=settings.hop, window=settings.window,
                               n_fft=settings.n_fft, length=length, init="random", random_state=seed)
    audio = audio.astype(np.float32)
    return Reconstruction(audio, iterations, spectral_convergence(magnitude, audio, settings))


def with_scale(settings: SpectrogramSettings, scale: str) -> SpectrogramSettings:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    return replace(settings, scale=scale)


def resample_stereo(audio: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """(n, 2) float32 at `target_rate` from mono or multichannel audio at `rate`."""
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    stereo = np.stack([audio, audio], axis=1) if audio.ndim == 1 else audio[:, :2]
    if stereo.shape[1] == 1:
        stereo = np.repeat(stereo, 2, axis=1)
    if rate != target_rate:
        stereo = librosa.resample(stereo.T, orig_sr=rate, target_sr=target_rate, res_type="soxr_hq").T
    return np.ascontiguousarray(stereo, dtype=np.float32)


def read_audio(path) -> tuple[np.ndarray, int]:
    """An audio file (WAV, FLAC, OGG, MP3 where libsndfile decodes it) as float32 and its rate."""
    import soundfile

    from desktop_app.music.errors import MusicFileError
    from desktop_app.music.files import check_regular_file
    from desktop_app.music.limits import MAX_SONG_SECONDS, describe_seconds

    check_regular_file(path)  # a pipe or a device would hang or never end
    try:
        seconds = soundfile.info(str(path)).duration
        if seconds > MAX_SONG_SECONDS:
            raise MusicFileError(path, f"too long: the audio lasts {describe_seconds(seconds)}; "
                                 f"the app takes up to {describe_seconds(MAX_SONG_SECONDS)}")
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except MusicFileError:
        raise
    except Exception as e:  # libsndfile's errors: unknown format, damaged data, missing file
        raise MusicFileError(path, f"cannot read this audio file ({str(e).strip() or type(e).__name__})") from None
    if len(audio) == 0:
        raise MusicFileError(path, "the audio file holds no samples")
    return audio, int(rate)
