"""The one training loop. The GUI's training panel (through the runner's child process), the
headless `desktop-app train` command and `torchrun` (DistributedDataParallel) all drive `train`.

Each step's randomness (the batch, dropout) is seeded from (seed, step, rank), so a run resumed
from a checkpoint retraces the curve of an uninterrupted one exactly; the checkpoint only has to
hold the weights, the optimizer and the step. Metrics go to a callback, to metrics.csv and to
TensorBoard event files in the run folder (`tensorboard --logdir RUN`). A model module may bring its
own optimizer and step (`make_optimizer`, `train_step`: see desktop_app.ml.registry), as the GAN does,
and rolls to look at (`preview`): drawn at each evaluation, sent with that row and kept in previews/."""

from __future__ import annotations

import csv
import math
import os
import platform
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist

from desktop_app.ml import checkpoints
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.progress import Eta, format_seconds, one_line
from desktop_app.ml.registry import get_model, make_config


@dataclass
class TrainConfig:
    model: str
    out: str
    data: str = ""  # a dataset name or folder, read with desktop_app.ml.data.load_dataset
    steps: int = 1000
    lr: float = 1e-3
    batch_size: int = 32
    preset: str = "small"
    seed: int = 0
    device: str = "auto"  # auto, cpu, cuda, cuda:1, mps
    eval_every: int = 100
    eval_batches: int = 8
    checkpoint_every: int = 500
    keep_checkpoints: int = 3  # step checkpoints kept; the best one is kept apart
    warmup_steps: int = -1  # -1: a tenth of the steps, at most 100
    min_lr_ratio: float = 0.1  # cosine decay ends at lr * this
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    resume: bool = False
    command: str = ""  # the exact command line, for the model card


class Control:
    """How a driver steers a running loop; this one never stops or pauses it."""

    def stop_requested(self) -> bool:
        return False

    def paused(self) -> bool:
        return False


Pieces = tuple[list[Piece], list[Piece]]  # (train, valid)
MetricsCallback = Callable[[dict], None]


# ----------------------------------------------------------------------------- set-up

