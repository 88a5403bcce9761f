"""The transformer's tokens: a compact REMI-like vocabulary over Pieces, with attribute controls and
bar infilling, and a decoder that reads any sequence.

Chosen over MidiTok by measurement (`.venv/bin/python scripts/measure_tokens.py 50`, 50 chorales,
11,795 notes): this scheme keeps every note exactly with 59.4 tokens per bar (its density and
polyphony controls included) and 303 tokens; MidiTok 3.1's REMI and TSD, with a program per voice
and 32 velocity bins, keep every note but move each velocity (90 becomes 91), need 67.6 and 66.6
tokens per bar and 397 and 444 tokens, and have no place for per-slot controls or masked bars.

A sequence, for a window of bars of a piece with V voices (tracks):

    BOS RANGE PITCH_lo PITCH_hi                           the pitch range of the window (a control)
    BAR  VOICE_0 DENS_d POLY_p <notes of voice 0> ... VOICE_V-1 DENS_d POLY_p <notes>    every bar
    ...
    EOS                                                   only when the piece ends in the window

A bar lists every voice, so a (bar, voice) slot is always at the same place. The notes of a slot
are in time order, each `[POS_s] [VEL_b] PITCH_p DUR_d`: POS (the step inside the bar, 16ths from
its downbeat) only when it changes, VEL (velocity in 32 bins) only when it changes within the slot
(a slot begins at DEFAULT_VELOCITY, the MusicXML default, so most chorale slots need none).
DENS and POLY are the slot's note density and polyphony in three levels (see `density_level`,
`polyphony_level`): learned as attributes, forced to the composer's choice when generating.

Infilling (as MMM and Composer's Assistant do): chosen slots keep their VOICE DENS POLY and hold one
MASK instead of their notes; after the last bar come SEP and, for every masked slot in order,
`FILL VOICE_v DENS_d POLY_p <notes> FILL_END`, then EOS.

Limits, counted as dropped when a note exceeds them: positions 0..47 (bars up to 12 beats), durations
1..64 steps (longer notes are cut to 4 bars of 4/4), voices 0..15.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

# ---------------------------------------------------------------------------------------------
# The vocabulary

SPECIALS = ("PAD", "BOS", "EOS", "BAR", "SEP", "MASK", "FILL", "FILL_END", "RANGE")
PAD, BOS, EOS, BAR, SEP, MASK, FILL, FILL_END, RANGE = range(len(SPECIALS))
LEVELS = ("low", "medium", "high")
MAX_VOICES = 16
MAX_POS = 48
MAX_DUR = 64
N_VEL = 32
DEFAULT_VELOCITY = 90

DENS0 = len(SPECIALS)
POLY0 = DENS0 + len(LEVELS)
VOICE0 = POLY0 + len(LEVELS)
POS0 = VOICE0 + MAX_VOICES
PITCH0 = POS0 + MAX_POS
DUR0 = PITCH0 + 128  # DUR0 + d - 1 is a duration of d steps
VEL0 = DUR0 + MAX_DUR
VOCAB_SIZE = VEL0 + N_VEL


def token_name(token: int) -> str:
    """A readable name for a token ("PITCH_60", "DUR_4", "DENS_low"), for debugging and tests."""
    for first, count, name in _RANGES:
        if first <= token < first + count:
            offset = token - first
            if name == "DENS" or name == "POLY":
                return f"{name}_{LEVELS[offset]}"
            return f"{name}_{offset + 1 if name == 'DUR' else offset}"
    return SPECIALS[token] if 0 <= token < len(SPECIALS) else f"?{token}"


_RANGES = ((DENS0, 3, "DENS"), (POLY0, 3, "POLY"), (VOICE0, MAX_VOICES, "VOICE"), (POS0, MAX_POS, "POS"),
           (PITCH0, 128, "PITCH"), (DUR0, MAX_DUR, "DUR"), (VEL0, N_VEL, "VEL"))


def is_kind(tokens, first: int, count: int):
    """Whether each token (an int or an array) lies in [first, first + count)."""
    return (tokens >= first) & (tokens < first + count)


def velocity_bin(velocity: int) -> int:
    return int(min(max(velocity, 0), 127)) // 4


def bin_velocity(index: int) -> int:
    """The velocity a bin decodes to: its middle (90 stays 90: the MusicXML default)."""
    return min(4 * index + 2, 127)


# ---------------------------------------------------------------------------------------------
# Controls


def density_level(n_notes: int, bar_steps: int) -> int:
    """Onsets per beat of a slot in three levels: low up to 0.75 (half notes and rests), medium up
    to 1.25 (quarters), high above (eighths and faster)."""
    per_beat = n_notes / max(bar_steps / 4, 0.25)
    return 0 if per_beat <= 0.75 else 1 if per_beat <= 1.25 else 2


def polyphony_level(starts: np.ndarray, ends: np.ndarray, bar_steps: int) -> int:
    """Mean number of notes sounding over the steps where one sounds, in the slot's bar: low for a
    single line (1), medium up to 2.5, high above (chords)."""
    if not len(starts):
        return 0
    count = np.zeros(max(bar_steps, 1), dtype=np.int32)
    for s, e in zip(starts, ends):
        count[max(s, 0):max(min(e, bar_steps), s + 1)] += 1
    sounding = count[count > 0]
    mean = float(sounding.mean()) if len(sounding) else 0.0
    return 0 if mean <= 1.05 else 1 if mean <= 2.5 else 2


# ---------------------------------------------------------------------------------------------
# Pieces into bars of slots


@dataclass
class Slot:
    """One voice in one bar: its controls and its note tokens."""

    voice: int
    density: int
    polyphony: int
    tokens: list[int] = field(default_factory=list)

    def head(self) -> list[int]:
        return [VOICE0 + self.voice, DENS0 + self.density, POLY0 + self.polyphony]


@dataclass
class TokenBar:
    """One bar: its downbeat step, its length in steps and one slot per voice."""

    start: int
    length: int
    slots: list[Slot]


def slot_tokens(positions: Sequence[int], pitches: Sequence[int], durations: Sequence[int],
                velocities: Sequence[int]) -> list[int]:
    """The note tokens of one slot; notes must be in (position, pitch) order."""
    out: list[int] = []
    pos, vel = -1, velocity_bin(DEFAULT_VELOCITY)
    for p, pitch, d, v in zip(positions, pitches, durations, velocities):
        if p != pos:
            out.append(POS0 + int(p))
            pos = p
        b = velocity_bin(v)
        if b != vel:
            out.append(VEL0 + b)
            vel = b
        out += [PITCH0 + int(pitch), DUR0 + int(min(max(d, 1), MAX_DUR)) - 1]
    return out


def bar_lines(notes: np.ndarray, downbeats: np.ndarray) -> np.ndarray:
    """The downbeats of every bar that holds a note: the piece's barlines, extended by bars of the
    nearest bar's length before the first and after the last when notes lie outside them."""
    lines = np.unique(np.asarray(downbeats, dtype=np.int64))
    if len(lines) == 0:
        lines = np.array([0], dtype=np.int64)
    if len(lines) == 1:
        lines = np.append(lines, lines[0] + 16)
    first = int(notes[:, 2].min()) if len(notes) else int(lines[0])
    last = int(notes[:, 2].max()) if len(notes) else int(lines[-1]) - 1
    head = lines[1] - lines[0]
    while first < lines[0]:
        lines = np.insert(lines, 0, lines[0] - head)
    tail = lines[-1] - lines[-2]
    while last >= lines[-1]:
        lines = np.append(lines, lines[-1] + tail)
    return lines


