"""What one unit of a dataset becomes: a MIDI, MusicXML or ABC tune read with the app's own
readers and turned into a Piece; a chorale reduced to its sung parts. The cache's parser version
hashes this module, so changing what a file becomes refreshes the cache."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from desktop_app.ml.data.convert import piece_from_song, piece_id
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.data.sources import Unit
from desktop_app.music.errors import MusicFileError

_NO_METER = re.compile(rb"^M:\s*(none)?\s*$", re.IGNORECASE | re.MULTILINE)
_HAS_METER_LINE = re.compile(rb"^M:", re.MULTILINE)
VOICE_PARTS = ("sopr", "alto", "teno", "bass")


def parse_unit(unit: Unit) -> Piece:
    """Read one unit with the app's own readers and convert it. The cache is keyed by content, so a
    title that is only the file's name (the readers' fallback) is dropped: the unit's label names it."""
    if unit.kind == "midi":
        from desktop_app.music.midi_io import read_midi

        piece = piece_from_song(read_midi(unit.path), unit.label, unit.path)
    elif unit.kind == "musicxml":
        from desktop_app.music.musicxml_io import read_musicxml

        piece = piece_from_song(read_musicxml(unit.path), unit.label, unit.path)
    elif unit.kind == "chorale":
        piece = _parse_chorale(unit)
    elif unit.kind == "abc":
        piece = _parse_abc(unit)
    else:
        raise MusicFileError(unit.path, "unknown file type")
    return replace(piece, title="") if piece.title == Path(unit.path).stem else piece


def _parse_chorale(unit: Unit) -> Piece:
    """A chorale keeps its sung parts (soprano, alto, tenor, bass: voices 0-3) and drops the
    instruments that double or decorate them, so a chorale stored with and without its orchestra
    is one piece, and every piece has the same voices. Its soprano line is its split group: the
    corpus also holds chorales twice with an inner voice changed, or transposed."""
    from desktop_app.music.musicxml_io import read_musicxml

    song = read_musicxml(unit.path)
    sung = [t for t in song.tracks if t.name.lower().startswith(VOICE_PARTS)]
    roles = {t.name.lower()[:4] for t in sung}
    if len(roles) < len(VOICE_PARTS):
        parts = ", ".join(t.name for t in song.tracks)
        raise MusicFileError(unit.path, f"not a four-part chorale: its parts are {parts}")
    piece = piece_from_song(song.with_tracks(sung), unit.label, unit.path)
    return replace(piece, group="soprano:" + piece_id(piece.notes[piece.notes[:, 0] == 0]))


def _parse_abc(unit: Unit) -> Piece:
    from music21 import converter, stream

    from desktop_app.music.musicxml_io import score_to_song

    data = unit.data if unit.data is not None else Path(unit.path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # the Essen collection's encoding
    try:
        score = converter.parseData(text, format="abc")
    except Exception as e:
        raise MusicFileError(unit.path, f"unreadable ABC ({str(e).strip() or type(e).__name__})") from None
    if isinstance(score, stream.Opus):
        score = score.scores[0] if score.scores else stream.Score()
    song = score_to_song(score)
    has_meter = bool(_HAS_METER_LINE.search(data)) and not _NO_METER.search(data)
    return piece_from_song(song, unit.label, unit.path, has_meter=has_meter)
