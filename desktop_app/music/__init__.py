"""The music itself: notes, tracks, songs, time, edits, grids and file formats. No Qt, no torch."""

from desktop_app.music.errors import MusicFileError
from desktop_app.music.note import Note
from desktop_app.music.song import KeySignature, Song, TempoChange, TimeSignature
from desktop_app.music.track import Track

__all__ = ["MusicFileError", "Note", "Track", "Song", "TempoChange", "TimeSignature", "KeySignature"]
