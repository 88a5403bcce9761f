"""What the AR-CNN panel costs, as JSON: the median time of one heat-layer refresh (one network pass
over an 8-bar window plus the track's roll) and the edit events per second of a run, on the soprano
of bwv66.6 with the checkpoint given (default: the shipped one), one torch thread:

    .venv/bin/python scripts/arcnn_panel_timing.py [--checkpoint FOLDER]

`desktop-app bench arcnn` times the sampler itself against DeepComposer's network."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)

    import torch

    from desktop_app.ml.models.arcnn import SamplerKnobs
    from desktop_app.ml.models.arcnn_track import TrackEditor
    from desktop_app.ml.shipped import load_model, shipped_checkpoint
    from desktop_app.ui.models.arcnn_panel import Span, heat_map

    sys.path.insert(0, str(Path(__file__).parent))
    from arcnn_screenshots import chorale_melody

    torch.set_num_threads(1)
    folder = args.checkpoint or shipped_checkpoint("arcnn")
    if folder is None:
        raise SystemExit("arcnn_panel_timing: no shipped AR-CNN; give --checkpoint FOLDER")
    net = load_model(folder, expect="arcnn").net
    song = chorale_melody("bwv66.6")
    heat = []
    for _ in range(args.runs):
        start = time.perf_counter()
        heat_map(song, 0, net, Span(), net.config.steps // 2, 1.0)
        heat.append(time.perf_counter() - start)
    start = time.perf_counter()
    knobs = SamplerKnobs(iterations=100, seed=3, edits_per_pass=max(net.config.edits_per_pass, 1))
    events = sum(1 for _ in TrackEditor(song, 0, net).run(knobs))
    seconds = time.perf_counter() - start
    print(json.dumps({"checkpoint": str(folder), "torch_threads": 1,
                      "heat_refresh_ms_median": round(sorted(heat)[len(heat) // 2] * 1000, 1),
                      "run_events": events, "run_seconds": round(seconds, 2),
                      "events_per_second": round(events / seconds, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
