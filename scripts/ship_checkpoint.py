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

from safetensors.torch import load_file, save_file

from desktop_app.ml import checkpoints
from desktop_app.ml.evaluate import evaluate_checkpoint
from desktop_app.ml.shipped import MODELS_DIR, load_model


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def evaluation_lines(result: dict, name: str, data: str) -> list[str]:
    lines = ["## Evaluation (held-out splits; never used for training or tuning)", "",
             f"Command: `desktop-app evaluate {name} --data {data} --json`", "",
             "| figure | valid | test |", "|---|---|---|"]
    for key in result["test"]:  # one row per figure: a model may report many
        lines.append(f"| {key} | {_fmt(result['valid'].get(key, ''))} | {_fmt(result['test'][key])} |")
    lines += ["", LOSS_MEANING.get(name, "Loss: the model's training objective on the split, with a fixed seed."), ""]
    return lines


LOSS_MEANING = {
    "arcnn": "Loss: KL divergence in nats per window between the flip target and the model's next-edit "
             "distribution (the training objective), on freshly corrupted windows with a fixed seed.",
    "gan": "Loss: the critic's Wasserstein estimate E[C(real)] - E[C(fake)] on the split's windows (lower: the "
           "critic tells the generated voices from Bach's less; not comparable between runs, since each run's "
           "critic is its own judge); g_loss and c_loss are the generator's and critic's losses, gp the "
           "gradient penalty.",
    "transformer": "Loss: next-token cross-entropy in nats per token (the training objective) over every window "
                   "of the split, in continuation or infill form drawn with a fixed seed; loss_per_note is the "
                   "summed loss over the notes written (one pitch token each), so it counts every token a note "
                   "costs (position, pitch, duration, velocity, bar and slot tokens); perplexity is e to the loss.",
}


def _metric_table(compared: dict, what: str) -> list[str]:
    lines = [f"| metric | real {what} mean | generated mean | overlap area |", "|---|---|---|---|"]
    for metric, row in compared.items():
        lines.append(f"| {metric} | {_fmt(row['reference_mean'])} | {_fmt(row['generated_mean'])} | "
                     f"{_fmt(row['overlap_area'])} |")
    return lines + [""]


def model_lines(loaded, tokens_json: Path | None) -> list[str]:
    """What the network is: its size, and for the transformer its tokens and why they are ours."""
    parameters = sum(p.numel() for p in loaded.net.parameters())
    weights = loaded.checkpoint.path / checkpoints.WEIGHTS
    stored = sorted({str(t.dtype).removeprefix("torch.") for t in load_file(weights).values()})
    lines = ["## Model", "", f"- parameters: {parameters:,}",
             f"- weights: {weights.stat().st_size / 1e6:.1f} MB, stored in {' and '.join(stored)} "
             "(trained in float32)"]
    if loaded.name == "transformer":
        from desktop_app.ml.models import transformer_tokens as T

        c = loaded.config
        lines += [f"- decoder-only transformer: {c.n_layer} layers, {c.n_head} heads, {c.n_embd} wide, "
                  f"rotary positions, context {c.block_size} tokens; trained on windows of {c.window_bars} bars "
                  f"every {c.hop_bars}, transposed by up to {c.transpose} semitones, {c.infill_share:.0%} of them "
                  f"in infill form (up to {c.max_fill_bars} bars masked in all voices, one voice or half of them)",
                  f"- tokens: this project's own bar and voice tokens (`desktop_app/ml/models/transformer_tokens.py`), "
                  f"vocabulary {T.VOCAB_SIZE}: a header RANGE low high; per bar BAR; per voice VOICE, its density "
                  "and polyphony levels (the controls), then per note POS (when it moves), VEL (when it changes), "
                  "PITCH and DUR on the 16th-note grid; MASK, SEP, FILL and FILL_END for infilling."]
        if tokens_json is not None and tokens_json.exists():
            lines += ["- why not MidiTok: measured by `scripts/measure_tokens.py` on the chorales (notes kept "
                      "exactly by a round trip, tokens per bar, vocabulary):", "", "```json",
                      tokens_json.read_text().strip(), "```"]
    return lines + [""]


def gan_lines(samples: dict) -> list[str]:
    lines = ["### Harmonised test melodies", "",
             f"{samples['windows']} non-overlapping {samples['bars_per_window']}-bar windows of the test chorales: "
             "the soprano goes in, alto, tenor and bass come out (variety 1, a fixed seed), and are compared "
             "with Bach's own voices of the same windows. Overlap area: Yang and Lerch, 1 = the same "
             "distribution as the real voices.", "",
             "| metric | judged on | unit | real mean | generated mean | overlap area |", "|---|---|---|---|---|---|"]
    for name, row in samples["metrics"].items():
        lines.append(f"| {name} | {samples['judged_on'][name]} | {samples['units'][name]} | "
                     f"{_fmt(row['reference_mean'])} | {_fmt(row['generated_mean'])} | {_fmt(row['overlap_area'])} |")
    notes = samples["notes_per_window"]
    lines += ["", f"Notes per window in the three written voices: {_fmt(notes['generated'])} generated, "
              f"{_fmt(notes['real'])} in Bach's. Share of voice steps that another seed writes otherwise "
              f"(does the noise matter?): {_fmt(samples['steps_another_seed_changes'])}.", "",
              "DeepComposer's GAN names its sample metrics (empty-bar rate, unique pitches, in-scale rate) but "
              "publishes no values for them, so the comparison is with Bach's voices; for scale, it trained "
              "1,000 iterations of batch 64 on 229 two-bar snippets, 3 to 4 hours on a 16-core CPU instance "
              "(shared/REFERENCE.md).", ""]
    return lines


