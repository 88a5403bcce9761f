"""Saving images (spectrograms, screenshots) the way every file is saved: atomically, so a full
disk or a crash leaves the old picture whole."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QImage, QPixmap

from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_output

IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG", ".bmp": "BMP"}


def save_image(image: QImage | QPixmap, path: str | os.PathLike[str]) -> None:
    """Write `image` to `path` in the format its extension names, atomically; MusicFileError
    with the reason when it cannot."""
    fmt = IMAGE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise MusicFileError(path, f"cannot write images of that type; name the file {', '.join(IMAGE_FORMATS)}")
    with atomic_output(path) as tmp:
        if not image.save(str(tmp), fmt):
            raise MusicFileError(path, "cannot write the image there (is the disk full?)")
