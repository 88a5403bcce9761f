"""Building datasets: folders searched recursively, unreadable files listed and skipped, the content
cache, worker processes with progress and cancel, ABC files split into tunes, and piece-wise splits."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest

from desktop_app.ml.data import BuildCancelled, load_dataset, split_of_id
from desktop_app.ml.data import build as build_module
from desktop_app.ml.data import cache as cache_module
from desktop_app.ml.data.build import resolve
from desktop_app.music.errors import MusicFileError
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOP_APP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DESKTOP_APP_CONFIG_DIR", str(tmp_path / "config"))


def write_tune(path: Path, seed: int, n_notes: int = 8) -> None:
    """A one-track MIDI file whose notes depend on `seed`, so every seed is a different piece."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    notes = tuple(Note(rng.randint(48, 84), i * 240, rng.choice((120, 240))) for i in range(n_notes))
    write_midi(Song(tracks=(Track(name="x", notes=notes),)), path)


def test_folder_is_searched_recursively_and_bad_files_are_listed_not_fatal(tmp_path):
    folder = tmp_path / "songs"
    write_tune(folder / "a.mid", 1)
    write_tune(folder / "deep" / "er" / "b.MID", 2)
    (folder / "notes.txt").write_text("not music")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    (folder / "empty.musicxml").write_bytes(b"")
    dataset = load_dataset(str(folder))
    assert sorted(p.name for p in dataset.pieces) == ["a.mid", "deep/er/b.MID"]
    failed = dict(dataset.failures)
    assert set(failed) == {str(folder.resolve() / "broken.mid"), str(folder.resolve() / "empty.musicxml")}
    assert "empty" in failed[str(folder.resolve() / "empty.musicxml")]
    assert all(reason and "\n" not in reason for reason in failed.values())


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MusicFileError, match="no such folder or dataset"):
        load_dataset(str(tmp_path / "nowhere"))


def test_warm_build_reads_the_cache_and_parses_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "songs"
    for i in range(3):
        write_tune(folder / f"{i}.mid", i)
    (folder / "bad.mid").write_bytes(b"garbage that is no MIDI file")
    cold = load_dataset(str(folder))

    def refuse(job):
        raise AssertionError(f"parsed {job[1].path} again")

    monkeypatch.setattr(build_module, "parse_job", refuse)
    warm = load_dataset(str(folder))
    assert [(p.name, p.id, p.notes.tolist()) for p in warm.pieces] == [(p.name, p.id, p.notes.tolist()) for p in cold.pieces]
    assert warm.failures == cold.failures  # the bad file's reason is cached too


def test_cache_is_keyed_by_content_and_parser_version(tmp_path, monkeypatch):
    folder = tmp_path / "songs"
    write_tune(folder / "a.mid", 1)
    write_tune(folder / "b.mid", 2)
    load_dataset(str(folder))
    parsed = []
    real = build_module.parse_job
    monkeypatch.setattr(build_module, "parse_job", lambda job: parsed.append(Path(job[1].path).name) or real(job))
    write_tune(folder / "a.mid", 3)  # same name, new notes
    assert load_dataset(str(folder)).pieces[0].notes[0, 1] == random.Random(3).randint(48, 84)
    assert parsed == ["a.mid"]
    monkeypatch.setattr(cache_module, "PARSER_VERSION", "a newer parser")
    parsed.clear()
    load_dataset(str(folder))
    assert sorted(parsed) == ["a.mid", "b.mid"]


def test_a_damaged_cache_entry_is_parsed_again(tmp_path):
    folder = tmp_path / "songs"
    write_tune(folder / "a.mid", 1)
    first = load_dataset(str(folder)).pieces[0]
    (entry,) = (tmp_path / "cache").rglob("*.piece")
    entry.write_bytes(entry.read_bytes()[:-6])  # cut short, as by a crash
    again = load_dataset(str(folder)).pieces[0]
    assert again.notes.tolist() == first.notes.tolist() and again.id == first.id
    assert entry.stat().st_size > 0 and load_dataset(str(folder)).pieces[0].id == first.id


def test_a_cached_piece_comes_back_field_for_field(tmp_path):
    from dataclasses import fields

    folder = tmp_path / "songs"
    write_tune(folder / "a.mid", 4)
    cold = load_dataset(str(folder)).pieces[0]
    warm = load_dataset(str(folder)).pieces[0]
    for f in fields(cold):
        a, b = getattr(cold, f.name), getattr(warm, f.name)
        assert (a.tolist() == b.tolist()) if hasattr(a, "tolist") else a == b, f.name
    assert warm.notes.dtype == cold.notes.dtype and warm.notes.shape == cold.notes.shape


def test_same_file_twice_is_parsed_once_and_gets_one_id_and_split_but_its_own_name(tmp_path, monkeypatch):
    folder = tmp_path / "songs"
    write_tune(folder / "one.mid", 5)
    write_tune(folder / "copy" / "two.mid", 5)
    parsed = []
    real = build_module.parse_job
    monkeypatch.setattr(build_module, "parse_job", lambda job: parsed.append(job[1].label) or real(job))
    dataset = load_dataset(str(folder))
    assert parsed == ["one.mid"]
    one, two = dataset.pieces  # a folder's own files come before its subfolders'
    assert one.id == two.id and (one.name, two.name) == ("one.mid", "copy/two.mid")
    assert one.source.endswith("one.mid") and two.source.endswith("two.mid")
    assert [[p.name for p in g] for g in dataset.duplicates()] == [["one.mid", "copy/two.mid"]]
    assert dataset.split_of(one.id) == dataset.split_of(two.id)


