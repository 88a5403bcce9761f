"""`desktop-app`: the window by default, and headless commands for conversion and benchmarks.
Errors print one line naming the file and the reason, and exit with code 2."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop_app import __version__
from desktop_app.audio.numba_cache import ensure_numba_cache
from desktop_app.music.errors import MusicFileError
from desktop_app.quiet import quiet_stderr

EXIT_ERROR = 2
COMMANDS = ("convert", "render", "spectrogram", "bench", "dataset", "train", "generate", "evaluate")


def _commands_epilog() -> str:
    """A line per subcommand, read from the command parser, so every command added there is listed."""
    sub = next(a for a in _command_parser()._actions if isinstance(a, argparse._SubParsersAction))
    rows = [(choice.dest, choice.help or "") for choice in sub._choices_actions]
    width = max(len(name) for name, _ in rows) + 2
    lines = [f"  desktop-app {name:<{width}}{text}" for name, text in rows]
    return "commands:\n" + "\n".join(lines) + "\n\nRun 'desktop-app COMMAND --help' for the options of each."


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desktop-app",
        description="Music-composition workstation: opens the window, or runs one of the commands below.",
        epilog=_commands_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", type=Path, help="a project (.dap), MIDI or MusicXML/MXL file to open")
    parser.add_argument("--screenshot", metavar="OUT.png", type=Path,
                        help="open the window with FILE (or the demo seed), save a PNG of it and exit")
    parser.add_argument("--play", metavar="SECONDS", type=float, default=0.0,
                        help="with --screenshot: play the song that long before the picture is taken")
    parser.add_argument("--bars", metavar="N", type=int, default=0,
                        help="with --screenshot: zoom the piano roll to the first N bars (and a pickup before them)")
    parser.add_argument("--version", action="version", version=f"desktop-app {__version__}")
    return parser


def _command_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desktop-app")
    sub = parser.add_subparsers(dest="command", required=True)
    convert = sub.add_parser("convert", help="convert between MIDI, MusicXML/MXL and project files")
    convert.add_argument("input", type=Path, help="a .mid/.midi, .musicxml/.xml/.mxl or .dap file")
    convert.add_argument("output", type=Path, help="a .mid/.midi or .dap file")
    render = sub.add_parser("render", help="render a song to a WAV or FLAC file through the synth")
    render.add_argument("input", type=Path, help="a .mid/.midi, .musicxml/.xml/.mxl or .dap file")
    render.add_argument("output", type=Path, help="a .wav or .flac file")
    render.add_argument("--soundfont", type=Path, help="a .sf2/.sf3 file (default: a General MIDI one found on the system)")
    render.add_argument("--sample-rate", type=int, default=48_000)
    spec = sub.add_parser("spectrogram", help="write the spectrogram of an audio file or a song as PNG")
    spec.add_argument("input", type=Path, help="a .wav/.flac/.ogg/.mp3 file, or a song to render (.mid, .mxl, .dap)")
    spec.add_argument("output", type=Path, help="a .png file")
    spec.add_argument("--scale", choices=["mel", "cqt", "linear", "log"], default="cqt")
    train = sub.add_parser("train", help="train a model headless (also under torchrun), with a progress bar",
                           description="Train a registered model and write checkpoints, metrics.csv and TensorBoard "
                           "logs to --out. Ctrl+C stops after the step and saves a checkpoint; --resume continues it.")
    train.add_argument("model", help="a registered model (see desktop_app/ml/models/__init__.py)")
    train.add_argument("--data", required=True, help="chorales, folk, a name given with 'dataset add', or a folder")
    train.add_argument("--steps", type=int, default=1000)
    train.add_argument("--out", type=Path, required=True, help="the run folder: checkpoints/, metrics.csv, tensorboard/")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (warm-up, then cosine decay)")
    train.add_argument("--batch-size", type=int, default=32, help="windows per step on each process")
    train.add_argument("--preset", default="small", help="the model's size preset")
    train.add_argument("--seed", type=int, default=0, help="the same seed gives the same losses")
    train.add_argument("--eval-every", type=int, default=100, help="steps between validation passes")
    train.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    train.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    train.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    bench = sub.add_parser("bench", help="run a benchmark and print JSON")
    bench.add_argument("name", choices=["io", "pianoroll", "audio", "spectrogram", "dataset", "runner", "arcnn",
                                        "transformer", "gan"],
                       help="io: MIDI import and export of a 10,000-note file; "
                       "gan: seconds to harmonise 16 bars, one thread and default threads; "
                       "transformer: seconds to continue a chorale by 8 bars, 1 and 4 variations, with and without the cache; "
                       "runner: GUI stalls, audio underflows and throughput while a training child process runs; "
                       "pianoroll: paint and drag times of the piano roll on a 20,000-note song; "
                       "audio: render speed, output latency, underflows while torch trains; "
                       "spectrogram: 3-minute file to image for mel and constant-Q; "
                       "dataset: files per second building a dataset of 2,000 MIDI files, cold and warm, beside symusic")
    bench.add_argument("--seconds", type=float, default=60.0, help="playback time under load (audio)")
    bench.add_argument("--load", type=int, default=0, metavar="N",
                       help="audio: run N CPU-bound processes beside playback and report underflows at the "
                       "default buffer and with the buffer adapting (each phase --seconds long)")
    bench.add_argument("--no-realtime", action="store_true",
                       help="audio: ask for no real-time scheduling, as on a system that does not permit it")
    bench.add_argument("--notes", type=int, help="notes in the benchmark song (io 10,000, pianoroll 20,000)")
    bench.add_argument("--runs", type=int, default=9, help="repetitions (frames for pianoroll); medians are reported")
    bench.add_argument("--files", type=int, default=2000, help="MIDI files in the dataset benchmark's folder")
    dataset = sub.add_parser("dataset", help="build datasets, show their statistics, register folders")
    dataset_sub = dataset.add_subparsers(dest="action", required=True)
    stats = dataset_sub.add_parser("stats", help="build (or load from the cache) a dataset and show its statistics")
    stats.add_argument("dataset", help="chorales, folk, a name given with 'dataset add', or a folder")
    stats.add_argument("--json", action="store_true", help="print everything as JSON (with each split's piece ids)")
    stats.add_argument("--workers", type=int, help="parser processes (default: one per core)")
    stats.add_argument("--exclude", default="empty,meter",
                       help="outlier kinds to set aside, comma-separated from empty, range, length, meter ('' for none)")
    add = dataset_sub.add_parser("add", help="register a folder of MIDI and MusicXML files as a dataset")
    add.add_argument("folder", type=Path)
    add.add_argument("--name", help="the dataset's name (default: the folder's name)")
    dataset_sub.add_parser("list", help="list built-in and registered datasets").add_argument("--json", action="store_true")
    dataset_sub.add_parser("remove", help="forget a registered folder (its files stay)").add_argument("name")
    generate = sub.add_parser("generate", help="let a model edit or extend a song and write the result as MIDI")
    generate.add_argument("model", choices=["arcnn", "transformer", "gan"],
                          help="arcnn: edit a track one note cell at a time; transformer: continue the song or fill bars; "
                          "gan: write alto, tenor and bass under a melody track")
    generate.add_argument("--input", type=Path, required=True, help="a .mid, .mxl/.musicxml or .dap file")
    generate.add_argument("--out", type=Path, required=True, help="the .mid (or .dap) file to write")
    generate.add_argument("--track", type=int, default=1, help="the track to edit, counted from 1 (default 1)")
    generate.add_argument("--iterations", type=int, default=100, help="edit events (default 100)")
    generate.add_argument("--temperature", type=float, default=1.0, help="creative risk, 0 is greedy (default 1.0)")
    generate.add_argument("--max-remove", type=float, default=100.0, metavar="PCT",
                          help="percent of the input's notes that may lose cells (default 100)")
    generate.add_argument("--max-add", type=int, default=500, help="notes that may be added (default 500)")
    generate.add_argument("--edits-per-pass", type=int, default=None,
                          help="edit events per network pass (default: the checkpoint's setting)")
    generate.add_argument("--seed", type=int, help="the same seed gives the same result")
    generate.add_argument("--bars", help="arcnn: edit only these bars, e.g. 3-6 (as the app numbers them); "
                          "transformer: how many bars to continue by (default 2)")
    generate.add_argument("--checkpoint", type=Path, help="a checkpoint folder (default: the shipped model)")
    generate.add_argument("--infill", metavar="A-B", help="transformer: write bars A..B anew instead of continuing")
    generate.add_argument("--tracks", help="transformer: the tracks to write, counted from 1, e.g. 1,3 (default all)")
    generate.add_argument("--variations", type=int, default=1,
                          help="transformer, gan: takes sampled together; the 2nd and later go to OUT-2.mid, ... (default 1)")
    generate.add_argument("--top-p", type=float, default=0.95, help="transformer: nucleus sampling (default 0.95)")
    generate.add_argument("--top-k", type=int, default=0, help="transformer: keep the k likeliest tokens (default 0: all)")
    generate.add_argument("--density", choices=["low", "medium", "high"], help="transformer: notes per bar")
    generate.add_argument("--polyphony", choices=["low", "medium", "high"], help="transformer: notes at once")
    generate.add_argument("--pitch-range", metavar="LOW-HIGH", help="transformer: MIDI pitches, e.g. 48-72")
    generate.add_argument("--melody-track", type=int, default=1, help="gan: the melody's track, counted from 1 (default 1)")
    generate.add_argument("--variety", type=float, default=1.0, help="gan: noise scale, 0 always writes the same (default 1.0)")
    generate.add_argument("--voices", default="alto,tenor,bass", help="gan: the voices to write (default alto,tenor,bass)")
    evaluate = sub.add_parser("evaluate", help="losses and music metrics of a checkpoint on a dataset's held-out splits")
    evaluate.add_argument("checkpoint", type=Path, help="a checkpoint folder, or a model's name for the one shipped")
    evaluate.add_argument("--data", required=True, help="chorales, folk, a registered name, or a folder")
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.add_argument("--max-windows", type=int, help="judge at most this many test windows (default: all)")
    evaluate.add_argument("--seed", type=int, default=0)
    return parser


def convert(source: Path, target: Path) -> None:
    from desktop_app.music.formats import read_any, write_any

    project = read_any(source)
    write_any(project, target)


def render(source: Path, target: Path, soundfont: Path | None, sample_rate: int) -> None:
    from desktop_app.audio.render import SynthSettings, audio_format, render_to_file
    from desktop_app.audio.synth import SynthUnavailable
    from desktop_app.music.formats import read_any
    from desktop_app.music.limits import check_sample_rate

    audio_format(target)  # a bad extension or rate fails before the work
    check_sample_rate(sample_rate, target)
    song = read_any(source).song
    settings = SynthSettings(str(soundfont) if soundfont else None, sample_rate)
    if soundfont is not None and not soundfont.is_file():
        raise MusicFileError(soundfont, "no such SoundFont file")
    try:
        render_to_file(target, song, settings)
    except SynthUnavailable as e:
        raise MusicFileError(source, f"cannot render: {e}") from None


def run_bench(name: str, notes: int | None, runs: int, seconds: float = 60.0, files: int = 2000,
              load: int = 0, realtime: bool = True) -> dict:
    if name == "gan":
        from desktop_app.bench import gan_bench

        return gan_bench.run(runs)
    if name == "transformer":
        from desktop_app.bench import transformer_bench

        return transformer_bench.run(min(runs, 9))
    if name == "arcnn":
        from desktop_app.bench import arcnn_bench

        return arcnn_bench.run(min(runs, 5))
    if name == "runner":
        from desktop_app.bench import runner_bench

        return runner_bench.run(seconds)
    if name == "dataset":
        from desktop_app.bench import dataset_bench

        return dataset_bench.run(files)
    if name == "spectrogram":
        from desktop_app.bench import spectrogram_bench

        return spectrogram_bench.run()
    if name == "audio":
        from desktop_app.bench import audio_bench

        return audio_bench.run(seconds, load, realtime)
    if name == "io":
        from desktop_app.bench import io_bench

        return io_bench.run(notes or 10_000, runs)
    from desktop_app.bench import pianoroll_bench

    return pianoroll_bench.run(notes or 20_000, max(runs, 20))


def run_dataset(args: argparse.Namespace) -> None:
    """`desktop-app dataset stats|add|list|remove`; a build shows its progress on a terminal."""
    from desktop_app.ml import data
    from desktop_app.ml.data.report import list_text, stats_text

    if args.action == "add":
        name = data.add_user_dataset(args.folder, args.name)
        print(f"added dataset {name!r}: {args.folder.expanduser().resolve()}")
    elif args.action == "remove":
        data.remove_user_dataset(args.name)
    elif args.action == "list":
        rows = data.list_datasets()
        print(json.dumps(rows, indent=2) if args.json else list_text(rows))
    else:
        def progress(done: int, total: int) -> None:
            print(f"\rreading {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

        exclude = tuple(k.strip() for k in args.exclude.split(",") if k.strip())
        unknown = sorted(set(exclude) - set(data.OUTLIER_KINDS))
        if unknown:
            raise MusicFileError("--exclude", f"unknown outlier kinds {', '.join(unknown)}; expected some of "
                                 + ", ".join(data.OUTLIER_KINDS))
        dataset = data.load_dataset(args.dataset, workers=args.workers, exclude=exclude,
                                    progress=progress if sys.stderr.isatty() else None)
        stats = data.dataset_stats(dataset)
        print(json.dumps(stats, indent=1) if args.json else stats_text(stats))


def _checkpoint_for(model: str, given: Path | None) -> Path:
    from desktop_app.ml.shipped import shipped_checkpoint

    from desktop_app.ml.shipped import MODELS_DIR

    if given is not None:
        return given
    folder = shipped_checkpoint(model)
    if folder is None:
        raise MusicFileError(MODELS_DIR / model, f"no {model} checkpoint is shipped here: give one with --checkpoint")
    return folder


def run_generate(args: argparse.Namespace) -> None:
    """`desktop-app generate arcnn`: the AR-CNN edits one track of the input file."""
    if args.model == "transformer":
        return run_generate_transformer(args)
    if args.model == "gan":
        return run_generate_gan(args)
    from dataclasses import replace

    from desktop_app.ml.models.arcnn import SamplerKnobs
    from desktop_app.ml.models.arcnn_track import Region, bars_region, edit_song, parse_bars
    from desktop_app.ml.shipped import load_model
    from desktop_app.music.formats import read_any, write_any

    loaded = load_model(_checkpoint_for(args.model, args.checkpoint), expect=args.model)
    project = read_any(args.input)
    song = project.song
    if not 1 <= args.track <= len(song.tracks):
        raise MusicFileError(args.input, f"has {len(song.tracks)} tracks; --track {args.track} is not one of them")
    if not 0 <= args.max_remove <= 100 or args.max_add < 0 or args.iterations < 0 or args.temperature < 0:
        raise MusicFileError(args.input, "knobs out of range: --max-remove 0..100, --max-add, --iterations, --temperature >= 0")
    region = Region()
    if args.bars:
        try:
            first, last = parse_bars(args.bars)
        except ValueError as e:
            raise MusicFileError(args.input, str(e)) from None
        region = bars_region(song, first, last)
    per_pass = args.edits_per_pass or loaded.config.edits_per_pass
    knobs = SamplerKnobs(iterations=args.iterations, max_remove=args.max_remove / 100, max_add=args.max_add,
                         temperature=args.temperature, edits_per_pass=max(per_pass, 1), seed=args.seed)
    edited = edit_song(song, args.track - 1, loaded.net, knobs, region)
    write_any(replace(project, song=edited), args.out)


def _int_pair(text: str, what: str) -> tuple[int, int]:
    """'3-6' -> (3, 6); a ValueError names the option."""
    try:
        first, last = (int(x) for x in text.split("-"))
    except ValueError:
        raise ValueError(f"{what} {text!r}: expected two numbers A-B") from None
    if first > last:
        raise ValueError(f"{what} {text!r}: the first number is larger than the second")
    return first, last


def run_generate_transformer(args: argparse.Namespace) -> None:
    """`desktop-app generate transformer`: continue the input by --bars bars, or fill --infill A-B."""
    from dataclasses import replace

    from desktop_app.ml.models import transformer
    from desktop_app.ml.shipped import load_model
    from desktop_app.music.formats import read_any, write_any

    loaded = load_model(_checkpoint_for(args.model, args.checkpoint), expect=args.model)
    project = read_any(args.input)
    song = project.song
    try:
        tracks = None if not args.tracks else [int(t) - 1 for t in args.tracks.split(",")]
        if tracks is not None and any(not 0 <= t < len(song.tracks) for t in tracks):
            raise ValueError(f"has {len(song.tracks)} tracks; --tracks {args.tracks} names others")
        if args.variations < 1 or args.temperature < 0 or not 0 < args.top_p <= 1 or args.top_k < 0:
            raise ValueError("knobs out of range: --variations >= 1, --temperature >= 0, 0 < --top-p <= 1, --top-k >= 0")
        controls = transformer.Controls(args.density, args.polyphony,
                                        _int_pair(args.pitch_range, "--pitch-range") if args.pitch_range else None)
        knobs = dict(track_indices=tracks, variations=args.variations, temperature=args.temperature, top_p=args.top_p,
                     top_k=args.top_k, controls=controls, seed=args.seed)
        if args.infill:
            first, last = _int_pair(args.infill, "--infill")
            updates = transformer.infill_song(loaded.net, loaded.config, song, first, last, **knobs)
        else:
            bars = int(args.bars) if args.bars else 2
            updates = transformer.continue_song(loaded.net, loaded.config, song, bars=bars, **knobs)
        result = transformer.last_update(updates)
    except ValueError as e:
        raise MusicFileError(args.input, str(e)) from None
    for i, take in enumerate(result.takes):
        out = args.out if i == 0 else args.out.with_name(f"{args.out.stem}-{i + 1}{args.out.suffix}")
        write_any(replace(project, song=take), out)


def run_generate_gan(args: argparse.Namespace) -> None:
    """`desktop-app generate gan`: add alto, tenor and bass tracks under --melody-track; --variations
    takes go to OUT.mid, OUT-2.mid, ..."""
    from dataclasses import replace

    from desktop_app.ml.models import gan
    from desktop_app.ml.shipped import load_model
    from desktop_app.music.formats import read_any, write_any

    loaded = load_model(_checkpoint_for(args.model, args.checkpoint), expect=args.model)
    project = read_any(args.input)
    voices = tuple(v.strip() for v in args.voices.split(",") if v.strip())
    try:
        takes = gan.accompany(loaded.net, loaded.config, project.song, args.melody_track - 1, voices, args.seed,
                              args.variety, args.variations)
    except ValueError as e:
        raise MusicFileError(args.input, str(e)) from None
    for i, take in enumerate(takes):
        out = args.out if i == 0 else args.out.with_name(f"{args.out.stem}-{i + 1}{args.out.suffix}")
        write_any(replace(project, song=gan.with_accompaniment(project.song, take)), out)


def run_evaluate(args: argparse.Namespace) -> None:
    """`desktop-app evaluate`: validation and test loss, and the model's sample evaluation."""
    from desktop_app.ml.evaluate import evaluate_checkpoint

    from desktop_app.ml.registry import model_names

    checkpoint = args.checkpoint
    if not checkpoint.exists() and str(checkpoint) in model_names():
        checkpoint = _checkpoint_for(str(checkpoint), None)

    def progress(done: int, total: int) -> None:
        print(f"\rjudging {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)

    result = evaluate_checkpoint(checkpoint, args.data, seed=args.seed, max_windows=args.max_windows,
                                 progress=progress if sys.stderr.isatty() else None)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    for split in ("valid", "test"):
        row = result[split]
        print(f"{split}: {row.get('examples', 0)} examples, " + ", ".join(
            f"{k} {v:.4f}" for k, v in row.items() if k != "examples"))
    _print_numbers(result.get("samples", {}))


def _print_numbers(values: dict, prefix: str = "") -> None:
    """Every number of a model's sample evaluation, one per line, nested names joined by dots."""
    for name, value in values.items():
        if isinstance(value, dict):
            _print_numbers(value, f"{prefix}{name}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            print(f"{prefix}{name}: {value:.4g}")


def run_train(args: argparse.Namespace, argv: list[str]) -> int:
    """`desktop-app train`: the training panel's loop in a terminal (and under torchrun)."""
    import shlex

    from desktop_app.ml.progress import one_line
    from desktop_app.ml.train import TrainConfig, train_headless

    config = TrainConfig(
        model=args.model, out=str(args.out), data=args.data, steps=args.steps, lr=args.lr, batch_size=args.batch_size,
        preset=args.preset, seed=args.seed, device=args.device, eval_every=args.eval_every,
        checkpoint_every=args.checkpoint_every, resume=args.resume, command=shlex.join(["desktop-app", *argv]))
    try:
        result = train_headless(config, args.threads)
    except ValueError as e:  # an unknown model or preset, no data, no such device
        print(f"desktop-app: error: {one_line(e)}", file=sys.stderr)
        return EXIT_ERROR
    if result["checkpoint"]:
        state = "stopped" if result["stopped"] else "finished"
        print(f"{state} at step {result['step']}: checkpoint {result['checkpoint']}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    ensure_numba_cache()  # before librosa is imported, by a command or the window
    try:
        if argv and argv[0] in COMMANDS:
            args = _command_parser().parse_args(argv)
            if args.command == "convert":
                with quiet_stderr():  # music21's warnings
                    convert(args.input, args.output)
            elif args.command == "train":
                return run_train(args, argv)
            elif args.command == "generate":
                run_generate(args)
            elif args.command == "evaluate":
                run_evaluate(args)
            elif args.command == "spectrogram":
                from desktop_app.ui.spectrogram.export import write_spectrogram_png

                with quiet_stderr():  # FluidSynth's log, music21's warnings
                    write_spectrogram_png(args.input, args.output, args.scale)
            elif args.command == "dataset":
                run_dataset(args)
            elif args.command == "render":
                with quiet_stderr():
                    render(args.input, args.output, args.soundfont, args.sample_rate)
            elif args.command == "bench":
                print(json.dumps(run_bench(args.name, args.notes, args.runs, args.seconds, args.files, load=args.load,
                                       realtime=not args.no_realtime), indent=2))
            return 0
        args = _gui_parser().parse_args(argv)
        if args.screenshot is not None:
            from desktop_app.ui.app import take_screenshot

            take_screenshot(args.screenshot, args.file, args.play, args.bars)
            return 0
        from desktop_app.ui.app import run_gui

        return run_gui(args.file)
    except MusicFileError as e:
        print(f"desktop-app: error: {e.path}: {e.reason}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
