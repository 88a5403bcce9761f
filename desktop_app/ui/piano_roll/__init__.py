"""The piano-roll editor: a note area with keyboard, ruler and velocity lane sharing one viewport."""

from desktop_app.ui.piano_roll.editor import PianoRoll

__all__ = ["PianoRoll"]
