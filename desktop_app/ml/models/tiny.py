"""A tiny model for tests and benches: from the last `context` steps of a piano roll, predict which
pitches sound at the next step. It trains in seconds and exercises everything model-independent
(the loop, checkpoints, the runner, DDP) exactly as the real models do."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from desktop_app.ml.data.convert import piece_id
from desktop_app.ml.data.piece import Piece


@dataclass
class Config:
    context: int = 16  # steps of history the model sees
    low_pitch: int = 36  # the lowest pitch of the roll
    n_pitches: int = 60  # pitches from low_pitch upwards; notes outside are dropped
    hidden: int = 128
    dropout: float = 0.1


PRESETS = {
    "tiny": dict(context=8, hidden=32),
    "small": dict(context=16, hidden=128),
    "medium": dict(context=32, hidden=512),
}


def piano_roll(piece: Piece, config: Config) -> np.ndarray:
    """(steps, n_pitches) uint8: 1 where a pitch of the window's range sounds."""
    roll = np.zeros((piece.n_steps, config.n_pitches), dtype=np.uint8)
    for _voice, pitch, start, end, _velocity in piece.notes:
        row = pitch - config.low_pitch
        if 0 <= row < config.n_pitches:
            roll[start:end, row] = 1
    return roll


class Examples:
    """Every window of `context` steps followed by the step to predict, cut from one long roll on demand."""

    def __init__(self, roll: torch.Tensor, starts: torch.Tensor, context: int) -> None:
        self.roll, self.starts, self.context = roll, starts, context

    def __len__(self) -> int:
        return len(self.starts)

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        rows = self.starts[indices][:, None] + torch.arange(self.context + 1)
        windows = self.roll[rows].float()  # (batch, context + 1, pitches)
        return {"x": windows[:, :-1], "y": windows[:, -1]}


def make_examples(pieces: list[Piece], config: Config) -> Examples:
    """All windows of all pieces; a window never spans two pieces."""
    rolls, starts, offset = [], [], 0
    for piece in pieces:
        roll = piano_roll(piece, config)
        n_windows = len(roll) - config.context
        if n_windows > 0:
            rolls.append(roll)
            starts.append(offset + np.arange(n_windows))
            offset += len(roll)
    if not rolls:
        return Examples(torch.zeros((0, config.n_pitches), dtype=torch.uint8), torch.zeros(0, dtype=torch.long), config.context)
    return Examples(torch.from_numpy(np.concatenate(rolls)), torch.from_numpy(np.concatenate(starts)), config.context)


class TinyNet(nn.Module):
    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(config.context * config.n_pitches, config.hidden),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.hidden),
            nn.GELU(),
            nn.Linear(config.hidden, config.n_pitches),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of each pitch sounding at the next step, from (batch, context, pitches)."""
        return self.net(x)


def build(config: Config) -> TinyNet:
    return TinyNet(config)


def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Binary cross-entropy per pitch; metrics: the share of steps predicted exactly and the F1 of sounding pitches."""
    logits = model(batch["x"])
    target = batch["y"]
    value = F.binary_cross_entropy_with_logits(logits, target)
    with torch.no_grad():
        predicted = (logits > 0).float()
        exact = (predicted == target).all(dim=1).float().mean()
        hits = (predicted * target).sum()
        f1 = 2 * hits / (predicted.sum() + target.sum()).clamp(min=1)
    return value, {"step_accuracy": exact.item(), "pitch_f1": f1.item()}


def demo_pieces(n: int = 12, seed: int = 0) -> list[Piece]:
    """Scales and arpeggios in several keys and rhythms: a small, learnable dataset that needs no files."""
    rng = np.random.default_rng(seed)
    patterns = ([0, 2, 4, 5, 7, 9, 11, 12], [0, 4, 7, 12, 7, 4], [0, 3, 7, 10, 12, 10, 7, 3])
    pieces = []
    for i in range(n):
        tonic = 48 + int(rng.integers(0, 12))
        pattern = patterns[i % len(patterns)]
        length = int(rng.choice([1, 2, 4]))
        notes, step = [], 0
        for _repeat in range(int(rng.integers(3, 7))):
            for interval in pattern:
                notes.append((0, tonic + interval, step, step + length, 80))
                notes.append((1, tonic - 12 + pattern[0], step, step + length, 60))
                step += length
        array = np.array(sorted(notes, key=lambda n: (n[2], n[0], n[1])), dtype=np.int32)
        downbeats = np.arange(0, step + 16, 16, dtype=np.int32)
        pieces.append(Piece(id=piece_id(array), name=f"demo {i}", source="demo",
                            notes=array, downbeats=downbeats, voice_names=("melody", "bass")))
    return pieces
