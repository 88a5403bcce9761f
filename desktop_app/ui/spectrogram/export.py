"""`desktop-app spectrogram IN OUT.png`: the spectrogram of an audio file or of a rendered song
as a PNG, without a window (the same resampling and colours as the dock)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop_app.audio import spectrogram as sg
from desktop_app.music.errors import MusicFileError
from desktop_app.ui.spectrogram.colormaps import lookup_table

AUDIO_INPUTS = (".wav", ".flac", ".ogg", ".mp3")


def spectrogram_of_file(source: Path, scale: str) -> sg.Spectrogram:
    settings = sg.with_scale(sg.SpectrogramSettings(), scale)
    if source.suffix.lower() in AUDIO_INPUTS:
        audio, rate = sg.read_audio(source)
    else:
        from desktop_app.audio.render import SynthSettings, render_song
        from desktop_app.audio.synth import SynthUnavailable
        from desktop_app.music.formats import read_any

        song = read_any(source).song
        rate = 22_050
        try:
            audio = render_song(song, SynthSettings(sample_rate=rate))
        except SynthUnavailable as e:
            raise MusicFileError(source, f"cannot render: {e}") from None
    return sg.compute(audio, rate, settings)


def spectrogram_image(spec: sg.Spectrogram, width: int = 1200, height: int = 400, colormap: str = "magma") -> np.ndarray:
    """(height, width) ARGB pixels of the whole spectrogram, loudest frame per column."""
    cols = np.linspace(0, spec.n_frames, width + 1).astype(np.int64)
    rows = np.clip(np.rint((1 - (np.arange(height) + 0.5) / height) * spec.n_rows - 0.5).astype(np.int64), 0, spec.n_rows - 1)
    db = spec.db[rows]
    starts = np.minimum(cols[:-1], spec.n_frames - 1)
    picked = np.maximum.reduceat(db, starts, axis=1) if spec.n_frames >= width else db[:, starts]
    level = np.clip((picked + spec.settings.top_db) / spec.settings.top_db * 255, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(lookup_table(colormap)[level])


def write_spectrogram_png(source: Path, target: Path, scale: str = "cqt") -> None:
    if target.suffix.lower() != ".png":
        raise MusicFileError(target, "the spectrogram is written as PNG; name the file .png")
    save_png(spectrogram_image(spectrogram_of_file(source, scale)), target)


def save_png(pixels: np.ndarray, target: Path) -> None:
    """Write (height, width) ARGB pixels as a PNG, atomically."""
    from PySide6.QtGui import QImage

    from desktop_app.ui.image_files import save_image

    image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.shape[1] * 4, QImage.Format.Format_ARGB32)
    save_image(image, target)