def piece_bars(notes: np.ndarray, downbeats: np.ndarray, n_voices: int) -> tuple[list[TokenBar], int]:
    """A piece's notes ((n, 5) rows of voice, pitch, start, end, velocity, in steps) as bars of
    slots, every bar listing voices 0..n_voices-1. Returns (bars, notes that did not fit)."""
    notes = np.asarray(notes, dtype=np.int64).reshape(-1, 5)
    lines = bar_lines(notes, downbeats)
    n_voices = min(max(n_voices, 1), MAX_VOICES)
    bar_of = np.searchsorted(lines, notes[:, 2], side="right") - 1
    fits = (notes[:, 0] >= 0) & (notes[:, 0] < n_voices) & (notes[:, 1] >= 0) & (notes[:, 1] < 128)
    bars: list[TokenBar] = []
    dropped = int(np.count_nonzero(~fits))
    order = np.lexsort((notes[:, 1], notes[:, 2], notes[:, 0], bar_of))
    notes, bar_of, fits = notes[order], bar_of[order], fits[order]
    bounds = np.searchsorted(bar_of, np.arange(len(lines)))
    for i in range(len(lines) - 1):
        start, length = int(lines[i]), int(lines[i + 1] - lines[i])
        rows = notes[bounds[i]:bounds[i + 1]]
        ok = fits[bounds[i]:bounds[i + 1]]
        slots = []
        for voice in range(n_voices):
            mine = rows[ok & (rows[:, 0] == voice)]
            pos = mine[:, 2] - start
            keep = pos < MAX_POS
            dropped += int(np.count_nonzero(~keep))
            mine, pos = mine[keep], pos[keep]
            tokens = slot_tokens(pos, mine[:, 1], mine[:, 3] - mine[:, 2], mine[:, 4])
            slots.append(Slot(voice, density_level(len(mine), length),
                              polyphony_level(pos, mine[:, 3] - start, length), tokens))
        bars.append(TokenBar(start, length, slots))
    return bars, dropped


