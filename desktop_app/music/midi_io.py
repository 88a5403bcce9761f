"""Standard MIDI files in and out, through mido. Import splits each MIDI track by channel into
tracks; export writes type 1 with a conductor track. A round trip keeps every note tick-exact."""

from __future__ import annotations

import io
import os
import struct
from collections import defaultdict, deque

import mido

from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_write_bytes, read_file_bytes
from desktop_app.music.gm import program_name
from desktop_app.music.note import Note
from desktop_app.music.song import DEFAULT_US_PER_BEAT, KeySignature, Song, TempoChange, TimeSignature
from desktop_app.music.track import DRUM_CHANNEL, Track

MIDI_EXTENSIONS = (".mid", ".midi", ".smf", ".kar")


def read_midi(path: str | os.PathLike[str]) -> Song:
    data = read_file_bytes(path)
    return parse_midi(data, os.fspath(path))


def parse_midi(data: bytes, source: str = "<bytes>") -> Song:
    """Read a standard MIDI file from bytes; `source` names it in errors."""
    clean = _checked_smf(data, source)
    try:
        midi = mido.MidiFile(file=io.BytesIO(clean))
    except Exception as e:  # mido's parser raises many kinds; all mean damaged data
        raise MusicFileError(source, f"damaged MIDI data ({_describe(e)})") from None
    title = os.path.splitext(os.path.basename(source))[0] if source != "<bytes>" else ""
    return _song_from_mido(midi, title)


def write_midi(song: Song, path: str | os.PathLike[str]) -> None:
    atomic_write_bytes(path, midi_bytes(song))


def midi_bytes(song: Song) -> bytes:
    """The song as a type 1 standard MIDI file at the song's own PPQ."""
    midi = mido.MidiFile(type=1, ticks_per_beat=song.ppq, charset="utf-8")  # names in any script
    conductor = [(0, 0, "track_name", {"name": song.title})] if song.title else []
    conductor += [
        (ts.tick, 1, "time_signature", {"numerator": ts.numerator, "denominator": ts.denominator})
        for ts in song.time_signatures
    ]
    conductor += [(k.tick, 2, "key_signature", {"key": k.key}) for k in song.keys]
    conductor += [(t.tick, 3, "set_tempo", {"tempo": t.us_per_beat}) for t in song.tempos]
    midi.tracks.append(_to_track(conductor))
    midi.tracks.extend(_to_track(_track_events(track)) for track in song.tracks)
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


_META = {"track_name", "time_signature", "key_signature", "set_tempo"}


def _track_events(track: Track) -> list[tuple[int, int, str, dict]]:
    ch = track.midi_channel
    events = [
        (0, 0, "track_name", {"name": track.name}),
        (0, 1, "program_change", {"channel": ch, "program": track.program}),
        (0, 1, "control_change", {"channel": ch, "control": 7, "value": track.volume}),
        (0, 1, "control_change", {"channel": ch, "control": 10, "value": track.pan}),
    ]
    # At one tick: note-offs of earlier notes, then note-ons, then offs of zero-length notes,
    # so that first-on-first-off pairing on import rebuilds exactly these notes.
    # Notes of one pitch that start together go shortest first, as import pairs them.
    for n in sorted(track.notes, key=lambda n: (n.start, n.end)):
        events.append((n.start, 3, "note_on", {"channel": ch, "note": n.pitch, "velocity": n.velocity}))
        events.append((n.end, 2 if n.duration > 0 else 4, "note_off", {"channel": ch, "note": n.pitch}))
    return events


def _to_track(events: list[tuple[int, int, str, dict]]) -> mido.MidiTrack:
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    now = 0
    for tick, _, kind, fields in events:
        make = mido.MetaMessage if kind in _META else mido.Message
        track.append(make(kind, time=tick - now, **fields))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def _describe(e: Exception) -> str:
    text = str(e).strip()
    if isinstance(e, EOFError):
        return "it ends in the middle of an event"
    return text or type(e).__name__


