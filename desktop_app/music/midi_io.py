"""Standard MIDI files in and out, through mido. Import splits each MIDI track by channel into
tracks and reads the notes a player sounds; export writes type 1 with a conductor track so that a
player sounds the notes as the roll shows them. docs/midi-files.md says how files are read.

Reading notes, as a player does (music/midi_player.py is the reference): within a track, a note-off
(or a note-on of velocity 0) ends every sounding note of its key and channel, so an extra strike
never shifts the pairing; an off that finds nothing sounding, followed at the same tick by an on of
that key, is the zero-length note it was written as (music21's grace notes) unless the track's next
off of that key releases it (then it was a stray off before a real note); a note its own track
never releases ends at the next off of its key and channel in another track, or when the file ends;
a drum hit with no note-off anywhere is a short one; a note also ends where a player ends it at
another track's off that export would not write back. Type 0, 1 and 2 files are all read the same way:
tracks side by side from tick 0, merged at one tick in track order, as FluidSynth plays them.
Program changes and the sustain pedal (CC64) are kept over time; text is decoded as the file meant."""

from __future__ import annotations

import bisect
import io
import os
import struct
from collections import Counter, defaultdict

import mido

from desktop_app.music.controls import KEPT_CONTROLS, ControlChange, ProgramChange
from desktop_app.music.errors import MusicFileError
from desktop_app.music.files import atomic_write_bytes, read_file_bytes
from desktop_app.music.gm import program_name
from desktop_app.music.midi_player import written_zero_length
from desktop_app.music.midi_text import text_encoding
from desktop_app.music.note import Note
from desktop_app.music.song import DEFAULT_US_PER_BEAT, KeySignature, Song, TempoChange, TimeSignature
from desktop_app.music.sounding import CONTROL, note_event_array
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
    """The track's set-up, program and controller changes and notes, so that a player sounds the
    notes as the roll shows them (see music/sounding.py)."""
    ch = track.midi_channel
    events = [
        (0, -1, "track_name", {"name": track.name}),
        (0, -1, "program_change", {"channel": ch, "program": track.program}),
        (0, -1, "control_change", {"channel": ch, "control": 7, "value": track.volume}),
        (0, -1, "control_change", {"channel": ch, "control": 10, "value": track.pan}),
    ]
    events += [(p.tick, CONTROL, "program_change", {"channel": ch, "program": p.program}) for p in track.programs]
    events += [
        (c.tick, CONTROL, "control_change", {"channel": ch, "control": c.control, "value": c.value})
        for c in track.controls
    ]
    for tick, rank, pitch, velocity in note_event_array(track.note_array).tolist():
        if velocity:
            events.append((tick, rank, "note_on", {"channel": ch, "note": pitch, "velocity": velocity}))
        else:
            events.append((tick, rank, "note_off", {"channel": ch, "note": pitch}))
    return events


