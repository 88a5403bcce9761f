"""`desktop-app bench arcnn`: seconds for 100 edit events on 8 bars with the shipped AR-CNN, beside
DeepComposer's 31.5 M-parameter U-Net (built from REFERENCE.md, random weights) doing the same
100 one-edit passes in the same run."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from desktop_app.ml.models import arcnn
from desktop_app.ml.models.arcnn import SamplerKnobs


class DeepComposerUNet(nn.Module):
    """DeepComposer's AR-CNN network: 128 x 128 x 1 in, five levels of two 3x3 convs + ReLU with
    32..512 filters, 1024 at the 4 x 4 bottom, 2x2 max-pool down, nearest upsampling and skip
    concatenation up, dropout 0.5 on the inner levels, batch norm on the first four, 1x1 conv out."""

    def __init__(self) -> None:
        super().__init__()
        widths = [32, 64, 128, 256, 512]

        def block(c_in: int, c_out: int, norm: bool, dropout: bool) -> nn.Sequential:
            layers: list[nn.Module] = []
            for c in (c_in, c_out):
                layers += [nn.Conv2d(c, c_out, 3, padding=1)]
                if norm:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(0.5))
            return nn.Sequential(*layers)

        self.down = nn.ModuleList(block(1 if i == 0 else widths[i - 1], w, i < 4, i >= 3) for i, w in enumerate(widths))
        self.bottom = block(widths[-1], 1024, False, True)
        ups = [1024] + widths[::-1]
        self.up = nn.ModuleList(block(ups[i] + widths[-1 - i], widths[-1 - i], False, i < 2) for i in range(5))
        self.head = nn.Conv2d(32, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for block in self.up:
            x = block(torch.cat([F.interpolate(x, scale_factor=2.0), skips.pop()], dim=1))
        return self.head(x)


def _parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def anchor_edit_events(net: DeepComposerUNet, roll: np.ndarray, events: int, rng: np.random.Generator) -> None:
    """DeepComposer's sampler: one pass, softmax over all 128 x 128 cells, one flip, per event."""
    roll = roll.copy()
    with torch.no_grad():
        for _ in range(events):
            logits = net(torch.from_numpy(roll.astype(np.float32))[None, None])[0, 0].double()
            p = torch.softmax(logits.reshape(-1), 0).numpy()
            cell = rng.choice(p.size, p=p / p.sum())
            roll.flat[cell] = ~roll.flat[cell]


def _seed_roll(config: arcnn.ArcnnConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A four-voice 8-bar texture in C major: the kind of window the model edits."""
    roll = np.zeros((config.steps, config.n_pitches), dtype=bool)
    rng = np.random.default_rng(0)
    for voice, centre in enumerate((72, 65, 57, 48)):
        step = 0
        while step < config.steps:
            length = int(rng.choice([2, 4, 4, 8]))
            pitch = centre + int(rng.choice([0, 2, 4, 5, 7, -1, -3]))
            roll[step:step + length, pitch - config.low_pitch] = True
            step += length
    return roll, arcnn.onset_plane(roll), arcnn.metre_plane(config.steps)


def _time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(runs: int = 5, events: int = 100) -> dict:
    from desktop_app.ml.shipped import load_model, shipped_checkpoint

    folder = shipped_checkpoint("arcnn")
    if folder is not None:
        loaded = load_model(folder, expect="arcnn")
        net, config, source = loaded.net, loaded.config, str(folder)
    else:
        config = arcnn.ArcnnConfig()
        net, source = arcnn.ArcnnNet(config).eval(), "none shipped: base preset with random weights"
    roll, onsets, metre = _seed_roll(config)

    def ours(per_pass: int) -> float:
        knobs = SamplerKnobs(iterations=events, edits_per_pass=per_pass, seed=0)
        return _time(lambda: sum(1 for _ in arcnn.sample_edits(net, roll, onsets, metre, knobs)), runs)

    shipped_per_pass = config.edits_per_pass
    one_per_pass = ours(1)
    several = ours(shipped_per_pass)
    torch.manual_seed(0)
    anchor = DeepComposerUNet().eval()
    anchor_roll = np.zeros((128, 128), dtype=bool)
    anchor_roll[:, config.low_pitch:config.low_pitch + config.n_pitches] = roll
    anchor_runs = max(1, runs // 2)
    anchor_seconds = _time(lambda: anchor_edit_events(anchor, anchor_roll, events, np.random.default_rng(0)), anchor_runs)
    return {
        "benchmark": f"{events} edit events on 8 bars (128 x {config.n_pitches} cells), median of {runs} runs",
        "torch_threads": torch.get_num_threads(),
        "model": {"checkpoint": source, "parameters": _parameters(net),
                  "seconds_one_edit_per_pass": one_per_pass,
                  "edits_per_pass": shipped_per_pass, "seconds": several},
        "deepcomposer_unet": {"parameters": _parameters(anchor), "seconds": anchor_seconds, "runs": anchor_runs},
        "speedup": anchor_seconds / several,
        "speedup_one_edit_per_pass": anchor_seconds / one_per_pass,
        "goal": "0.3 s or less, and at least 10x faster than the anchor",
    }