def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """'auto' picks CUDA, then Apple's MPS, then the CPU; under torchrun each rank takes its own GPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA GPU is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("--device mps: Apple's MPS is not available")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def load_pieces(data: str, control: Control) -> Pieces:
    """The train and validation pieces of a dataset name or folder. Under torchrun rank 0 builds
    the dataset first and the others then read it from the cache."""
    from desktop_app.ml.data import load_dataset

    distributed = dist.is_available() and dist.is_initialized()
    if distributed and dist.get_rank() != 0:
        dist.barrier()
    dataset = load_dataset(data, cancel=control.stop_requested)
    if distributed and dist.get_rank() == 0:
        dist.barrier()
    return dataset.split("train"), dataset.split("valid")


def seed_step(seed: int, step: int, rank: int) -> None:
    """Seed every generator a step may draw from, from the step itself."""
    value = (seed * 1_000_003 + step) * 1_009 + rank
    torch.manual_seed(value)
    np.random.seed(value % 2**32)
    random.seed(value)


def lr_at(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to lr * min_lr_ratio at the last step (as in nanoGPT)."""
    warmup = config.warmup_steps if config.warmup_steps >= 0 else min(100, config.steps // 10)
    if step <= warmup:
        return config.lr * step / max(warmup, 1)
    progress = (step - warmup) / max(config.steps - warmup, 1)
    low = config.lr * config.min_lr_ratio
    return low + 0.5 * (config.lr - low) * (1 + math.cos(math.pi * min(progress, 1.0)))


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {name: tensor.to(device, non_blocking=True) for name, tensor in batch.items()}


# ----------------------------------------------------------------------------- logging

LOGGED_PREFIXES = ("train/", "valid/", "lr")


class RunLog:
    """metrics.csv (step, seconds, metric, value) and TensorBoard event files in the run folder.
    On resume, rows past the checkpoint's step are dropped so the curve continues cleanly."""

    def __init__(self, run_dir: Path, start_step: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.path = run_dir / "metrics.csv"
        kept = []
        if start_step > 0 and self.path.is_file():
            with self.path.open(newline="") as f:
                kept = [row for row in csv.reader(f)][1:]
            kept = [row for row in kept if row and int(row[0]) <= start_step]
        self.file = self.path.open("w", newline="")
        self.csv = csv.writer(self.file)
        self.csv.writerow(["step", "seconds", "metric", "value"])
        self.csv.writerows(kept)
        self.tensorboard = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start_step + 1 if start_step else None)

    def write(self, row: dict) -> None:
        step = row["step"]
        for name, value in row.items():
            if name.startswith(LOGGED_PREFIXES):
                self.csv.writerow([step, f"{row['seconds']:.3f}", name, repr(float(value))])
                self.tensorboard.add_scalar(name, value, step)
        self.file.flush()

    def close(self) -> None:
        self.file.close()
        self.tensorboard.close()


def read_metrics(run_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """metrics.csv as {metric: [(step, value), ...]}: for plots and tests."""
    curves: dict[str, list[tuple[int, float]]] = {}
    with (Path(run_dir) / "metrics.csv").open(newline="") as f:
        for row in list(csv.reader(f))[1:]:
            curves.setdefault(row[2], []).append((int(row[0]), float(row[3])))
    return curves


PREVIEWS = "previews"  # run folder: previews/step-NNNNNNN.npy, a model's `preview` rolls at each evaluation


def save_preview(run_dir: Path, step: int, rolls: np.ndarray) -> Path:
    """Keep an evaluation's preview rolls in the run folder, so a reopened run shows them too."""
    folder = Path(run_dir) / PREVIEWS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step-{step:07d}.npy"
    np.save(path, np.asarray(rolls))
    return path


def read_previews(run_dir: str | Path, upto: int | None = None) -> list[tuple[int, np.ndarray]]:
    """The preview rolls a run saved, as (step, rolls) in step order, up to step `upto` when given."""
    found = []
    for path in sorted((Path(run_dir) / PREVIEWS).glob("step-*.npy")):
        try:
            step = int(path.stem.split("-", 1)[1])
            if upto is None or step <= upto:
                found.append((step, np.load(path, allow_pickle=False)))
        except (ValueError, OSError):  # a half-written or foreign file: not a preview
            continue
    return found


def model_card(config: TrainConfig, model_config: object, facts: dict) -> str:
    """The human-readable card saved with every checkpoint."""
    lines = [f"# {config.model} ({config.preset})", "",
             f"- data: {facts['data']} ({facts['train_pieces']} training pieces, {facts['valid_pieces']} validation pieces;"
             " split by piece)",
             f"- steps: {facts['step']} of {config.steps}, batch size {config.batch_size} x {facts['world_size']} process(es)",
             f"- wall time: {facts['seconds']:.1f} s",
             f"- hardware: {facts['hardware']}",
             f"- learning rate: {config.lr} (warm-up then cosine), seed {config.seed}"]
    for name in sorted(facts["last"]):
        lines.append(f"- {name}: {facts['last'][name]:.5g}")
    lines += [f"- model config: {asdict(model_config) if hasattr(model_config, '__dataclass_fields__') else model_config}",
              f"- command: `{config.command or 'desktop-app (training panel)'}`", ""]
    return "\n".join(lines)


def hardware(device: torch.device, world_size: int) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or platform.machine())
    return f"{world_size} x {device.type} ({name}), torch {torch.__version__}, {torch.get_num_threads()} thread(s)"


# ----------------------------------------------------------------------------- the loop

@torch.no_grad()
def evaluate(model: torch.nn.Module, loss_fn, examples, config: TrainConfig, device: torch.device) -> dict[str, float]:
    """Mean loss and metrics over fixed validation batches spread evenly over the set."""
    n = min(len(examples), config.eval_batches * config.batch_size)
    if n == 0:
        return {}
    order = torch.linspace(0, len(examples) - 1, n).long()
    totals: dict[str, float] = {}
    model.eval()
    for chunk in order.split(config.batch_size):
        loss, metrics = loss_fn(model, to_device(examples.batch(chunk), device))
        for name, value in {"loss": loss.item(), **metrics}.items():
            totals[name] = totals.get(name, 0.0) + value * len(chunk)
    model.train()
    return {f"valid/{name}": total / n for name, total in totals.items()}


def train(config: TrainConfig, pieces: Pieces | None = None, on_metrics: MetricsCallback | None = None,
          control: Control | None = None) -> dict:
    """Train `config.model` and return a summary; with `pieces`, `config.data` is not read."""
    control = control or Control()
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world_size, local_rank = 0, 1, int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(config.device, local_rank)
    if distributed:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        rank, world_size = dist.get_rank(), dist.get_world_size()
        if device.type == "cuda":
            torch.cuda.set_device(device)
    master = rank == 0
    try:
        return _train(config, pieces, on_metrics, control, device, rank, world_size, master)
    finally:
        if distributed:
            dist.destroy_process_group()


def _train(config, pieces, on_metrics, control, device, rank, world_size, master) -> dict:
    spec = get_model(config.model)
    model_config = make_config(config.model, config.preset)
    train_pieces, valid_pieces = pieces if pieces is not None else load_pieces(config.data, control)
    train_examples = spec.make_examples(train_pieces, model_config)
    valid_examples = spec.make_examples(valid_pieces, model_config)
    if len(train_examples) == 0:
        raise ValueError(f"{config.data or 'the data'}: no training examples for {config.model} ({len(train_pieces)} pieces)")

    torch.manual_seed(config.seed)  # the same initial weights on every rank
    model = spec.build(model_config).to(device)
    # A model that trains more than one network (the GAN) gives its own optimizer (one, with a parameter
    # group per network, so checkpoints keep every state) and its own step; the others use AdamW and loss.
    custom_step = hasattr(spec, "train_step")
    if custom_step and world_size > 1:
        raise ValueError(f"{config.model} trains with its own step, on one process only (not under torchrun)")
    optimizer = (spec.make_optimizer(model, config) if hasattr(spec, "make_optimizer")
                 else torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay))
    run_dir = Path(config.out)
    start_step, best_valid, seconds_before = 0, math.inf, 0.0
    if config.resume:
        latest = checkpoints.latest_checkpoint(run_dir)
        if latest is None:
            raise checkpoints.CheckpointError(run_dir, "nothing to resume: the run folder holds no checkpoint")
        saved = checkpoints.read_config(latest)
        if (saved.get("model"), saved.get("preset")) != (config.model, config.preset):
            raise checkpoints.CheckpointError(latest, f"cannot resume: it trained {saved.get('model')} "
                                              f"({saved.get('preset')}), not {config.model} ({config.preset})")
        state = checkpoints.load_training_state(latest, model, optimizer)
        start_step, best_valid, seconds_before = state["step"], state["best_valid_loss"], state["seconds"]
    raw_model = model
    if world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    log = None
    if master:
        run_dir.mkdir(parents=True, exist_ok=True)
        log = RunLog(run_dir, start_step)
    facts = {"data": config.data or "pieces given by the caller", "train_pieces": len(train_pieces),
             "valid_pieces": len(valid_pieces), "world_size": world_size, "hardware": hardware(device, world_size)}
    started = time.perf_counter()
    last: dict[str, float] = {}

    def save(directory: Path, step: int) -> Path:
        seconds = seconds_before + time.perf_counter() - started
        card_facts = {**facts, "step": step, "seconds": seconds, "last": last}
        saved_config = {"model": config.model, "preset": config.preset, "model_config": asdict(model_config),
                        "train": asdict(config), "step": step, "card": {**card_facts, "last": dict(last)}}
        state = {"step": step, "best_valid_loss": best_valid, "seconds": seconds}
        return checkpoints.save_checkpoint(directory, raw_model, saved_config, model_card(config, model_config, card_facts),
                                           optimizer, state)

    eta, step_seconds, steps_done = Eta(), 0.0, 0
    step, stopped, saved_step = start_step, False, start_step
    model.train()
    for step in range(start_step + 1, config.steps + 1):
        while control.paused() and not control.stop_requested():
            time.sleep(0.05)
        t0 = time.perf_counter()
        seed_step(config.seed, step, rank)
        lr = lr_at(step, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        indices = torch.randint(len(train_examples), (config.batch_size,))
        batch = to_device(train_examples.batch(indices), device)
        if custom_step:  # train_step(model, batch, optimizer, config) -> (loss, metrics), having stepped
            loss, metrics = spec.train_step(model, batch, optimizer, config)
        else:
            loss, metrics = spec.loss(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
        # the mean loss over ranks, and whether any rank was asked to stop: one collective a step
        shared = torch.tensor([loss.item(), float(control.stop_requested())], dtype=torch.float64, device=device)
        if world_size > 1:
            dist.all_reduce(shared)
        train_loss, stopped = shared[0].item() / world_size, shared[1].item() > 0
        row = {"step": step, "train/loss": train_loss, "lr": lr, **{f"train/{k}": v for k, v in metrics.items()}}
        step_seconds += time.perf_counter() - t0
        steps_done += 1

        if step % config.eval_every == 0 or step == config.steps:
            row.update(evaluate(raw_model, spec.loss, valid_examples, config, device))
            if master and hasattr(spec, "preview"):  # rolls from fixed noise for the training panel's strip
                row["preview"] = spec.preview(raw_model, valid_examples if len(valid_examples) else train_examples)
                save_preview(run_dir, step, row["preview"])
        last = {k: v for k, v in row.items() if k.startswith(("train/", "valid/"))}
        if master and row.get("valid/loss", math.inf) < best_valid:
            best_valid = row["valid/loss"]
            save(checkpoints.best_directory(run_dir), step)
        if master and (step % config.checkpoint_every == 0 or step == config.steps):
            save(checkpoints.step_directory(run_dir, step), step)
            checkpoints.prune_step_checkpoints(run_dir, config.keep_checkpoints)
            saved_step = step
        eta.add(time.perf_counter() - t0)
        row.update(total_steps=config.steps, seconds=seconds_before + time.perf_counter() - started,
                   eta_seconds=eta.remaining(config.steps - step))
        if master:
            log.write(row)
            if on_metrics is not None:
                on_metrics(row)
        if stopped:
            break

    if master and step > saved_step:  # stopped between checkpoints: keep where it got to
        save(checkpoints.step_directory(run_dir, step), step)
        checkpoints.prune_step_checkpoints(run_dir, config.keep_checkpoints)
    if log is not None:
        log.close()
    windows = steps_done * config.batch_size * world_size
    return {"step": step, "total_steps": config.steps, "stopped": stopped, "run_dir": str(run_dir),
            "checkpoint": str(checkpoints.latest_checkpoint(run_dir)) if master else "",
            "best_valid_loss": best_valid, "last": last,
            "windows_per_second": windows / step_seconds if step_seconds else 0.0,
            "seconds": seconds_before + time.perf_counter() - started}


# ----------------------------------------------------------------------------- the child process

class EventControl(Control):
    """Stop and pause through multiprocessing Events set by the runner; an orphaned child stops too."""

    def __init__(self, stop, pause) -> None:
        self.stop, self.pause = stop, pause
        self.parent = os.getppid()

    def stop_requested(self) -> bool:
        return self.stop.is_set() or os.getppid() != self.parent

    def paused(self) -> bool:
        return self.pause.is_set()


def train_in_child(config: TrainConfig, pieces: Pieces | None, queue, stop, pause, nice: int, threads: int) -> None:
    """The training process's entry point: lower priority, few threads, metrics over the queue.
    Messages are ("metrics", row), then ("finished", summary) or ("failed", reason)."""
    try:
        os.nice(nice)
    except (AttributeError, OSError):  # Windows has no nice; a priority is a wish, not a need
        pass
    try:  # Linux: run only on time no other process wants, so the sound and the window never wait
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    torch.set_num_threads(threads)
    control = EventControl(stop, pause)
    try:
        result = train(config, pieces, lambda row: queue.put(("metrics", row)), control)
    except BaseException as e:  # the runner shows the reason; a traceback goes to the terminal
        if control.stop_requested():  # stopped while the dataset was loading: nothing trained, nothing wrong
            queue.put(("finished", {"step": 0, "total_steps": config.steps, "stopped": True, "run_dir": config.out,
                                    "checkpoint": ""}))
            return
        import traceback

        traceback.print_exc(file=sys.stderr)
        queue.put(("failed", one_line(e)))
    else:
        queue.put(("finished", result))


# ----------------------------------------------------------------------------- the terminal

class TerminalControl(Control):
    """Ctrl+C asks the loop to stop after its step and save a checkpoint; a second one interrupts."""

    def __init__(self) -> None:
        import signal

        self.stop = False
        self.previous = signal.signal(signal.SIGINT, self._interrupt)

    def _interrupt(self, signum, frame) -> None:
        import signal

        self.stop = True
        signal.signal(signal.SIGINT, self.previous)

    def stop_requested(self) -> bool:
        return self.stop


class TerminalProgress:
    """A one-line progress bar with the loss and the time left on a terminal, and a line per
    evaluation (the only lines when the output is not a terminal)."""

    def __init__(self, stream=None, width: int = 24) -> None:
        self.stream, self.width = stream or sys.stderr, width
        self.live = self.stream.isatty()
        self.last_draw = 0.0

    def __call__(self, row: dict) -> None:
        step, total = row["step"], row["total_steps"]
        done = int(self.width * step / total)
        valid = f" valid {row['valid/loss']:.4f}" if "valid/loss" in row else ""
        text = (f"step {step}/{total} [{'#' * done}{'.' * (self.width - done)}] loss {row['train/loss']:.4f}{valid}"
                f" lr {row['lr']:.2e} ETA {format_seconds(row['eta_seconds'])}")
        if "valid/loss" in row or step == total:
            self.stream.write(("\r" if self.live else "") + text + "\n")
        elif self.live and time.monotonic() - self.last_draw > 0.1:
            self.stream.write("\r" + text)
            self.last_draw = time.monotonic()
        self.stream.flush()


def train_headless(config: TrainConfig, threads: int | None = None) -> dict:
    """`desktop-app train`: the same loop with a progress bar, stopping cleanly on Ctrl+C."""
    if threads:
        torch.set_num_threads(threads)
    master = int(os.environ.get("RANK", "0")) == 0
    return train(config, on_metrics=TerminalProgress() if master else None, control=TerminalControl())
