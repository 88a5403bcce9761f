"""A built dataset: its pieces, the files it could not read, the pieces flagged as outliers (with the
reason, and whether they are set aside), and the train/valid/test split, decided per piece by a hash
of its id (or its group) so that adding files never moves another piece and duplicates always share
a split."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from desktop_app.ml.data.piece import Piece
from desktop_app.music.timing import MODEL_STEPS_PER_BEAT

SPLITS = ("train", "valid", "test")
SPLIT_PERCENT = {"train": 80, "valid": 10, "test": 10}
OUTLIER_KINDS = ("empty", "range", "length", "meter")
DEFAULT_EXCLUDE = ("empty", "meter")  # pieces no model can learn from; the others stay unless asked
_MIN_FOR_FENCES = 8  # quartiles of fewer pieces say too little to call one extreme


def split_of_id(piece_id: str) -> str:
    """"train", "valid" or "test" for a piece id: 80/10/10 by a hash, the same in every dataset."""
    bucket = int(hashlib.sha256(f"split\0{piece_id}".encode()).hexdigest()[:8], 16) % 100
    if bucket < SPLIT_PERCENT["train"]:
        return "train"
    return "valid" if bucket < SPLIT_PERCENT["train"] + SPLIT_PERCENT["valid"] else "test"


def split_of_piece(piece: Piece) -> str:
    """The split of `piece`, from its group when it has one, else from its id."""
    return split_of_id(piece.split_key)


@dataclass(frozen=True)
class OutlierRules:
    """When a piece counts as an outlier. A pitch outside lowest..highest, or a pitch span or a length
    in bars beyond the dataset's quartiles by `fence` interquartile ranges, is extreme; a meter is
    unusable when there is none, when its bar is not a whole number of 16th steps, or when `meters`
    is given and does not hold it."""

    lowest_pitch: int = 21
    highest_pitch: int = 108
    fence: float = 3.0
    meters: frozenset[tuple[int, int]] | None = None


@dataclass(frozen=True)
class Outlier:
    """A flagged piece: `kinds` from OUTLIER_KINDS, `reasons` the same in words; `excluded` when set aside."""

    id: str
    name: str
    kinds: tuple[str, ...]
    reasons: tuple[str, ...]
    excluded: bool


def bar_count(piece: Piece) -> int:
    """Bars that hold notes of the piece or lie between them, a pickup before the first barline included."""
    if not len(piece.notes):
        return 0
    first, end = int(piece.notes[:, 2].min()), piece.n_steps
    edges = np.concatenate([[-np.inf], piece.downbeats.astype(np.float64), [np.inf]])
    return int(np.count_nonzero((edges[:-1] < end) & (edges[1:] > first)))


def _fence(values: np.ndarray, k: float) -> float:
    q1, q3 = np.percentile(values, [25, 75])
    return float(q3 + k * max(q3 - q1, 1.0))


def find_outliers(pieces: list[Piece], rules: OutlierRules) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Index of each flagged piece -> (kinds, reasons)."""
    flagged: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    full = [i for i, p in enumerate(pieces) if len(p.notes)]
    spans = np.array([np.ptp(pieces[i].notes[:, 1]) for i in full], dtype=np.float64)
    bars = np.array([bar_count(pieces[i]) for i in full], dtype=np.float64)
    use_fences = len(full) >= _MIN_FOR_FENCES
    span_limit = _fence(spans, rules.fence) if use_fences else np.inf
    bar_limit = _fence(bars, rules.fence) if use_fences else np.inf

    def flag(i: int, kind: str, reason: str) -> None:
        flagged[i][0].append(kind)
        flagged[i][1].append(reason)

    for i, piece in enumerate(pieces):
        if not len(piece.notes):
            flag(i, "empty", "empty: no notes")
        meter = _meter_problem(piece, rules)
        if meter:
            flag(i, "meter", f"unusable meter: {meter}")
    for j, i in enumerate(full):
        pitches = pieces[i].notes[:, 1]
        low, high = int(pitches.min()), int(pitches.max())
        if low < rules.lowest_pitch or high > rules.highest_pitch:
            flag(i, "range", f"extreme range: pitches {low}-{high} leave {rules.lowest_pitch}-{rules.highest_pitch}")
        elif spans[j] > span_limit:
            flag(i, "range", f"extreme range: spans {int(spans[j])} semitones (dataset limit {span_limit:.0f})")
        if bars[j] > bar_limit:
            flag(i, "length", f"extreme length: {int(bars[j])} bars (dataset limit {bar_limit:.0f})")
    return {i: (tuple(k), tuple(r)) for i, (k, r) in sorted(flagged.items())}