def test_worker_processes_report_progress_and_build_the_same_pieces(tmp_path):
    folder = tmp_path / "songs"
    for i in range(24):
        write_tune(folder / f"{i:02d}.mid", i)
    (folder / "bad.mid").write_bytes(b"garbage")
    calls = []
    dataset = load_dataset(str(folder), workers=2, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (25, 25) and all(b == 25 for _, b in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert [p.name for p in dataset.pieces] == [f"{i:02d}.mid" for i in range(24)]
    assert len(dataset.failures) == 1
    assert not multiprocessing.active_children()


def build_in_child(folder: str, cache: str, results) -> None:
    """Run in a daemonic child process (module level, so spawn can find it)."""
    dataset = load_dataset(folder, workers=2, cache=cache)
    results.put(len(dataset.pieces))


def test_a_daemonic_process_builds_without_worker_children(tmp_path):
    folder = tmp_path / "songs"
    for i in range(12):
        write_tune(folder / f"{i}.mid", i)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=build_in_child, args=(str(folder), str(tmp_path / "c"), results), daemon=True)
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0 and results.get(timeout=5) == 12


def test_cancel_stops_the_workers_and_what_was_parsed_stays_cached(tmp_path):
    folder = tmp_path / "songs"
    for i in range(200):
        write_tune(folder / f"{i:03d}.mid", i, n_notes=50)
    seen = []
    with pytest.raises(BuildCancelled):
        load_dataset(str(folder), workers=2, progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) >= 1)
    assert not multiprocessing.active_children()
    assert 0 < seen[-1] < 200
    cached = sum(1 for _ in (tmp_path / "cache").rglob("*.piece"))
    assert cached >= seen[-1] - 1  # resumes from there


def test_cancel_before_any_work_raises_at_once(tmp_path):
    folder = tmp_path / "songs"
    write_tune(folder / "a.mid", 1)
    with pytest.raises(BuildCancelled):
        load_dataset(str(folder), cancel=lambda: True)


ABC = b"""%% a collection
X:1
T:Walking
M:4/4
L:1/8
K:G
GABc d2B2|c2A2 G4|]

X:2
T:Free
M:none
L:1/8
K:D
DEF GAB|

X:3
T:Bad accidentals and all
M:3/4
L:1/4
K:C
C D E|F G A|
"""


def test_an_abc_file_gives_one_piece_per_tune_and_a_meterless_tune_is_set_aside(tmp_path):
    folder = tmp_path / "abc"
    folder.mkdir()
    (folder / "tunes.abc").write_bytes(ABC)
    dataset = load_dataset(str(folder))
    names = [p.name for p in dataset.all_pieces]
    assert names == ["tunes.abc#1", "tunes.abc#2", "tunes.abc#3"]
    walking = dataset.all_pieces[0]
    assert walking.title == "Walking" and walking.key == "G" and walking.notes[:4, 1].tolist() == [67, 69, 71, 72]
    assert (walking.numerator, walking.denominator) == (4, 4)
    assert walking.source.endswith("tunes.abc#1")
    assert [o.name for o in dataset.excluded] == ["tunes.abc#2"]
    assert "no meter" in dataset.excluded[0].reasons[0]
    assert [p.name for p in dataset.pieces] == ["tunes.abc#1", "tunes.abc#3"]


def test_splits_partition_the_pieces_by_id_and_adding_files_moves_none(tmp_path):
    folder = tmp_path / "songs"
    for i in range(60):
        write_tune(folder / f"{i:02d}.mid", i)
    write_tune(folder / "dup.mid", 7)
    before = load_dataset(str(folder))
    ids = {name: {p.id for p in before.split(name)} for name in ("train", "valid", "test")}
    assert not (ids["train"] & ids["valid"] or ids["train"] & ids["test"] or ids["valid"] & ids["test"])
    assert sum(len(before.split(n)) for n in ("train", "valid", "test")) == len(before.pieces) == 61
    assert all(len(before.split(n)) > 0 for n in ("train", "valid", "test"))
    dup = [p for p in before.pieces if p.name in ("07.mid", "dup.mid")]
    assert dup[0].id == dup[1].id and before.split_of(dup[0].id) == before.split_of(dup[1].id)
    split_before = {p.name: before.split_of(p.id) for p in before.pieces}
    for i in range(60, 90):
        write_tune(folder / "new" / f"{i}.mid", i)
    after = load_dataset(str(folder))
    assert len(after.pieces) == 91
    assert {p.name: after.split_of(p.id) for p in after.pieces if p.name in split_before} == split_before


def test_split_is_a_stable_function_of_the_id():
    assert [split_of_id(f"{i:016x}") for i in range(6)] == [split_of_id(f"{i:016x}") for i in range(6)]
    counts = {"train": 0, "valid": 0, "test": 0}
    for i in range(5000):
        counts[split_of_id(f"piece-{i}")] += 1
    assert 0.77 < counts["train"] / 5000 < 0.83 and 0.08 < counts["valid"] / 5000 < 0.12


def test_builtin_collections_are_listed_from_the_installed_corpus_without_network():
    name, root, units, failures = resolve("chorales")
    assert name == "chorales" and not failures
    assert 400 <= len(units) <= 420 and all(u.kind == "chorale" for u in units)
    assert all(Path(u.path).is_file() and u.label.startswith("bach/") for u in units)
    name, root, units, failures = resolve("folk")
    kinds = {u.label.split("/")[0] for u in units}
    assert kinds == {"essenFolksong", "oneills1850"} and len(units) > 10_000
    assert all(u.kind == "abc" and u.data.lstrip().startswith(b"X:") or b"\nX:" in u.data for u in units[:50])
