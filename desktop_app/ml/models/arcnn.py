"""AR-CNN: edit a piano roll one note cell at a time, as AWS DeepComposer's model does.

Read top to bottom: the roll the model sees, how training corrupts it, the loss, the network, and
the sampler that turns the network into edit events.

- Roll: 8 bars at 16th notes (128 steps) x `n_pitches` rows from `low_pitch`, voices merged. Three
  input planes: the notes, their onsets (so repeated notes stay apart) and the metre (downbeats,
  beats, eighths), so the network knows where in the bar each step is.
- Corruption, redrawn every batch: remove r% of the note cells (r uniform in 0..100) and add a% of
  the empty ones (a uniform in 1..1.5). The target is every cell that must flip to get back.
- Loss: KL divergence between the flip target, normalised to sum 1 *per sample*, and a softmax over
  all cells of that sample ("which cell should flip next"). A sample with nothing to flip adds
  nothing (DeepComposer's loss is undefined there and normalises over the whole batch).
- Network: a small U-Net (DeepComposer's has 31.5 M parameters; this one about 0.5 M by default) so
  that a pass takes milliseconds on a laptop CPU.
- Sampler: DeepComposer's four knobs (iterations, maximum share of input notes to remove, maximum
  notes to add, temperature), with the caps counted in notes, not cells. Gumbel-max sampling gives
  an exact draw from softmax(logits / T) over the cells the caps allow, stable at any temperature
  (T = 0 is greedy); `edits_per_pass` > 1 takes several such draws, without replacement, per pass.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from desktop_app.ml.models.derived import per_weights
from desktop_app.music.grid import grid_to_notes
from desktop_app.music.timing import MODEL_STEPS_PER_BEAT


@dataclass
class ArcnnConfig:
    """Roll size, network width and the corruption of training; PRESETS name the sizes offered."""

    steps: int = 128  # 8 bars of 4/4 at 16th notes
    low_pitch: int = 28  # E1: chorales span about C2..A5, with room to transpose
    n_pitches: int = 64
    width: int = 16  # filters at the top level, doubled at each level down
    depth: int = 4  # levels of pooling; steps and n_pitches must divide by 2**depth
    dropout: float = 0.1
    remove_range: tuple[float, float] = (0.0, 1.0)  # share of note cells removed by corruption
    add_range: tuple[float, float] = (0.01, 0.015)  # share of empty cells added by corruption
    hop: int = 64  # steps between training windows (4 bars)
    transpose: int = 5  # augmentation: each training window moves by up to this many semitones
    edits_per_pass: int = 4  # the sampler's default: edit events drawn from one network pass
    note_corruption: float = 0.0  # share of training windows damaged note by note instead of cell by cell

    @property
    def high_pitch(self) -> int:
        return self.low_pitch + self.n_pitches - 1


PRESETS: dict[str, dict] = {
    "tiny": {"width": 4, "depth": 2},
    "small": {"width": 8, "depth": 4},
    "small-notes": {"width": 8, "depth": 4, "note_corruption": 0.5},
    "base": {"width": 16, "depth": 4},
    "large": {"width": 32, "depth": 4},
}

IN_PLANES = 3  # notes, onsets, metre
TOP_CELLS = 256  # cells of the sampling order sorted at once (a pass takes a few; the caps may refuse some)


# ---------------------------------------------------------------------------------------------
# The roll the model sees


def onset_plane(roll: np.ndarray, onsets: np.ndarray | None = None) -> np.ndarray:
    """Where notes begin in `roll` (steps x pitches, bool): a given onset on a sounding cell, or the
    first cell of every run of sounding cells."""
    begins = roll.copy()
    begins[1:] &= ~roll[:-1]
    return begins | (onsets & roll) if onsets is not None else begins


def metre_plane(steps: int, downbeats: np.ndarray | None = None, start: int = 0) -> np.ndarray:
    """Metrical weight of each step of a window that begins at step `start`: 1 on a downbeat, 0.5
    on another beat, 0.25 on an eighth, 0 on a sixteenth. Beats are quarter notes; with no
    `downbeats` every 16 steps is a bar."""
    t = np.arange(start, start + steps)
    weight = np.where(t % MODEL_STEPS_PER_BEAT == 0, 0.5, np.where(t % 2 == 0, 0.25, 0.0))
    if downbeats is None:
        bar_starts = t % (4 * MODEL_STEPS_PER_BEAT) == 0
    else:
        bar_starts = np.isin(t, downbeats)
    return np.where(bar_starts, 1.0, weight).astype(np.float32)


def model_input(roll: np.ndarray, onsets: np.ndarray, metre: np.ndarray) -> torch.Tensor:
    """Stack one roll's planes into a (1, IN_PLANES, steps, pitches) float tensor."""
    planes = np.stack([roll, onsets, np.broadcast_to(metre[:, None], roll.shape)]).astype(np.float32)
    return torch.from_numpy(planes)[None]


