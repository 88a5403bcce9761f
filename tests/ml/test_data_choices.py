"""The composer's choices of which flagged pieces to leave out are kept per dataset and applied
wherever the dataset is loaded: a later load (another session, training, `dataset stats`) sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.ml.data import Dataset, load_dataset
from desktop_app.ml.data.choices import apply_choices, choices_path, choose
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track

from test_data_stats import make_piece


@pytest.fixture(autouse=True)
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOP_APP_CONFIG_DIR", str(tmp_path / "config"))


def _mixed() -> Dataset:
    normal = [make_piece(f"n{i}", [(0, 60 + i, 4 * j, 4 * j + 4, 90) for j in range(8)], [0, 16, 32]) for i in range(10)]
    wide = make_piece("wide", [(0, 30, 0, 4, 90), (0, 100, 4, 8, 90)], [0, 16])  # a range: kept by default
    empty = make_piece("empty", [], [0, 16])  # empty: left out by default
    return Dataset.build("mixed", "/x", normal + [wide, empty], [])


def test_a_choice_against_the_default_is_kept_and_applied_to_a_fresh_build():
    dataset = _mixed()
    assert {o.name for o in dataset.excluded} == {"empty"}
    chosen = choose(dataset, "wide", True)
    chosen = choose(chosen, "empty", False)
    assert {o.name for o in chosen.excluded} == {"wide"} and "empty" in {p.name for p in chosen.pieces}
    saved = json.loads(choices_path().read_text())["datasets"]["mixed"]
    assert saved == {"excluded": ["wide"], "kept": ["empty"]}
    again = apply_choices(_mixed())  # what the next load does
    assert {o.name for o in again.excluded} == {"wide"}
    assert apply_choices(Dataset.build("other", "/x", _mixed().all_pieces, [])).excluded[0].name == "empty"


def test_taking_a_choice_back_to_the_default_forgets_it():
    dataset = choose(_mixed(), "wide", True)
    dataset = choose(dataset, "wide", False)
    assert {o.name for o in dataset.excluded} == {"empty"}
    assert "mixed" not in json.loads(choices_path().read_text())["datasets"]
    with pytest.raises(ValueError, match="not a flagged piece"):
        choose(dataset, "n0", True)


def test_a_damaged_choices_file_means_no_choices():
    choices_path().parent.mkdir(parents=True, exist_ok=True)
    choices_path().write_text("{ not json")
    assert {o.name for o in apply_choices(_mixed()).excluded} == {"empty"}


def test_load_dataset_applies_the_choices_made_for_a_folder(tmp_path: Path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for name, pitches in {"a": [60, 62, 64, 65] * 2, "b": [67, 65, 64, 62] * 2, "rumble": [12, 14, 16, 17] * 2}.items():
        notes = tuple(Note(p, i * 480, 480, 90) for i, p in enumerate(pitches))
        write_midi(Song(tracks=(Track(name="Melody", notes=notes),)), folder / f"{name}.mid")
    first = load_dataset(str(folder), workers=1, cache=tmp_path / "cache")
    assert [o.name for o in first.outliers] == ["rumble.mid"] and not first.excluded
    choose(first, "rumble.mid", True)
    later = load_dataset(str(folder), workers=1, cache=tmp_path / "cache")
    assert [o.name for o in later.excluded] == ["rumble.mid"] and len(later.pieces) == 2
    assert not load_dataset(str(folder), workers=1, cache=tmp_path / "cache", choices=False).excluded
