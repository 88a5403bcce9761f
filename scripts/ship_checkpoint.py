#!/usr/bin/env python3
"""Ship a trained checkpoint in resources/models/NAME: copy its weights and config (not the optimizer),
evaluate it on the dataset's test split, time it, and write the model card with every figure.

    .venv/bin/python scripts/ship_checkpoint.py RUN/checkpoints/best --data chorales [--max-windows N]

The card keeps the training card the loop wrote (data, split, steps, wall time, hardware, losses, the
command) and adds the evaluation and the benchmark, each with the command that reproduces it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from desktop_app.ml import checkpoints
from desktop_app.ml.evaluate import evaluate_checkpoint
from desktop_app.ml.shipped import MODELS_DIR, load_model


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def evaluation_lines(result: dict, name: str, data: str) -> list[str]:
    lines = ["## Evaluation (held-out splits; never used for training or tuning)", "",
             f"Command: `desktop-app evaluate {name} --data {data} --json`", "",
             "| split | examples | " + " | ".join(k for k in result["test"] if k != "examples") + " |",
             "|---|---|" + "---|" * (len(result["test"]) - 1)]
    for split in ("valid", "test"):
        row = result[split]
        lines.append(f"| {split} | {row.get('examples', 0)} | " + " | ".join(_fmt(v) for k, v in row.items() if k != "examples") + " |")
    lines += ["", "Loss: KL divergence in nats per window between the flip target and the model's next-edit "
              "distribution (the training objective), on freshly corrupted windows with a fixed seed.", ""]
    return lines


def repair_lines(samples: dict, one_per_pass: dict | None) -> list[str]:
    lines = ["### Repair of damaged test windows", "",
             "Each non-overlapping 8-bar window of the test chorales loses half its notes and gains as many "
             "random ones; the sampler then runs with DeepComposer's defaults (100 edit events, 100 % may be "
             "removed, 500 may be added, creative risk 1.0).", "",
             "| measure | " + ("several edits per pass" if one_per_pass else "value") + (" | one edit per pass |" if one_per_pass else " |"),
             "|---|---|" + ("---|" if one_per_pass else "")]
    names = {"added_removed": "share of added notes removed", "removed_restored": "share of removed notes restored",
             "untouched_kept": "share of untouched notes kept", "cell_f1_before": "cell F1 vs original, before",
             "cell_f1_after": "cell F1 vs original, after", "windows": "windows"}
    for key, label in names.items():
        row = f"| {label} | {_fmt(samples[key])} |"
        if one_per_pass:
            row += f" {_fmt(one_per_pass[key])} |"
        lines.append(row)
    lines += ["", f"Edits per pass: {samples['knobs']['edits_per_pass']}.", "",
              "Overlap area (Yang and Lerch; 1 = same distribution as the original windows):", "",
              "| metric | original mean | damaged input mean | input overlap | output mean | output overlap |",
              "|---|---|---|---|---|---|"]
    for metric, row in samples["metrics"].items():
        lines.append(f"| {metric} | {_fmt(row['original_mean'])} | {_fmt(row['input_mean'])} | "
                     f"{_fmt(row['input_overlap'])} | {_fmt(row['output_mean'])} | {_fmt(row['output_overlap'])} |")
    return lines + [""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--data", default="chorales")
    parser.add_argument("--max-windows", type=int)
    parser.add_argument("--hardware-note", default="", help="a sentence for the card, e.g. how loaded the machine was")
    parser.add_argument("--bench", action="store_true", help="also run desktop-app bench for the model")
    args = parser.parse_args()

    loaded = load_model(args.checkpoint)
    target = MODELS_DIR / loaded.name
    target.mkdir(parents=True, exist_ok=True)
    for name in (checkpoints.WEIGHTS, checkpoints.CONFIG):
        shutil.copy2(args.checkpoint / name, target / name)
    print(f"copied weights and config to {target}", file=sys.stderr)

    result = evaluate_checkpoint(target, args.data, max_windows=args.max_windows)
    one_per_pass = None
    if loaded.name == "arcnn":
        from desktop_app.ml.models.arcnn import SamplerKnobs, evaluate_samples

        test = __import__("desktop_app.ml.data", fromlist=["load_dataset"]).load_dataset(args.data).split("test")
        one_per_pass = evaluate_samples(loaded.net, loaded.config, test, seed=0, max_windows=args.max_windows,
                                        knobs=replace(SamplerKnobs(), edits_per_pass=1))
        result["samples_one_edit_per_pass"] = one_per_pass
    (target / "evaluation.json").write_text(json.dumps(result, indent=1))

    bench = None
    if args.bench:
        from desktop_app.cli import run_bench

        bench = run_bench(loaded.name, None, 5)
        (target / "bench.json").write_text(json.dumps(bench, indent=1))

    card = loaded.checkpoint.card.rstrip().splitlines()
    card[0] = f"# {loaded.name}: shipped checkpoint ({card[0].lstrip('# ')})"
    lines = card + [""]
    if args.hardware_note:
        lines += [args.hardware_note, ""]
    lines += evaluation_lines(result, loaded.name, args.data)
    if "samples" in result and loaded.name == "arcnn":
        lines += repair_lines(result["samples"], one_per_pass)
    if bench is not None:
        lines += ["## Speed", "", f"Command: `desktop-app bench {loaded.name}`", "", "```json",
                  json.dumps(bench, indent=1), "```", ""]
    lines += ["Files: `model.safetensors` (weights, no code), `config.json` (model and training settings), "
              "`evaluation.json` and `bench.json` (the figures above).", ""]
    (target / checkpoints.CARD).write_text("\n".join(lines))
    print(f"wrote {target / checkpoints.CARD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