# ---------------------------------------------------------------------------------------------
# Corruption and the flip target


def corrupt(
    original: torch.Tensor, generator: torch.Generator | None, config: ArcnnConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt a batch of rolls (B, steps, pitches; 0/1 floats): per sample, remove a uniform share
    of the note cells in `config.remove_range` and add a uniform share of the empty cells in
    `config.add_range`. Returns (corrupted, target) with target = corrupted XOR original. With no
    `generator`, torch's global one (seeded per step by the training loop)."""
    b = original.shape[0]
    lo, hi = config.remove_range
    remove_share = lo + (hi - lo) * torch.rand(b, 1, 1, generator=generator)
    lo, hi = config.add_range
    add_share = lo + (hi - lo) * torch.rand(b, 1, 1, generator=generator)
    u = torch.rand(original.shape, generator=generator)
    on = original > 0.5
    removed = on & (u < remove_share)
    added = ~on & (u < add_share)
    corrupted = (on & ~removed) | added
    return corrupted.float(), (corrupted ^ on).float()


def roll_notes(roll: np.ndarray, onsets: np.ndarray) -> list[tuple[int, int, int]]:
    """(row, start step, end step) of each note of a roll, runs split at `onsets`."""
    steps = MODEL_STEPS_PER_BEAT  # a ppq equal to the grid makes ticks and steps the same
    return [(n.pitch, n.start, n.end) for n in grid_to_notes(roll, onsets, steps, steps, 0)]


def damage_notes(roll: np.ndarray, onsets: np.ndarray, rng: np.random.Generator, remove_share: float,
                 add_count: int | None = None):
    """Damage a roll note by note, as a composer's wrong or missing notes are: remove `remove_share`
    of its notes whole, and add `add_count` random whole notes (as many as removed when None), with
    pitches within the roll's span and two semitones around it, lengths drawn from its own notes,
    on cells free before and after. Returns (damaged roll, removed, added, untouched notes)."""
    notes = roll_notes(roll, onsets)
    order = rng.permutation(len(notes))
    cut = int(round(remove_share * len(notes)))
    removed = [notes[i] for i in order[:cut]]
    untouched = [notes[i] for i in order[cut:]]
    damaged = roll.copy()
    for row, s0, s1 in removed:
        damaged[s0:s1, row] = False
    added: list[tuple[int, int, int]] = []
    if not notes:
        return damaged, removed, added, untouched
    wanted = len(removed) if add_count is None else add_count
    low = max(min(p for p, _, _ in notes) - 2, 0)
    high = min(max(p for p, _, _ in notes) + 2, roll.shape[1] - 1)
    lengths = [s1 - s0 for _, s0, s1 in notes]
    for _ in range(50 * max(wanted, 1)):
        if len(added) >= wanted:
            break
        row = int(rng.integers(low, high + 1))
        s0 = int(rng.integers(0, roll.shape[0]))
        s1 = min(s0 + int(rng.choice(lengths)), roll.shape[0])
        lo, hi = max(s0 - 1, 0), min(s1 + 1, roll.shape[0])
        if roll[lo:hi, row].any() or damaged[lo:hi, row].any():
            continue  # only where the cells are free in both, with a gap, so the note stays its own
        damaged[s0:s1, row] = True
        added.append((row, s0, s1))
    return damaged, removed, added, untouched


def corrupt_batch(original: torch.Tensor, onsets: torch.Tensor, config: ArcnnConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """`corrupt` for a training batch, except that a `config.note_corruption` share of the windows are
    damaged note by note (a uniform share of notes removed whole, up to as many random notes added),
    so the model also learns to put back whole notes and take out whole wrong ones."""
    corrupted, target = corrupt(original, None, config)
    if config.note_corruption <= 0:
        return corrupted, target
    chosen = torch.nonzero(torch.rand(original.shape[0]) < config.note_corruption).flatten().tolist()
    if not chosen:
        return corrupted, target
    rng = np.random.default_rng(int(torch.randint(2**31 - 1, (1,))))
    rolls = original.numpy() > 0.5
    starts = onsets.numpy() > 0.5
    for i in chosen:
        n_removed = rng.uniform(0.0, 1.0)
        damaged, removed, _, _ = damage_notes(rolls[i], onset_plane(rolls[i], starts[i]), rng, n_removed, 0)
        damaged, _, _, _ = damage_notes(damaged, onset_plane(damaged, starts[i]), rng, 0.0,
                                        int(rng.integers(0, len(removed) + 2)))
        corrupted[i] = torch.from_numpy(damaged.astype(np.float32))
        target[i] = torch.from_numpy((damaged ^ rolls[i]).astype(np.float32))
    return corrupted, target


def flip_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KL(target / sum(target) || softmax(logits)) over each sample's cells, averaged over the
    samples that have something to flip; 0 (with a gradient of zeros) when none has."""
    b = logits.shape[0]
    log_p = F.log_softmax(logits.reshape(b, -1), dim=1)
    t = target.reshape(b, -1)
    counts = t.sum(dim=1)
    has_target = counts > 0
    q = t / counts.clamp(min=1).unsqueeze(1)
    # KL = sum q log q - sum q log p; q log q is 0 where q is 0.
    q_log_q = torch.where(q > 0, q * torch.log(q.clamp(min=1e-30)), torch.zeros_like(q)).sum(dim=1)
    per_sample = q_log_q - (q * log_p).sum(dim=1)
    if not has_target.any():
        return (logits * 0).sum()
    return per_sample[has_target].mean()


def topk_hit_rate(logits: torch.Tensor, target: torch.Tensor, k: int = 10) -> torch.Tensor:
    """Share of the model's top-k cells (per sample) that are in the flip target, over samples with
    a target: how often the next edit it would pick is a right one."""
    b = logits.shape[0]
    top = logits.reshape(b, -1).topk(k, dim=1).indices
    hits = target.reshape(b, -1).gather(1, top).mean(dim=1)
    has_target = target.reshape(b, -1).sum(dim=1) > 0
    return hits[has_target].mean() if has_target.any() else torch.tensor(0.0)


# ---------------------------------------------------------------------------------------------
# The network


class _Block(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, dropout: float) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            *([nn.Dropout2d(dropout)] if dropout else []),
        )


class ArcnnNet(nn.Module):
    """U-Net from (B, 3, steps, pitches) planes to (B, steps, pitches) flip logits: max-pool down,
    nearest upsampling and skip concatenation up, as DeepComposer's, but narrow."""

    def __init__(self, config: ArcnnConfig) -> None:
        super().__init__()
        self.config = config
        w, d = config.width, config.depth
        widths = [w * 2**i for i in range(d + 1)]
        self.down = nn.ModuleList(
            _Block(IN_PLANES if i == 0 else widths[i - 1], widths[i], 0.0) for i in range(d)
        )
        self.bottom = _Block(widths[d - 1], widths[d], config.dropout)
        self.up = nn.ModuleList(
            _Block(widths[i + 1] + widths[i], widths[i], config.dropout if i > 0 else 0.0)
            for i in reversed(range(d))
        )
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        skips = []
        x = planes
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for block in self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skips.pop()], dim=1))
        return self.head(x)[:, 0]