def _checked_smf(data: bytes, source: str) -> bytes:
    """Check the chunk structure and give a precise reason when it is wrong. Returns the file with
    any non-track chunks and trailing bytes dropped, which mido would otherwise refuse."""
    if not data:
        raise MusicFileError(source, "the file is empty")
    if data[:4] != b"MThd":
        if data[:4] == b"RIFF" and data[8:12] == b"RMID":
            raise MusicFileError(source, "RIFF MIDI (.rmi) files are not supported; save it as a standard MIDI file")
        if _looks_like_text(data):
            raise MusicFileError(source, "not a MIDI file: it holds text, not an MThd header")
        raise MusicFileError(source, "not a MIDI file: it does not begin with an MThd header")
    if len(data) < 14:
        raise MusicFileError(source, "truncated: the MIDI header is incomplete")
    header_len, fmt, n_tracks, division = struct.unpack(">IHHH", data[4:14])
    if header_len < 6:
        raise MusicFileError(source, f"bad MIDI header length {header_len} (at least 6)")
    if fmt > 2:
        raise MusicFileError(source, f"unknown MIDI file format {fmt} (0, 1 or 2)")
    if n_tracks == 0:
        raise MusicFileError(source, "the MIDI header declares no tracks")
    if division == 0:
        raise MusicFileError(source, "the time division is zero ticks per quarter note")
    if division & 0x8000:
        raise MusicFileError(source, "SMPTE time division is not supported (only ticks per quarter note)")
    pos = 8 + header_len
    if pos > len(data):
        raise MusicFileError(source, "truncated: the MIDI header is incomplete")
    chunks = []
    while len(chunks) < n_tracks and pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack(">I", data[pos + 4 : pos + 8])
        body_end = pos + 8 + length
        if kind == b"MTrk":
            if body_end > len(data):
                raise MusicFileError(
                    source,
                    f"truncated: track {len(chunks) + 1} promises {length} bytes but only "
                    f"{len(data) - pos - 8} remain",
                )
            chunks.append(data[pos:body_end])
        elif not kind.isalpha():
            break  # not a chunk at all: junk where the next track should be
        pos = body_end
    if len(chunks) < n_tracks:
        raise MusicFileError(
            source, f"the header promises {n_tracks} track{'s' * (n_tracks != 1)} but the file holds {len(chunks)}"
        )
    # A longer header's extra fields are dropped here, so the length written must be 6.
    return b"MThd" + struct.pack(">IHHH", 6, fmt, n_tracks, division) + b"".join(chunks)


def _looks_like_text(data: bytes) -> bool:
    sample = data[:512]
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in sample)
    return printable >= 0.95 * len(sample)


def _song_from_mido(midi: mido.MidiFile, title: str) -> Song:
    tempos: dict[int, int] = {}
    signatures: dict[int, tuple[int, int]] = {}
    keys: dict[int, str] = {}
    tracks: list[Track] = []
    for index, mtrack in enumerate(midi.tracks):
        tick = 0
        name = ""
        notes: dict[int, list[Note]] = defaultdict(list)
        held: dict[tuple[int, int], deque] = defaultdict(deque)
        programs: dict[int, int] = {}
        volumes: dict[int, int] = {}
        pans: dict[int, int] = {}
        for msg in mtrack:
            tick += msg.time
            kind = msg.type
            if kind == "note_on" and msg.velocity > 0:
                held[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif kind == "note_off" or kind == "note_on":
                queue = held.get((msg.channel, msg.note))
                if queue:  # first on, first off: pairs overlapping notes of one pitch in order
                    start, velocity = queue.popleft()
                    notes[msg.channel].append(Note(msg.note, start, tick - start, velocity))
            elif kind == "set_tempo":
                if msg.tempo > 0:
                    tempos[tick] = msg.tempo
            elif kind == "time_signature":
                if msg.numerator > 0 and msg.denominator <= 64:
                    signatures[tick] = (msg.numerator, msg.denominator)
            elif kind == "key_signature":
                keys[tick] = msg.key
            elif kind == "track_name":
                name = name or msg.name.strip()
            elif kind == "program_change":
                programs.setdefault(msg.channel, msg.program)
            elif kind == "control_change":
                if msg.control == 7:
                    volumes.setdefault(msg.channel, msg.value)
                elif msg.control == 10:
                    pans.setdefault(msg.channel, msg.value)
        for (channel, pitch), queue in held.items():  # notes never released end with the track
            for start, velocity in queue:
                notes[channel].append(Note(pitch, start, tick - start, velocity))
        channels = sorted(notes)
        if not channels and index == 0 and name:
            title = name  # a conductor track's name is the song's title
        for channel in channels:
            program = programs.get(channel, 0)
            is_drum = channel == DRUM_CHANNEL
            instrument = program_name(program, is_drum)
            if len(channels) == 1:
                label = name or instrument
            else:
                label = f"{name} ({instrument})" if name else instrument
            tracks.append(
                Track(
                    name=label,
                    program=program,
                    channel=channel,
                    is_drum=is_drum,
                    notes=tuple(sorted(notes[channel], key=lambda n: (n.start, n.pitch))),
                    volume=volumes.get(channel, 100),
                    pan=pans.get(channel, 64),
                )
            )
    tempos.setdefault(0, DEFAULT_US_PER_BEAT)  # the standard's defaults hold until the first change
    signatures.setdefault(0, (4, 4))
    return Song(
        ppq=midi.ticks_per_beat,
        tempos=tuple(TempoChange(t, us) for t, us in sorted(tempos.items())),
        time_signatures=tuple(TimeSignature(t, n, d) for t, (n, d) in sorted(signatures.items())),
        keys=tuple(KeySignature(t, k) for t, k in sorted(keys.items())),
        tracks=tuple(tracks),
        title=title,
    )
