"""Building a dataset: find its units, take what the cache holds, parse the rest in worker processes
(spawned, so it is safe beside Qt) with progress and a prompt cancel, and never stop for a bad file."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Callable

from desktop_app.ml.data.cache import cache_dir, content_key, lookup, store_failure, store_piece
from desktop_app.ml.data.dataset import DEFAULT_EXCLUDE, Dataset, OutlierRules
from desktop_app.ml.data.parse import parse_unit
from desktop_app.ml.data.piece import Piece
from desktop_app.ml.data.sources import BUILTIN, Unit, builtin_units, folder_files, units_of_files
from desktop_app.ml.data.user_datasets import user_dataset_folder
from desktop_app.music.errors import MusicFileError

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
IN_PROCESS_BELOW = 8  # fewer units than this to parse are not worth starting worker processes
_PROGRESS_EVERY_S = 0.05


class BuildCancelled(Exception):
    """The build was cancelled; every piece parsed so far is cached, so the next build resumes."""


def resolve(name_or_folder: str) -> tuple[str, Path, list[Unit], list[tuple[str, str]]]:
    """The dataset's name, root folder, units and the files that could not even be listed."""
    if name_or_folder in BUILTIN:
        root, units, failures = builtin_units(name_or_folder)
        return name_or_folder, root, units, failures
    folder = user_dataset_folder(name_or_folder)
    name = name_or_folder if folder is not None else Path(name_or_folder).name
    root = Path(folder if folder is not None else name_or_folder).expanduser()
    if not root.is_dir():
        known = ", ".join(BUILTIN)
        raise MusicFileError(name_or_folder, f"no such folder or dataset (built in: {known}; or add a folder)")
    root = root.resolve()
    units, failures = units_of_files(folder_files(root), root)
    return name, root, units, failures


def load_dataset(
    name_or_folder: str,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    workers: int | None = None,
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
    rules: OutlierRules | None = None,
    cache: str | os.PathLike[str] | None = None,
    choices: bool = True,
) -> Dataset:
    """Build (or load from the cache) dataset "chorales", "folk", a registered name or a folder.
    `progress(done, total)` is called from this thread; `cancel()` True raises BuildCancelled soon
    after; `workers` None uses every core. Pieces with an outlier reason in `exclude` are set aside.
    `cache` overrides the cache folder (default: cache_dir()). With `choices`, the pieces the
    composer left out or kept in the dataset view are so (ml.data.choices). Raises MusicFileError when there is
    no such dataset or folder, BuildCancelled when cancelled; files that cannot be read are listed
    in the result's `failures`, never raised."""
    name, root, units, failures = resolve(name_or_folder)
    cache = Path(cache) if cache is not None else cache_dir()
    results: list[Piece | str | None] = [None] * len(units)
    jobs = []
    same: dict[str, list[int]] = {}  # units with the same bytes are parsed once
    reporter = _Reporter(len(units), progress)
    for index, unit in enumerate(units):
        if index % 64 == 0:
            _check(cancel)
        try:
            data = unit.data if unit.data is not None else Path(unit.path).read_bytes()
        except OSError as e:
            results[index] = f"cannot read the file ({e.strerror or e})"
            reporter.advance()
            continue
        key = content_key(unit.kind, data)
        if key in same:
            same[key].append(index)
            continue
        cached = lookup(cache, key)
        if cached is None:
            same[key] = [index]
            jobs.append((index, unit, key, str(cache)))
        else:
            results[index] = cached
            reporter.advance()

    def take(result: tuple[int, Piece | str]) -> None:
        index, outcome = result
        for copy in same.get(jobs_key[index], (index,)):
            results[copy] = outcome
            reporter.advance()

    jobs_key = {job[0]: job[2] for job in jobs}

    _run(jobs, workers, take, cancel)
    reporter.finish()
    pieces = []
    for unit, result in zip(units, results):
        if isinstance(result, Piece):
            pieces.append(replace(result, name=unit.label, source=_source(unit)))
        else:
            failures.append((_source(unit), str(result)))
    dataset = Dataset.build(name, str(root), pieces, failures, exclude=exclude, rules=rules)
    if choices:
        from desktop_app.ml.data.choices import apply_choices

        dataset = apply_choices(dataset)
    return dataset