def inference_net(net: ArcnnNet) -> ArcnnNet:
    """`net` for sampling on a CPU: each batch norm folded into the convolution before it and the
    weights in channels-last order (the same logits to about 1e-5, 30 to 40 % faster a pass). Kept
    per network until any of its weights or statistics change in place (training, loading)."""
    return per_weights(net, _folded)


def _folded(net: ArcnnNet) -> ArcnnNet:
    fused = copy.deepcopy(net).eval()
    for block in [*fused.down, fused.bottom, *fused.up]:
        layers, out = list(block), []
        while layers:
            layer = layers.pop(0)
            if isinstance(layer, nn.Conv2d) and layers and isinstance(layers[0], nn.BatchNorm2d):
                layer = fuse_conv_bn_eval(layer, layers.pop(0))
            out.append(layer)
        for name in list(block._modules):
            del block._modules[name]
        for i, layer in enumerate(out):
            block.add_module(str(i), layer)
    return fused.to(memory_format=torch.channels_last)


def batch_planes(rolls: torch.Tensor, onsets: torch.Tensor, metre: torch.Tensor) -> torch.Tensor:
    """(B, steps, pitches) rolls and onsets with a (B, steps) metre into network input planes."""
    return torch.stack([rolls, onsets, metre[:, :, None].expand_as(rolls)], dim=1)


