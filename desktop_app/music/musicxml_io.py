"""MusicXML and compressed MXL import through music21: one track per part, ties joined,
tempo, meter and key carried over, at 480 ticks per quarter note."""

from __future__ import annotations

import os
import re
import zipfile

from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import read_file_bytes
from desktop_app.music.limits import MAX_MUSICXML_BYTES, describe_bytes
from desktop_app.music.note import Note
from desktop_app.music.song import DEFAULT_PPQ, KeySignature, Song, TempoChange, TimeSignature, key_name
from desktop_app.music.track import DRUM_CHANNEL, Track

MUSICXML_EXTENSIONS = (".musicxml", ".xml", ".mxl")
DEFAULT_VELOCITY = 90



def read_musicxml(path: str | os.PathLike[str]) -> Song:
    """Parse a .musicxml/.xml/.mxl file; anything music21 cannot read becomes a MusicFileError."""
    source = os.fspath(path)
    data = read_file_bytes(path)
    if not data.strip():
        raise MusicFileError(source, "the file is empty")
    compressed = source.lower().endswith(".mxl")
    if compressed and not zipfile.is_zipfile(source):
        raise MusicFileError(source, "not a compressed MusicXML (.mxl) file: it is not a zip archive")
    if compressed and not _zip_holds_a_score(source):
        raise MusicFileError(source, "not a compressed MusicXML (.mxl) file: the zip archive holds no MusicXML score")
    if compressed:
        _check_unpacked_size(source)
    if not compressed and b"<score-partwise" not in data[:4096] and b"<score-timewise" not in data[:4096]:
        raise MusicFileError(source, "not a MusicXML file: no <score-partwise> or <score-timewise> element")
    from music21 import converter  # imported here: music21 takes a while to load

    try:
        if compressed:  # music21 knows an archive only by a lower-case ".mxl": open it here
            score = converter.parseData(converter.ArchiveManager(source).getData(), format="musicxml")
        else:
            score = converter.parse(source, format="musicxml", forceSource=True)
    except Exception as e:  # music21 raises many kinds for malformed scores
        raise MusicFileError(source, f"unreadable MusicXML ({str(e).strip() or type(e).__name__})") from None
    song = score_to_song(score, title=os.path.splitext(os.path.basename(source))[0])
    if not song.tracks:
        raise MusicFileError(source, "the score holds no parts with notes")
    return song


def _check_unpacked_size(source: str) -> None:
    """Refuse an archive that unpacks to more than MAX_MUSICXML_BYTES (a zip bomb). zipfile never
    inflates a member past the size the archive declares, so the declared sizes are the bound."""
    try:
        with zipfile.ZipFile(source) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return
    if size > MAX_MUSICXML_BYTES:
        raise MusicFileError(
            source, f"too large: the archive unpacks to {describe_bytes(size)}; "
            f"the app reads MusicXML of up to {describe_bytes(MAX_MUSICXML_BYTES)}"
        )


def _zip_holds_a_score(source: str) -> bool:
    """Whether the archive has a .xml or .musicxml file besides its META-INF folder."""
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.lower().endswith((".xml", ".musicxml")) and not n.upper().startswith("META-INF/") for n in names)


def score_to_song(score, title: str = "", ppq: int = DEFAULT_PPQ) -> Song:
    """Convert a music21 Score (a file or a corpus piece) into a Song, one track per part."""
    from music21 import key as m21key
    from music21 import meter, stream, tempo

    def ticks(quarter_length) -> int:
        return round(float(quarter_length) * ppq)

    parts = list(score.parts) or [score]
    tracks: list[Track] = []
    channel = 0
    for index, part in enumerate(parts):
        notes: list[Note] = []
        for el in part.stripTies().flatten().notes:
            length = ticks(el.duration.quarterLength)
            if length <= 0 or el.duration.isGrace:
                continue
            velocity = el.volume.velocity if el.volume.velocity is not None else DEFAULT_VELOCITY
            start = ticks(el.offset)
            for p in getattr(el, "pitches", ()):
                notes.append(Note(int(p.midi), start, length, int(min(127, max(1, velocity)))))
        if not notes:
            continue
        instrument = part.getInstrument(returnDefault=True)
        is_drum = instrument.midiChannel == DRUM_CHANNEL
        program = instrument.midiProgram if instrument.midiProgram is not None else 0
        name = (part.partName or instrument.partName or instrument.instrumentName or f"Part {index + 1}").strip()
        name = re.sub(r"\s*[\r\n]+\s*", " / ", name)  # some scores break names over lines
        tracks.append(
            Track(
                name=name,
                program=int(program),
                channel=DRUM_CHANNEL if is_drum else channel,
                is_drum=is_drum,
                notes=tuple(sorted(notes, key=lambda n: (n.start, n.pitch))),
            )
        )
        if not is_drum:
            channel = channel + 1 if channel + 1 != DRUM_CHANNEL else channel + 2
            channel %= 16
    flat = (parts[0] if isinstance(score, stream.Score) else score).flatten()
    everything = score.flatten()
    tempos = {
        ticks(mm.offset): round(60_000_000 / mm.getQuarterBPM())
        for mm in everything.getElementsByClass(tempo.MetronomeMark)
        if mm.getQuarterBPM()
    }
    signatures = {
        ticks(ts.offset): (ts.numerator, ts.denominator) for ts in flat.getElementsByClass(meter.TimeSignature)
    }
    keys = {}
    for ks in flat.getElementsByClass(m21key.KeySignature):
        keys[ticks(ks.offset)] = key_name(ks.sharps, isinstance(ks, m21key.Key) and ks.mode == "minor")
    tempos.setdefault(0, 500_000)
    signatures.setdefault(0, (4, 4))
    metadata = score.metadata
    name = (metadata.title or metadata.movementName or "") if metadata is not None else ""
    if name.lower().endswith(MUSICXML_EXTENSIONS):  # music21 falls back to the file name
        name = os.path.splitext(name)[0]
    return Song(
        ppq=ppq,
        tempos=tuple(TempoChange(t, us) for t, us in sorted(tempos.items())),
        time_signatures=tuple(TimeSignature(t, n, d) for t, (n, d) in sorted(signatures.items())),
        keys=tuple(KeySignature(t, k) for t, k in sorted(keys.items())),
        tracks=tuple(tracks),
        title=(name or title or "").strip(),
    )