def _meter_problem(piece: Piece, rules: OutlierRules) -> str:
    if not piece.time_signatures:
        return "the source has no meter"
    for _, num, den in piece.time_signatures:
        if (4 * MODEL_STEPS_PER_BEAT * num) % den:
            return f"a bar of {num}/{den} is not a whole number of 16th steps"
        if rules.meters is not None and (num, den) not in rules.meters:
            return f"{num}/{den} is not among the meters allowed"
    return ""


class Dataset:
    """Pieces ready for the models (`pieces`, outliers of the excluded kinds left out), with
    `all_pieces`, `failures` (file, reason), `outliers` (every flagged piece) and `excluded`."""

    def __init__(self, name: str, root: str, all_pieces: list[Piece], failures: list[tuple[str, str]],
                 outliers: list[Outlier], exclude: tuple[str, ...], rules: OutlierRules) -> None:
        self.name = name
        self.root = root
        self.all_pieces = all_pieces
        self.failures = failures
        self.outliers = outliers
        self.exclude = tuple(exclude)
        self.rules = rules
        self.excluded = [o for o in outliers if o.excluded]
        dropped = {o.name for o in self.excluded}
        self.pieces = [p for p in all_pieces if p.name not in dropped]
        self._split_keys = {p.id: p.split_key for p in all_pieces}

    @classmethod
    def build(cls, name: str, root: str, pieces: list[Piece], failures: list[tuple[str, str]], *,
              exclude: tuple[str, ...] = DEFAULT_EXCLUDE, rules: OutlierRules | None = None) -> "Dataset":
        """Flag outliers among `pieces` and set aside those of the kinds in `exclude`."""
        unknown = set(exclude) - set(OUTLIER_KINDS)
        if unknown:
            raise ValueError(f"unknown outlier kinds {sorted(unknown)}; expected some of {OUTLIER_KINDS}")
        rules = rules or OutlierRules()
        outliers = [
            Outlier(pieces[i].id, pieces[i].name, kinds, reasons, any(k in exclude for k in kinds))
            for i, (kinds, reasons) in find_outliers(pieces, rules).items()
        ]
        return cls(name, root, pieces, failures, outliers, tuple(exclude), rules)

    def excluding(self, exclude: tuple[str, ...]) -> "Dataset":
        """The same dataset with the outliers of the kinds in `exclude` set aside (and no others)."""
        return Dataset.build(self.name, self.root, self.all_pieces, self.failures, exclude=exclude, rules=self.rules)

    def with_excluded(self, names: set[str]) -> "Dataset":
        """The same dataset with exactly the outliers named in `names` set aside (a choice per piece)."""
        outliers = [replace(o, excluded=o.name in names) for o in self.outliers]
        return Dataset(self.name, self.root, self.all_pieces, self.failures, outliers, self.exclude, self.rules)

    def choosing(self, name: str, excluded: bool) -> "Dataset":
        """The same dataset with the outlier `name` left out (or kept), the others as they are."""
        now = {o.name for o in self.outliers if o.excluded} - {name}
        return self.with_excluded(now | {name} if excluded else now)

    def split_of(self, piece_id: str) -> str:
        """The split of the piece with this id (through its group, when it is in this dataset)."""
        return split_of_id(self._split_keys.get(piece_id, piece_id))

    def split(self, name: str) -> list[Piece]:
        """The pieces of split "train", "valid" or "test"."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        return [p for p in self.pieces if split_of_piece(p) == name]

    def duplicates(self) -> list[list[Piece]]:
        """Groups of pieces with the same notes (same id), e.g. one chorale under two catalogue numbers."""
        return self._groups(lambda p: p.id)

    def kept_together(self) -> list[list[Piece]]:
        """Groups of pieces that share a split because they share a group (near duplicates included)."""
        return self._groups(lambda p: p.split_key)

    def _groups(self, key) -> list[list[Piece]]:
        groups: dict[str, list[Piece]] = defaultdict(list)
        for piece in self.all_pieces:
            groups[key(piece)].append(piece)
        return [g for g in groups.values() if len(g) > 1]

    def __len__(self) -> int:
        return len(self.pieces)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self.pieces)} pieces, {len(self.excluded)} excluded, "
                f"{len(self.failures)} unreadable)")