def _source(unit: Unit) -> str:
    """The file, with "#N" for the N-th tune of an ABC file."""
    return f"{unit.path}#{unit.label.rsplit('#', 1)[1]}" if unit.kind == "abc" and "#" in unit.label else unit.path


def _check(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise BuildCancelled("dataset build cancelled")


class _Reporter:
    """Calls progress at most every 50 ms, and always at the end."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress, self.last = total, 0, progress, 0.0

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.progress is not None and now - self.last >= _PROGRESS_EVERY_S:
            self.last = now
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)


def _run(jobs: list, workers: int | None, take: Callable, cancel: Cancel | None) -> None:
    """Parse `jobs`, in this process when there are few, else in spawned worker processes that a
    cancel terminates at once. A worker that dies takes only its own batch with it: those units are
    listed as failures. If no worker can start at all (a script without a main guard), parse here."""
    workers = min(workers or available_cores(), len(jobs))
    if workers <= 1 or len(jobs) < IN_PROCESS_BELOW or multiprocessing.current_process().daemon:
        _run_here(jobs, take, cancel)  # a daemonic process may not start children
        return
    slow = any(job[1].kind != "midi" for job in jobs)  # music21 takes ~0.1 s a piece, mido ~1 ms
    size = max(1, min(2 if slow else 16, len(jobs) // (workers * 16)))
    batches = {n: jobs[i : i + size] for n, i in enumerate(range(0, len(jobs), size))}
    context = multiprocessing.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    for item in batches.items():
        tasks.put(item)
    for _ in range(workers):
        tasks.put(None)
    processes = [context.Process(target=_worker, args=(tasks, results), daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    received = 0
    try:
        while batches:
            _check(cancel)
            try:
                number, batch = results.get(timeout=0.05)
            except queue.Empty:
                if any(p.is_alive() for p in processes) or not results.empty():
                    continue
                if received == 0:  # the workers could not even start: do the work here
                    _run_here([job for batch in batches.values() for job in batch], take, cancel)
                else:
                    for job in (job for batch in batches.values() for job in batch):
                        take((job[0], "the parser's worker process stopped while reading it"))
                return
            received += 1
            batches.pop(number, None)
            for result in batch:
                take(result)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        for q in (tasks, results):
            q.cancel_join_thread()
            q.close()


def available_cores() -> int:
    """The cores this process may run on (a container or `taskset` can allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows
        return os.cpu_count() or 1


def _run_here(jobs: list, take: Callable, cancel: Cancel | None) -> None:
    for job in jobs:
        _check(cancel)
        take(parse_job(job))


def _worker(tasks, results) -> None:
    """A worker process: parse batches until told to stop. It runs below the app's priority, so the
    GUI and the audio callback keep their share, and leaves Ctrl+C to the parent, which ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(5)
    except OSError:
        pass
    warnings.filterwarnings("ignore")
    while (item := tasks.get()) is not None:
        number, batch = item
        results.put((number, parse_batch(batch)))


def parse_batch(jobs: list[tuple[int, Unit, str, str]]) -> list[tuple[int, Piece | str]]:
    """Several jobs per trip to a worker, so that small MIDI files are not dominated by the messaging."""
    return [parse_job(job) for job in jobs]


def parse_job(job: tuple[int, Unit, str, str]) -> tuple[int, Piece | str]:
    """Parse one unit into a Piece (or the reason it cannot be read) and cache the outcome."""
    index, unit, key, cache = job
    try:
        piece = parse_unit(unit)
    except MusicFileError as e:
        store_failure(Path(cache), key, e.reason)
        return index, e.reason
    except Exception as e:  # a parser bug in one file must not stop the build
        reason = f"cannot be read ({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''})"
        store_failure(Path(cache), key, reason)
        return index, reason
    store_piece(Path(cache), key, piece)
    return index, piece