def pitch_span(bars: Sequence[TokenBar]) -> tuple[int, int]:
    """Lowest and highest pitch in the bars' note tokens ((60, 60) when there is none)."""
    pitches = [t - PITCH0 for bar in bars for slot in bar.slots for t in slot.tokens if PITCH0 <= t < PITCH0 + 128]
    return (min(pitches), max(pitches)) if pitches else (60, 60)


def header(low: int, high: int) -> list[int]:
    return [BOS, RANGE, PITCH0 + int(low), PITCH0 + int(high)]


def plain_sequence(bars: Sequence[TokenBar], ends: bool = False, span: tuple[int, int] | None = None) -> list[int]:
    """Continuation form: header, every bar, and EOS when `ends` (the piece ends here)."""
    out = header(*(span or pitch_span(bars)))
    for bar in bars:
        out.append(BAR)
        for slot in bar.slots:
            out += slot.head() + slot.tokens
    return out + ([EOS] if ends else [])


def infill_sequence(bars: Sequence[TokenBar], masked: set[tuple[int, int]],
                    span: tuple[int, int] | None = None, fills: bool = True) -> list[int]:
    """Infill form: the (bar index, voice) slots in `masked` hold MASK where they stand; after SEP
    each is written out in order as FILL ... FILL_END (left out when `fills` is False: a prompt)."""
    out = header(*(span or pitch_span(bars)))
    tail: list[int] = []
    for i, bar in enumerate(bars):
        out.append(BAR)
        for slot in bar.slots:
            if (i, slot.voice) in masked:
                out += slot.head() + [MASK]
                tail += [FILL] + slot.head() + slot.tokens + [FILL_END]
            else:
                out += slot.head() + slot.tokens
    out.append(SEP)
    return out + tail + [EOS] if fills else out


# ---------------------------------------------------------------------------------------------
# Decoding: any sequence, dropping what cannot be read


@dataclass
class Decoded:
    """Notes read from a sequence, as (n, 6) int rows of bar index, voice, pitch, position, duration
    and velocity; `dropped` counts tokens that could not be read (and notes they broke)."""

    notes: np.ndarray
    dropped: int
    n_bars: int

    def in_steps(self, bar_starts: Sequence[int]) -> np.ndarray:
        """The notes as (n, 5) Piece rows (voice, pitch, start, end, velocity) given each bar's
        downbeat step; notes of bars past `bar_starts` are left out."""
        starts = np.asarray(bar_starts, dtype=np.int64)
        rows = self.notes[self.notes[:, 0] < len(starts)]
        begin = starts[rows[:, 0]] + rows[:, 3]
        out = np.column_stack([rows[:, 1], rows[:, 2], begin, begin + rows[:, 4], rows[:, 5]])
        return out.astype(np.int64).reshape(-1, 5)


class _Reader:
    """The note grammar of one slot: [POS] [VEL] PITCH DUR, with POS and VEL carried over."""

    def __init__(self, bar: int, voice: int) -> None:
        self.bar, self.voice = bar, voice
        self.pos, self.vel, self.pitch = 0, DEFAULT_VELOCITY, None
        self.notes: list[tuple[int, int, int, int, int, int]] = []
        self.dropped = 0

    def feed(self, token: int) -> bool:
        """Take a note token; False when it is not one (the caller decides what it means)."""
        if POS0 <= token < POS0 + MAX_POS:
            self.pos = token - POS0
        elif VEL0 <= token < VEL0 + N_VEL:
            self.vel = bin_velocity(token - VEL0)
        elif PITCH0 <= token < PITCH0 + 128:
            self.dropped += self.pitch is not None  # a pitch with no duration
            self.pitch = token - PITCH0
            return True
        elif DUR0 <= token < DUR0 + MAX_DUR:
            if self.pitch is None:
                self.dropped += 1
            else:
                self.notes.append((self.bar, self.voice, self.pitch, self.pos, token - DUR0 + 1, self.vel))
                self.pitch = None
            return True
        else:
            return False
        self.dropped += self.pitch is not None  # POS or VEL between a pitch and its duration
        self.pitch = None
        return True

    def close(self) -> None:
        self.dropped += self.pitch is not None
        self.pitch = None


