"""A reference model of what a MIDI player sounds from a file, independent of the importer: the
tracks are merged into one stream (at one tick, in track order, as type 1 players and FluidSynth
do, for type 0, 1 and 2 alike), a note-on starts a voice, and a note-off (or a note-on with
velocity 0) releases every sounding voice of its key on its channel, in whatever track it stands.

One idiom is read as its writer meant it (`written_zero_length`): music21 and other notation
exporters write a zero-length note (a grace note) as an off that releases nothing of its own track
followed, at the same tick and in the same track, by the on of that key. It is a voice that sounds
nothing (start == end); a literal player would hold it until the key's next note-off, which is the
hang the app must not copy. A voice nothing releases has end None: the player stops it when the
file ends."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import mido

from desktop_app.music.controls import SUSTAIN_PEDAL
from desktop_app.music.song import DEFAULT_US_PER_BEAT


@dataclass(frozen=True, slots=True)
class Voice:
    """One sounded note: ticks of its note-on and release (None: never released), its channel,
    key, velocity, and the program its channel had when it began."""

    start: int
    end: int | None
    channel: int
    pitch: int
    velocity: int
    program: int


@dataclass
class Performance:
    """What a player sounds from a file: the voices, the tempo map and each channel's sustain
    pedal as (tick, value) changes, and the tick where the file ends."""

    voices: list[Voice] = field(default_factory=list)
    tempos: list[tuple[int, int]] = field(default_factory=list)
    pedals: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    end: int = 0


def merged_events(midi: mido.MidiFile) -> tuple[list[tuple[int, int, int, mido.Message]], int]:
    """Every message as (tick, track index, index in its track, message) in the order a player
    sends them, and the tick where the last track ends."""
    events = []
    end = 0
    for index, track in enumerate(midi.tracks):
        tick = 0
        for seq, msg in enumerate(track):
            tick += msg.time
            events.append((tick, index, seq, msg))
        end = max(end, tick)
    events.sort(key=lambda e: (e[0], e[1], e[2]))  # a player's merge: by tick, then track order
    return events, end


def written_zero_length(track: mido.MidiTrack) -> set[int]:
    """Indices of the note-ons in `track` that are zero-length notes written off-then-on: the on
    follows, at the same tick, an off of its key and channel that found nothing of the track
    sounding, and the track never releases it otherwise: the key's next event is another on, or an
    off that is itself such an off (a literal player holds the note until then). An off that finds
    nothing and is followed by an on that the next off releases is a stray off before a real note."""
    keyed: dict[tuple[int, int], list[tuple[int, int, bool]]] = defaultdict(list)  # (seq, tick, is_on)
    held: dict[tuple[int, int], int] = defaultdict(int)
    orphan: dict[tuple[int, int], int] = {}  # key -> tick of its last off that found nothing
    candidates = False  # an on right after such an off: without one, no note is zero-length
    tick = 0
    for seq, msg in enumerate(track):
        tick += msg.time
        kind = msg.type
        if kind == "note_on" or kind == "note_off":
            key = (msg.channel, msg.note)
            is_on = kind == "note_on" and msg.velocity > 0
            keyed[key].append((seq, tick, is_on))
            if is_on:
                held[key] += 1
                candidates = candidates or orphan.get(key) == tick
            elif held[key]:
                held[key] = 0
            else:
                orphan[key] = tick
    if not candidates:
        return set()
    zero = set()
    for events in keyed.values():
        held = 0
        orphan_tick, orphans = -1, 0  # offs that found nothing, at orphan_tick
        for i, (seq, tick, is_on) in enumerate(events):
            if not is_on:
                if held:
                    held = 0
                else:
                    orphans = orphans + 1 if orphan_tick == tick else 1
                    orphan_tick = tick
            elif orphan_tick == tick and orphans and _unreleased(events, i):
                orphans -= 1
                zero.add(seq)
            else:
                held += 1
    return zero


def _unreleased(events: list[tuple[int, int, bool]], i: int) -> bool:
    """Whether the on at events[i] is never released but by an off that begins a zero-length note."""
    if i + 1 == len(events) or events[i + 1][2]:
        return True
    _, off_tick, _ = events[i + 1]
    return i + 2 < len(events) and events[i + 2][2] and events[i + 2][1] == off_tick


def play(midi: mido.MidiFile) -> Performance:
    """The voices, tempo map and pedal changes a player sounds from `midi`."""
    events, end = merged_events(midi)
    voices: list[list] = []  # [start, end, channel, pitch, velocity, program]
    sounding: dict[tuple[int, int], list[int]] = defaultdict(list)
    zero = {(index, seq) for index, track in enumerate(midi.tracks) for seq in written_zero_length(track)}
    programs: dict[int, int] = defaultdict(int)
    tempos: dict[int, int] = {}
    pedals: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for tick, index, seq, msg in events:
        kind = msg.type
        if kind == "note_on" and msg.velocity > 0:
            if (index, seq) in zero:  # the zero-length note its writer meant
                voices.append([tick, tick, msg.channel, msg.note, msg.velocity, programs[msg.channel]])
                continue
            sounding[(msg.channel, msg.note)].append(len(voices))
            voices.append([tick, None, msg.channel, msg.note, msg.velocity, programs[msg.channel]])
        elif kind in ("note_off", "note_on"):
            for v in sounding.pop((msg.channel, msg.note), ()):
                voices[v][1] = tick
        elif kind == "program_change":
            programs[msg.channel] = msg.program
        elif kind == "control_change" and msg.control == SUSTAIN_PEDAL:
            pedals[msg.channel].append((tick, msg.value))
        elif kind == "set_tempo" and msg.tempo > 0:
            tempos[tick] = msg.tempo
    return Performance(
        voices=[Voice(*v) for v in voices],
        tempos=_changes(tempos, DEFAULT_US_PER_BEAT),
        pedals={ch: p for ch, moves in sorted(pedals.items()) if (p := _moves(moves))},
        end=end,
    )


def _changes(values: dict[int, int], default: int) -> list[tuple[int, int]]:
    """(tick, value) where the value changes, from `default` at tick 0: two tempo maps that
    sound alike compare equal."""
    out = [(0, default)]
    for tick, value in sorted(values.items()):
        if value != out[-1][1]:
            out.append((tick, value))
    if out[1:] and out[1][0] == 0:
        out.pop(0)
    return out


def _moves(moves: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pedal moves that change its value (from up), in order; a lift and press at one tick
    stay two moves."""
    out, value = [], 0
    for tick, v in moves:
        if v != value:
            out.append((tick, v))
            value = v
    return out
