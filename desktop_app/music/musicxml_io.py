"""MusicXML and compressed MXL import through music21: one track per part, ties joined,
tempo, meter and key carried over, at 480 ticks per quarter note."""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass

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
    signatures = _bar_signatures(parts[0], ppq) if isinstance(score, stream.Score) else {}
    if not signatures:  # a score without measures: its time signatures as they stand
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


@dataclass
class _Bar:
    """One bar of a score as the app will count it: where it starts, how long it is, and the
    signatures in force in its measures (two when a measure split across a change is joined)."""

    start: int
    length: int
    signatures: list[tuple[int, int, int]]  # (numerator, denominator, full bar length in ticks)


def _bar_signatures(part, ppq: int) -> dict[int, tuple[int, int]]:
    """Time signatures at ticks that put the app's barlines where the score's bars begin.

    A short first measure is a pickup: it gets a signature of its own length (1/4 for a quarter),
    the MIDI way that `Meter` reads as bar 0 before the first downbeat. A bar split in two
    measures (at a repeat sign or a change of metre: 3 beats, then 1) stays one bar. Any other
    measure of odd length gets a signature of its length for that bar. A short last measure keeps
    its signature: the song just ends. Empty when the part has no measures."""
    from music21 import stream

    measures = list(part.getElementsByClass(stream.Measure))
    starts = [round(float(m.offset) * ppq) for m in measures]
    if measures:
        starts.append(starts[-1] + round(float(measures[-1].duration.quarterLength) * ppq))
    bars: list[_Bar] = []
    current = None
    for i, m in enumerate(measures):
        current = m.timeSignature or current
        numerator, denominator = (current.numerator, current.denominator) if current is not None else (4, 4)
        full = round(4 * ppq * numerator / denominator)
        length = starts[i + 1] - starts[i]
        if length <= 0:
            continue
        previous = bars[-1] if bars else None
        if (previous is not None and length < full and _is_open(previous, len(bars) == 1)
                and previous.length + length <= max(full, previous.signatures[0][2])):
            previous.length += length  # the second part of a split bar
            previous.signatures.append((numerator, denominator, full))
            continue
        bars.append(_Bar(starts[i], length, [(numerator, denominator, full)]))
    signatures: dict[int, tuple[int, int]] = {}
    in_force, exact = None, True
    for index, bar in enumerate(bars):
        fitting = [(n, d) for n, d, full in bar.signatures if full == bar.length]
        if fitting or (index == len(bars) - 1 and index > 0 and bar.length < bar.signatures[0][2]):
            signature = fitting[0] if fitting else bar.signatures[0][:2]
        else:
            signature = _signature_of_length(bar.length, bar.signatures[0][1], ppq)
        if signature != in_force or not exact:
            signatures[bar.start] = signature
        in_force = signature
        exact = round(4 * ppq * signature[0] / signature[1]) == bar.length
    return signatures


def _is_open(bar: _Bar, is_first: bool) -> bool:
    """Whether a bar is shorter than its signature and can take the rest of a split bar (a
    pickup cannot: it is the end of a bar that the score never began)."""
    return not is_first and bar.length < bar.signatures[-1][2] and len(bar.signatures) == 1


def _signature_of_length(length: int, denominator: int, ppq: int) -> tuple[int, int]:
    """A time signature whose bar lasts `length` ticks, in the given beat unit or a finer one
    (a power of two, as MIDI files need): 1/4 for a quarter note, 3/8 for a dotted quarter."""
    while (length * denominator) % (4 * ppq) and denominator < 64:
        denominator *= 2
    return max(1, min(255, round(length * denominator / (4 * ppq)))), denominator