def batch_onsets(rolls: torch.Tensor, onsets: torch.Tensor) -> torch.Tensor:
    """The torch form of `onset_plane` over a batch: given onsets that still sound, plus run starts."""
    on = rolls > 0.5
    begins = on.clone()
    begins[:, 1:] &= ~on[:, :-1]
    return (begins | ((onsets > 0.5) & on)).float()


# ---------------------------------------------------------------------------------------------
# Training: what the registry and the training loop call (see desktop_app.ml.registry)

Config = ArcnnConfig


def build(config: ArcnnConfig) -> ArcnnNet:
    return ArcnnNet(config)


def window_roll(notes: np.ndarray, config: ArcnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """Rolls of a window's notes ((n, 5) rows in steps from the window's start, voices merged):
    the sounding cells and the onsets; pitches outside the model's range are left out."""
    roll = np.zeros((config.steps, config.n_pitches), dtype=bool)
    onsets = np.zeros_like(roll)
    for _voice, pitch, start, end, _velocity in notes:
        row = pitch - config.low_pitch
        if 0 <= row < config.n_pitches and start < config.steps:
            roll[max(start, 0):min(end, config.steps), row] = True
            if start >= 0:
                onsets[start, row] = True
    return roll, onsets


class Examples:
    """Training windows of 8 bars, cut at barlines every `config.hop` steps, kept as byte rolls."""

    def __init__(self, rolls: torch.Tensor, onsets: torch.Tensor, metre: torch.Tensor) -> None:
        self.rolls, self.onsets, self.metre = rolls, onsets, metre

    def __len__(self) -> int:
        return len(self.rolls)

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"roll": self.rolls[indices].float(), "onsets": self.onsets[indices].float(),
                "metre": self.metre[indices]}


def make_examples(pieces: list, config: ArcnnConfig) -> Examples:
    """Every 8-bar window of every piece (a window never spans two pieces, nor two splits)."""
    from desktop_app.ml.data.windows import windows

    rolls, onsets, metres = [], [], []
    for w in windows(pieces, config.steps, config.hop, held_notes=True):
        roll, ons = window_roll(w.notes, config)
        if roll.any():
            rolls.append(roll)
            onsets.append(ons)
            metres.append(metre_plane(config.steps, w.downbeats))
    if not rolls:
        shape = (0, config.steps, config.n_pitches)
        return Examples(torch.zeros(shape, dtype=torch.uint8), torch.zeros(shape, dtype=torch.uint8),
                        torch.zeros((0, config.steps)))
    return Examples(torch.from_numpy(np.stack(rolls).astype(np.uint8)),
                    torch.from_numpy(np.stack(onsets).astype(np.uint8)), torch.from_numpy(np.stack(metres)))


