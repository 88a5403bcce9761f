"""A song: PPQ, tempo map, meter, key and tracks. Immutable: edits return a new Song that shares
the unchanged tracks, so undo keeps whole songs cheaply and threads can read one safely."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from desktop_app.music.timing import Meter, TempoMap
from desktop_app.music.track import Track

DEFAULT_PPQ = 480
DEFAULT_US_PER_BEAT = 500_000  # 120 BPM


@dataclass(frozen=True, slots=True)
class TempoChange:
    """From `tick` on, a quarter note lasts `us_per_beat` microseconds (MIDI's own unit, exact)."""

    tick: int
    us_per_beat: int

    @property
    def bpm(self) -> float:
        return 60_000_000 / self.us_per_beat

    @staticmethod
    def from_bpm(tick: int, bpm: float) -> "TempoChange":
        return TempoChange(tick, round(60_000_000 / bpm))


@dataclass(frozen=True, slots=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int


_MAJOR_BY_SHARPS = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
_MINOR_BY_SHARPS = ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#")
KEY_NAMES = frozenset(_MAJOR_BY_SHARPS) | frozenset(k + "m" for k in _MINOR_BY_SHARPS)


def key_name(sharps: int, minor: bool) -> str:
    """The MIDI spelling of the key with `sharps` sharps (negative: flats), e.g. key_name(-3, True) == "Cm"."""
    sharps = max(-7, min(7, sharps))
    return _MINOR_BY_SHARPS[sharps + 7] + "m" if minor else _MAJOR_BY_SHARPS[sharps + 7]


@dataclass(frozen=True, slots=True)
class KeySignature:
    """`key` in MIDI file spelling: "C", "F#", "Bb" for major, with "m" for minor ("Am", "Ebm")."""

    tick: int
    key: str

    @property
    def is_minor(self) -> bool:
        return self.key.endswith("m")

    @property
    def tonic(self) -> str:
        return self.key[:-1] if self.is_minor else self.key

    def display_name(self) -> str:
        return f"{self.tonic} {'minor' if self.is_minor else 'major'}"


@dataclass(frozen=True)
class Song:
    ppq: int = DEFAULT_PPQ
    tempos: tuple[TempoChange, ...] = (TempoChange(0, DEFAULT_US_PER_BEAT),)
    time_signatures: tuple[TimeSignature, ...] = (TimeSignature(0, 4, 4),)
    keys: tuple[KeySignature, ...] = ()
    tracks: tuple[Track, ...] = field(default_factory=tuple)
    title: str = ""

    @cached_property
    def tempo_map(self) -> TempoMap:
        return TempoMap(self.ppq, [(t.tick, t.us_per_beat) for t in self.tempos])

    @cached_property
    def meter(self) -> Meter:
        return Meter(self.ppq, [(t.tick, t.numerator, t.denominator) for t in self.time_signatures])

    @property
    def key(self) -> KeySignature | None:
        return self.keys[0] if self.keys else None

    @property
    def time_signature(self) -> TimeSignature:
        """The time signature of the first full bar: the song's metre (4/4 for a chorale that
        opens with a 1/4 pickup)."""
        ordered = sorted(self.time_signatures, key=lambda t: t.tick)
        return ordered[1] if self.meter.first_bar == 0 else ordered[0]

    @cached_property
    def end_tick(self) -> int:
        return max((t.end_tick for t in self.tracks), default=0)

    def prepare(self) -> "Song":
        """Compute the cached arrays views need, so a worker thread can do it instead of the GUI."""
        for track in self.tracks:
            track.note_array
        self.end_tick
        return self

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    @property
    def duration_seconds(self) -> float:
        return float(self.tempo_map.seconds(self.end_tick))

    def with_tracks(self, tracks: tuple[Track, ...] | list[Track]) -> "Song":
        return replace(self, tracks=tuple(tracks))

    def with_track(self, index: int, track: Track) -> "Song":
        tracks = list(self.tracks)
        tracks[index] = track
        return self.with_tracks(tracks)