def decode(tokens: Sequence[int]) -> Decoded:
    """Read notes from any token sequence, plain or infill. Tokens out of place are skipped and
    counted; a fill goes to the next masked slot, and fills beyond the masks are dropped."""
    rows: list[tuple[int, int, int, int, int, int]] = []
    dropped = 0
    bar, reader = -1, None
    masked: list[tuple[int, int]] = []
    fills: list[list[tuple]] = []
    in_tail = False
    expect_head = 0  # DENS/POLY tokens still welcome after a VOICE
    tokens = [int(t) for t in tokens]
    i = 0
    while i < len(tokens):
        t = tokens[i]
        i += 1
        if t in (PAD, BOS):
            continue
        if t == RANGE:  # RANGE PITCH PITCH: a control, not notes
            if i + 1 < len(tokens) and all(PITCH0 <= u < PITCH0 + 128 for u in tokens[i:i + 2]):
                i += 2
            else:
                dropped += 1
            continue
        if is_kind(t, DENS0, 3) or is_kind(t, POLY0, 3):
            dropped += expect_head == 0
            expect_head = max(expect_head - 1, 0)
            continue
        expect_head = 0
        if reader is not None and reader.feed(t):
            continue
        if reader is not None:
            reader.close()
            dropped += reader.dropped
            (fills[-1] if in_tail and fills else rows).extend(reader.notes)
            reader = None
        if t == EOS:
            break
        if t == BAR:
            dropped += in_tail  # a SEP with bars after it was a stray one
            in_tail = False
            bar += 1
        elif t == SEP and not in_tail:
            in_tail = True
        elif is_kind(t, VOICE0, MAX_VOICES) and (in_tail and fills or not in_tail and bar >= 0):
            reader = _Reader(bar, t - VOICE0)
            expect_head = 2
        elif t == MASK and not in_tail and i >= 2 and is_kind(tokens[i - 2], POLY0, 3):
            masked.append((bar, _voice_before(tokens, i - 1)))
        elif t == FILL and in_tail:
            fills.append([])
        elif t == FILL_END and in_tail:
            pass
        else:
            dropped += 1
    if reader is not None:
        reader.close()
        dropped += reader.dropped
        (fills[-1] if in_tail and fills else rows).extend(reader.notes)
    for k, fill in enumerate(fills):
        if k >= len(masked):
            dropped += 1 + len(fill)  # its FILL and its notes
            continue
        b, v = masked[k]
        rows.extend((b, v, p, pos, d, vel) for _b, _v, p, pos, d, vel in fill)
    array = np.array(rows, dtype=np.int64).reshape(-1, 6)
    return Decoded(array, dropped, bar + 1)


def _voice_before(tokens: list[int], index: int) -> int:
    """The voice of the slot whose head ends just before `index` (VOICE DENS POLY)."""
    for j in range(index - 1, max(index - 4, -1), -1):
        if is_kind(tokens[j], VOICE0, MAX_VOICES):
            return tokens[j] - VOICE0
    return 0


# ---------------------------------------------------------------------------------------------
# The note grammar as masks, for sampling


@dataclass
class SlotState:
    """Where a slot being generated stands: the last note token, its position and note count."""

    bar_steps: int
    last: str = "start"  # start | pos | vel | pitch | dur
    pos: int = -1
    notes: int = 0


def allowed_note_tokens(state: SlotState, max_notes: int = 48) -> np.ndarray:
    """A bool mask over the vocabulary of the note tokens the grammar allows next, as the encoder
    writes them: a slot's first note opens with POS; DUR follows PITCH; after a note come a later
    POS, a VEL or a PITCH. The caller adds the token that ends the slot when `can_end`."""
    mask = np.zeros(VOCAB_SIZE, dtype=bool)
    if state.last == "pitch":
        mask[DUR0:DUR0 + MAX_DUR] = True
    elif state.last == "vel":
        mask[PITCH0:PITCH0 + 128] = True
    elif state.last == "pos":
        mask[VEL0:VEL0 + N_VEL] = True
        mask[PITCH0:PITCH0 + 128] = True
    elif state.notes < max_notes:  # start or after a note
        mask[POS0 + state.pos + 1:POS0 + min(state.bar_steps, MAX_POS)] = True
        if state.last == "dur":
            mask[VEL0:VEL0 + N_VEL] = True
            mask[PITCH0:PITCH0 + 128] = True
    return mask


def can_end(state: SlotState) -> bool:
    """Whether the slot may end here (not inside a note)."""
    return state.last in ("start", "dur")


def advance(state: SlotState, token: int) -> None:
    """Move the slot's state past a sampled note token."""
    if POS0 <= token < POS0 + MAX_POS:
        state.last, state.pos = "pos", token - POS0
    elif VEL0 <= token < VEL0 + N_VEL:
        state.last = "vel"
    elif PITCH0 <= token < PITCH0 + 128:
        state.last = "pitch"
    elif DUR0 <= token < DUR0 + MAX_DUR:
        state.last, state.notes = "dur", state.notes + 1