def _to_track(events: list[tuple[int, int, str, dict]]) -> mido.MidiTrack:
    events.sort(key=lambda e: (e[0], e[1]))  # stable: events of one tick and rank keep their order
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
    """Read notes as a player sounds them (see the module docstring and docs/midi-files.md)."""
    encoding = text_encoding([_raw(m) for t in midi.tracks for m in t if m.type in _TEXT_META])
    ppq = midi.ticks_per_beat
    tempos: dict[int, int] = {}
    signatures: dict[int, tuple[int, int]] = {}
    keys: dict[int, str] = {}
    names: list[str] = []
    notes: dict[tuple[int, int], list[Note]] = defaultdict(list)  # (track, channel) -> notes
    setup: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)  # first volume and pan
    changes: list[tuple[int, int, int, int, str, int]] = []  # (tick, track, seq, channel, kind, value)
    offs: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (channel, key) -> (tick, track)
    unreleased: list[tuple[int, int, int, int, int]] = []  # (track, channel, key, start, velocity)
    file_end = 0
    for index, mtrack in enumerate(midi.tracks):
        tick = 0
        name = ""
        held: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        zero = written_zero_length(mtrack)
        for seq, msg in enumerate(mtrack):
            tick += msg.time
            kind = msg.type
            if kind == "note_on" and msg.velocity > 0:
                if seq in zero:  # off, then on at one tick: the zero-length note it was written as
                    notes[(index, msg.channel)].append(Note(msg.note, tick, 0, msg.velocity))
                else:
                    held[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif kind == "note_off" or kind == "note_on":
                key = (msg.channel, msg.note)
                offs[key].append((tick, index))
                sounding = held.pop(key, None)
                if sounding:  # an off ends every sounding note of its key, as a player does
                    notes[(index, msg.channel)] += [Note(msg.note, s, tick - s, v) for s, v in sounding]
            elif kind == "set_tempo":
                if msg.tempo > 0:
                    tempos[tick] = msg.tempo
            elif kind == "time_signature":
                if msg.numerator > 0 and msg.denominator <= 64:
                    signatures[tick] = (msg.numerator, msg.denominator)
            elif kind == "key_signature":
                keys[tick] = msg.key
            elif kind == "track_name":
                name = name or _decoded(msg, encoding).strip()
            elif kind == "program_change":
                changes.append((tick, index, seq, msg.channel, "program", msg.program))
            elif kind == "control_change":
                if msg.control in KEPT_CONTROLS:
                    changes.append((tick, index, seq, msg.channel, f"cc{msg.control}", msg.value))
                elif msg.control in (7, 10):
                    setup[(index, msg.channel)].setdefault("volume" if msg.control == 7 else "pan", msg.value)
        for (channel, pitch), sounding in held.items():
            unreleased += [(index, channel, pitch, s, v) for s, v in sounding]
        names.append(name)
        file_end = max(file_end, tick)
    strikes: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for index, channel, pitch, start, _ in unreleased:
        strikes[(index, channel, pitch)].append(start)
    for key_offs in offs.values():
        key_offs.sort()
    for index, channel, pitch, start, velocity in unreleased:
        end = _release_tick(offs.get((channel, pitch), []), index, start)
        if end is None and channel == DRUM_CHANNEL:  # a drum hit with no note-off: a short one,
            later = strikes[(index, channel, pitch)]  # ending by the next strike of its key
            after = later[bisect.bisect_right(later, start)] if later[-1] > start else None
            end = start + max(1, ppq // 4) if after is None else min(start + max(1, ppq // 4), after)
        notes[(index, channel)].append(Note(pitch, start, (file_end if end is None else end) - start, velocity))
    _end_where_players_do(notes, offs)
    if names and names[0] and not any(i == 0 for i, _ in notes):
        title = names[0]  # a conductor track's name is the song's title
    channels_of = Counter(index for index, _ in notes)
    changes.sort(key=lambda c: c[:3])
    tracks = [
        _track(channel, names[index], channels_of[index] == 1, notes[(index, channel)], setup[(index, channel)],
               _channel_changes(changes, notes, index, channel))
        for index, channel in sorted(notes)
    ]
    tempos.setdefault(0, DEFAULT_US_PER_BEAT)  # the standard's defaults hold until the first change
    signatures.setdefault(0, (4, 4))
    return Song(
        ppq=ppq,
        tempos=tuple(TempoChange(t, us) for t, us in sorted(tempos.items())),
        time_signatures=tuple(TimeSignature(t, n, d) for t, (n, d) in sorted(signatures.items())),
        keys=tuple(KeySignature(t, k) for t, k in sorted(keys.items())),
        tracks=tuple(tracks),
        title=title,
    )


_TEXT_META = {
    "track_name", "instrument_name", "text", "copyright", "lyrics", "marker", "cue_marker", "program_name", "device_name",
}


def _raw(msg: mido.MetaMessage) -> bytes:
    """The bytes of a text meta event as the file holds them (mido decodes them as Latin-1)."""
    return (msg.name if hasattr(msg, "name") else msg.text).encode("latin-1")


def _decoded(msg: mido.MetaMessage, encoding: str) -> str:
    return _raw(msg).decode(encoding, errors="replace")


def _release_tick(offs: list[tuple[int, int]], index: int, start: int) -> int | None:
    """Where a player releases a note that track `index` began at `start` and never released:
    the next note-off of its key and channel in the merged tracks (`offs`: sorted (tick, track)),
    or None."""
    i = bisect.bisect_right(offs, (start, index))
    return offs[i][0] if i < len(offs) else None


def _end_where_players_do(notes: dict[tuple[int, int], list[Note]], offs: dict[tuple[int, int], list[tuple[int, int]]]) -> None:
    """End a note early where a player does at a note-off of its key and channel in another track
    that export would not write back: a stray or duplicate off, or the off of a note that itself
    ends early. Without it the exported file would sound longer notes than the original (tracks
    sharing a channel release each other's notes in a player). Repeats until nothing changes."""
    shared = {key for key, key_offs in offs.items() if len({track for _, track in key_offs}) > 1}
    if not shared:
        return
    while True:
        written: dict[tuple[int, int, int], set[int]] = defaultdict(set)  # (track, channel, key) -> off ticks
        for (index, channel), track_notes in notes.items():
            for n in track_notes:
                written[(index, channel, n.pitch)].add(n.end)
        changed = False
        for (index, channel), track_notes in notes.items():
            cuts = set()
            for i, n in enumerate(track_notes):
                if n.duration == 0 or (channel, n.pitch) not in shared:
                    continue
                key_offs = offs[(channel, n.pitch)]
                j = bisect.bisect_right(key_offs, (n.start, index))
                while j < len(key_offs) and key_offs[j][0] < n.end and key_offs[j][1] == index:
                    j += 1
                if j < len(key_offs) and key_offs[j][0] < n.end:
                    tick, track = key_offs[j]
                    if tick not in written[(track, channel, n.pitch)]:
                        track_notes[i] = Note(n.pitch, n.start, tick - n.start, n.velocity)
                        cuts.add((n.pitch, tick))
                        changed = True
            for pitch, tick in cuts:  # the notes of the key held across it end with it, as they did
                for i, n in enumerate(track_notes):
                    if n.pitch == pitch and n.start < tick < n.end:
                        track_notes[i] = Note(n.pitch, n.start, tick - n.start, n.velocity)
        if not changed:
            return


def _channel_changes(changes, notes, index: int, channel: int) -> list[tuple[int, str, int]]:
    """The program and controller changes that reach track `index`'s notes on `channel`: its own,
    and those of tracks that play no note on that channel (a set-up or conductor track), in the
    order a player meets them."""
    return [
        (tick, kind, value)
        for tick, i, _, ch, kind, value in changes
        if ch == channel and (i == index or (i, channel) not in notes)
    ]


def _track(channel: int, name: str, only_channel: bool, notes: list[Note], setup: dict[str, int],
           changes: list[tuple[int, str, int]]) -> Track:
    """One channel of one MIDI track as a track; `only_channel`: the MIDI track plays no other."""
    first = min(n.start for n in notes)
    program = 0
    programs: dict[int, int] = {}
    controls: list[ControlChange] = []
    for tick, kind, value in changes:
        if kind == "program":
            if tick <= first:
                program = value  # in effect when the track's first note starts
            else:
                programs[tick] = value
        else:
            controls.append(ControlChange(tick, int(kind[2:]), value))
    is_drum = channel == DRUM_CHANNEL
    instrument = program_name(program, is_drum)
    label = (name or instrument) if only_channel else (f"{name} ({instrument})" if name else instrument)
    return Track(
        name=label,
        program=program,
        channel=channel,
        is_drum=is_drum,
        notes=tuple(sorted(notes, key=lambda n: (n.start, n.pitch))),
        volume=setup.get("volume", 100),
        pan=setup.get("pan", 64),
        programs=tuple(_program_changes(program, programs)),
        controls=tuple(_control_changes(controls)),
    )


def _program_changes(program: int, changes: dict[int, int]) -> list[ProgramChange]:
    """The changes that change something, the last of each tick."""
    out = []
    for tick, value in sorted(changes.items()):
        if value != program:
            out.append(ProgramChange(tick, value))
            program = value
    return out


def _control_changes(changes: list[ControlChange]) -> list[ControlChange]:
    """The moves in order, repeats included: tracks that share a channel move one pedal, so a
    move that repeats this track's last value may undo another track's; a pedal lifted and
    pressed again at one tick stays two moves, as a player hears them."""
    return changes