POLYPHONY_NOTE = ("Polyphony is measured per slot, and every voice of a chorale is a single line, so the chorales "
                  "hold only the \"low\" level: the model cannot learn the other two from them and writes single "
                  "lines whatever is asked (accuracy at chance). The control is for datasets with chords in a track.")


def transformer_lines(samples: dict) -> list[str]:
    from desktop_app.ml.models import transformer_eval as E

    lines = ["### Continuations and infills of the test chorales", "",
             f"{samples['windows']} test chorales of at least {E.WINDOW_BARS} bars. Continuation: the first "
             f"{E.SEED_BARS} bars are the prompt, {E.NEW_BARS} bars are written in all voices (temperature 1, "
             "top-p 0.95) and compared with the bars the chorale really goes on with. Infill: bars 3 and 4 of the "
             "first 8 are written anew in all voices, given the bars before and after. Overlap area: Yang and "
             "Lerch, 1 = the same distribution as the real bars.", "", "Continuations:", ""]
    lines += _metric_table(samples["continuation_metrics"], "next bars")
    lines += ["Infills:", ""] + _metric_table(samples["infill_metrics"], "bars 3-4")
    acc = samples["control_accuracy"]
    lines += ["### Controls", "",
              "Each level of density and of polyphony asked in turn for every voice of every continued bar; "
              "accuracy is the share of written slots (a bar of a voice) whose level, measured by the tokenizer's "
              "own rule, is the one asked (chance: 0.33).", "",
              "| control | accuracy |", "|---|---|",
              f"| density | {_fmt(acc['density'])} |", f"| polyphony | {_fmt(acc['polyphony'])} |", "",
              POLYPHONY_NOTE, "",
              "| density asked | notes per bar (4 voices) |", "|---|---|"]
    for level in ("low", "medium", "high"):
        lines.append(f"| {level} | {_fmt(samples[f'notes_per_bar_asked_{level}'])} |")
    lines += [f"| (the real bars) | {_fmt(samples['notes_per_bar_real'])} |", ""]
    if "copying" in samples:
        lines += ["### Copying the training set", "",
                  "The longest run of notes (same pitch and duration, note after note in one voice) that an "
                  "output shares with any training chorale, beside the same figure for the real test bars: "
                  "chorales share hymn tunes and cadence formulas, so the real music has runs of its own.", "",
                  "| output | longest run, mean | longest run, max | share with a run of "
                  f"{samples['copying']['continuation']['long_run_notes']}+ | real bars: mean | real bars: share |",
                  "|---|---|---|---|---|---|"]
        for kind, row in samples["copying"].items():
            lines.append(f"| {kind} | {_fmt(row['longest_run_mean'])} | {row['longest_run_max']} | "
                         f"{_fmt(row['share_with_long_run'])} | {_fmt(row['real_longest_run_mean'])} | "
                         f"{_fmt(row['real_share_with_long_run'])} |")
        lines.append("")
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
    parser.add_argument("--tokens-json", type=Path, help="the transformer's token measurement (scripts/measure_tokens.py)")
    parser.add_argument("--half", action="store_true",
                        help="store the weights in float16 (half the size; evaluated as stored)")
    args = parser.parse_args()

    loaded = load_model(args.checkpoint)
    target = MODELS_DIR / loaded.name
    target.mkdir(parents=True, exist_ok=True)
    for name in (checkpoints.WEIGHTS, checkpoints.CONFIG):
        shutil.copy2(args.checkpoint / name, target / name)
    if args.half:
        save_file({k: v.half().contiguous() for k, v in load_file(target / checkpoints.WEIGHTS).items()},
                  target / checkpoints.WEIGHTS)
    print(f"copied weights and config to {target}", file=sys.stderr)

    training_card = loaded.checkpoint.card
    loaded = load_model(target)  # as shipped: what is evaluated and described is what the app loads
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

    card = training_card.rstrip().splitlines()
    card[0] = f"# {loaded.name}: shipped checkpoint ({card[0].lstrip('# ')})"
    lines = card + [""]
    if args.hardware_note:
        lines += [args.hardware_note, ""]
    lines += model_lines(loaded, args.tokens_json)
    lines += evaluation_lines(result, loaded.name, args.data)
    if "samples" in result and loaded.name == "arcnn":
        lines += repair_lines(result["samples"], one_per_pass)
    if "samples" in result and loaded.name == "transformer":
        lines += transformer_lines(result["samples"])
    if "samples" in result and loaded.name == "gan":
        lines += gan_lines(result["samples"])
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