def random_transpose(rolls: torch.Tensor, onsets: torch.Tensor, semitones: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Move each roll of a batch up or down by a random number of rows within `semitones`, never
    pushing a note out of the range (torch's global generator, so the loop's seed fixes it)."""
    if semitones <= 0:
        return rolls, onsets
    rows = rolls.amax(dim=1) > 0  # (B, pitches): rows in use
    out_r, out_o = rolls.clone(), onsets.clone()
    n = rolls.shape[2]
    for i in range(rolls.shape[0]):
        used = torch.nonzero(rows[i]).flatten()
        if not len(used):
            continue
        low = max(-semitones, -int(used[0]))
        high = min(semitones, n - 1 - int(used[-1]))
        shift = int(torch.randint(low, high + 1, (1,)))
        out_r[i] = torch.roll(rolls[i], shift, dims=1)
        out_o[i] = torch.roll(onsets[i], shift, dims=1)
    return out_r, out_o


def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Corrupt the batch afresh, ask which cells to flip; metric: share of the model's top 10 cells
    that are right flips."""
    config = model.module.config if hasattr(model, "module") else model.config
    original, onsets = batch["roll"], batch["onsets"]
    if model.training:
        original, onsets = random_transpose(original, onsets, config.transpose)
    corrupted, target = corrupt_batch(original, onsets, config)
    planes = batch_planes(corrupted, batch_onsets(corrupted, onsets), batch["metre"])
    logits = model(planes)
    value = flip_loss(logits, target)
    with torch.no_grad():
        hit = topk_hit_rate(logits, target, 10)
    return value, {"top10_flip_share": float(hit)}


# ---------------------------------------------------------------------------------------------
# The sampler: edit events


@dataclass(frozen=True)
class SamplerKnobs:
    """DeepComposer's four knobs with its defaults; both caps count notes (a run of note cells on
    one pitch), not 16th-note cells as the console did."""

    iterations: int = 100  # edit events
    max_remove: float = 1.0  # share of the input's notes that may lose cells (0..1)
    max_add: int = 500  # notes that may be added
    temperature: float = 1.0  # 0 is greedy
    edits_per_pass: int = 1  # edit events drawn from one network pass
    seed: int | None = None


@dataclass(frozen=True)
class EditEvent:
    """One flipped cell: `added` True when a note cell appeared, False when one went."""

    index: int
    step: int
    pitch: int  # MIDI pitch
    added: bool


class _Caps:
    """Keeps the count of input notes that have lost cells and of notes made only of added cells,
    and says whether flipping a cell keeps both within the caps. Counts are exact after every flip;
    the check is O(1) except for a removal beside a sounding cell at the added-notes cap."""

    def __init__(self, original: np.ndarray, original_onsets: np.ndarray, knobs: SamplerKnobs) -> None:
        self.original = original.copy()
        self.onsets = original_onsets & original
        # Label each input note (a run of cells, split at onsets) with its number.
        begins = onset_plane(original, original_onsets)
        labels = (np.cumsum(begins.T.reshape(-1)).reshape(begins.T.shape) - 1).T
        self.note_of = np.where(original, labels, -1)
        self.max_removed = int(np.floor(knobs.max_remove * int(begins.sum()) + 1e-9))
        self.max_added = knobs.max_add
        self.update(original)

    def removed_notes(self, roll: np.ndarray) -> int:
        return int(len(np.unique(self.note_of[self.original & ~roll])))

    def added_notes(self, roll: np.ndarray) -> int:
        """Notes (runs of sounding cells on one pitch, split at the input's onsets, as they are read
        back) that hold no input cell."""
        act = roll.T
        starts = act.copy()
        starts[:, 1:] &= ~act[:, :-1]
        starts |= self.onsets.T & act
        run = np.cumsum(starts.reshape(-1)).reshape(act.shape)
        runs = np.unique(run[act])
        with_input = np.unique(run[act & self.original.T])
        return int(len(runs) - len(with_input))

    def update(self, roll: np.ndarray) -> None:
        self.removed = self.removed_notes(roll)
        self.added = self.added_notes(roll)
        self.touched = set(np.unique(self.note_of[self.original & ~roll]).tolist())

    def allows(self, roll: np.ndarray, step: int, row: int) -> bool:
        """Whether flipping cell (step, row) of `roll` keeps within the caps."""
        before = step > 0 and roll[step - 1, row]
        after = step + 1 < roll.shape[0] and roll[step + 1, row]
        if not roll[step, row]:  # an addition joins the note before it, or one after it that is not an input onset
            joins = before or (after and not self.onsets[step + 1, row])
            return self.added < self.max_added or joins
        note = self.note_of[step, row]
        if note >= 0 and note not in self.touched and self.removed >= self.max_removed:
            return False
        if self.added < self.max_added or not (before or after):
            return True
        roll[step, row] = False  # at the cap, a removal next to a sounding cell may leave an added-only run

        fits = self.added_notes(roll) <= self.max_added
        roll[step, row] = True
        return fits


def _gumbel_order(logits: np.ndarray, allowed: np.ndarray, temperature: float,
                  rng: np.random.Generator) -> Iterator[int]:
    """Allowed cell indices ordered by a Gumbel-max draw from softmax(logits / temperature): the
    first is an exact sample, the first k a sample of k without replacement. Greedy at T = 0."""
    flat = logits.reshape(-1).astype(np.float64)
    idx = np.flatnonzero(allowed.reshape(-1))
    if temperature <= 1e-6:
        keys = flat[idx]
    else:
        keys = flat[idx] / temperature + rng.gumbel(size=len(idx))
    if len(keys) <= TOP_CELLS:
        yield from idx[np.argsort(-keys, kind="stable")].tolist()
        return
    # The likeliest TOP_CELLS sorted first; the rest are sorted only if the caps refuse all of them.
    top = np.argpartition(-keys, TOP_CELLS - 1)[:TOP_CELLS]
    top = top[np.argsort(-keys[top], kind="stable")]
    yield from idx[top].tolist()
    rest = np.setdiff1d(np.arange(len(keys)), top, assume_unique=True)
    yield from idx[rest[np.argsort(-keys[rest], kind="stable")]].tolist()


def edit_window(
    net: ArcnnNet,
    roll: np.ndarray,
    onsets: np.ndarray,
    metre: np.ndarray,
    editable: np.ndarray,
    knobs: SamplerKnobs,
    caps: _Caps,
    rng: np.random.Generator,
    start: int = 0,
) -> Iterator[EditEvent]:
    """Edit `roll` (steps x pitches, bool) in place inside the window of `net.config.steps` steps
    from `start`, `knobs.iterations` times, each flip drawn from the model and allowed by `caps` and
    `editable`. Yields each event (steps counted in `roll`) right after it is made."""
    net.eval()
    fast = inference_net(net)
    stop = start + net.config.steps
    low = net.config.low_pitch
    done = 0
    with torch.no_grad():
        while done < knobs.iterations:
            window = roll[start:stop]
            planes = model_input(window, onset_plane(window, onsets[start:stop]), metre[start:stop])
            logits = fast(planes.contiguous(memory_format=torch.channels_last))[0].contiguous().numpy()
            took = 0
            for cell in _gumbel_order(logits, editable[start:stop], knobs.temperature, rng):
                step, row = divmod(int(cell), roll.shape[1])
                step += start
                if not caps.allows(roll, step, row):
                    continue
                roll[step, row] = ~roll[step, row]
                caps.update(roll)
                yield EditEvent(done, step, low + row, bool(roll[step, row]))
                done += 1
                took += 1
                if took >= knobs.edits_per_pass or done >= knobs.iterations:
                    break
            if took == 0:
                return  # nothing the caps allow


def sample_edits(
    net: ArcnnNet,
    roll: np.ndarray,
    onsets: np.ndarray,
    metre: np.ndarray,
    knobs: SamplerKnobs,
    editable: np.ndarray | None = None,
) -> Iterator[tuple[EditEvent, np.ndarray]]:
    """Run the sampler on one window: yield each edit event with the roll after it, so a caller can
    animate them and stop between two. `editable` (steps x pitches, bool) limits edits to a region."""
    roll = roll.astype(bool).copy()
    onsets = onsets.astype(bool)
    caps = _Caps(roll, onsets, knobs)
    editable = np.ones_like(roll) if editable is None else editable.astype(bool)
    for event in edit_window(net, roll, onsets, metre, editable, knobs, caps, np.random.default_rng(knobs.seed)):
        yield event, roll.copy()


@torch.no_grad()
def edit_probabilities(
    net: ArcnnNet, roll: np.ndarray, onsets: np.ndarray, metre: np.ndarray, temperature: float = 1.0
) -> np.ndarray:
    """The model's probability of each cell being the next edit (steps x pitches, sums to 1): on a
    sounding cell that is "remove this", on an empty one "add here". For the heat layer."""
    net.eval()
    planes = model_input(roll.astype(bool), onset_plane(roll.astype(bool), onsets.astype(bool)), metre)
    logits = inference_net(net)(planes.contiguous(memory_format=torch.channels_last))[0].contiguous()
    t = max(float(temperature), 1e-6)
    return torch.softmax(logits.reshape(-1).double() / t, dim=0).reshape(logits.shape).numpy()


def evaluate_samples(net: ArcnnNet, config: ArcnnConfig, pieces: list, seed: int = 0,
                     max_windows: int | None = None, progress=None, knobs: SamplerKnobs | None = None) -> dict:
    """The repair evaluation on `pieces` (see arcnn_repair): damage, repair with DeepComposer's default
    knobs and the model's own edits per pass, measure."""
    from desktop_app.ml.models.arcnn_repair import repair_evaluation

    knobs = knobs or SamplerKnobs(edits_per_pass=config.edits_per_pass)
    return repair_evaluation(net, config, pieces, knobs, seed, max_windows, progress)
