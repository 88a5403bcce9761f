"""`desktop-app dataset add/list/remove/stats` and `desktop-app bench dataset`."""

from __future__ import annotations

import json
import random

import pytest

from desktop_app.cli import main
from desktop_app.ml.data import list_datasets, load_dataset
from desktop_app.ml.data.user_datasets import registry_path
from desktop_app.music.midi_io import write_midi
from desktop_app.music.note import Note
from desktop_app.music.song import Song
from desktop_app.music.track import Track


@pytest.fixture(autouse=True)
def _private_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOP_APP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DESKTOP_APP_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def folder(tmp_path):
    songs = tmp_path / "My Songs"
    songs.mkdir()
    for i in range(3):
        rng = random.Random(i)
        notes = tuple(Note(rng.randint(55, 79), 240 * j, 240) for j in range(16))
        write_midi(Song(tracks=(Track(name="lead", notes=notes),)), songs / f"{i}.mid")
    (songs / "junk.mid").write_bytes(b"junk")
    return songs


def test_add_list_and_remove_a_folder(folder, capsys):
    assert main(["dataset", "add", str(folder), "--name", "mine"]) == 0
    assert "mine" in capsys.readouterr().out
    assert json.loads(registry_path().read_text())["datasets"] == {"mine": str(folder.resolve())}
    assert main(["dataset", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["chorales", "folk", "mine"] and rows == list_datasets()
    assert load_dataset("mine").name == "mine" and len(load_dataset("mine").pieces) == 3
    assert main(["dataset", "list"]) == 0
    assert "mine" in capsys.readouterr().out
    assert main(["dataset", "remove", "mine"]) == 0
    assert [r["name"] for r in list_datasets()] == ["chorales", "folk"]


def test_add_defaults_to_the_folder_name_and_refuses_bad_input(folder, tmp_path, capsys):
    assert main(["dataset", "add", str(folder)]) == 0
    assert [r["name"] for r in list_datasets()][-1] == "My Songs"
    assert main(["dataset", "add", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["dataset", "add", str(folder), "--name", "chorales"]) == 2
    assert "built-in" in capsys.readouterr().err
    assert main(["dataset", "remove", "nothing"]) == 2


def test_stats_of_a_folder_as_json_and_text(folder, capsys):
    assert main(["dataset", "stats", str(folder), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["pieces"], stats["notes"], stats["unreadable"]) == (3, 48, 1)
    assert sorted(i for s in stats["splits"].values() for i in s["ids"]) == sorted(r["id"] for r in stats["per_piece"])
    assert main(["dataset", "stats", str(folder)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("My Songs: 3 pieces") and "splits: train" in text and "junk.mid" in text


def test_stats_errors_name_the_input(tmp_path, folder, capsys):
    assert main(["dataset", "stats", str(tmp_path / "nowhere")]) == 2
    assert "no such folder or dataset" in capsys.readouterr().err
    assert main(["dataset", "stats", str(folder), "--exclude", "empty,bogus"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_bench_dataset_prints_cold_warm_and_symusic_rates(capsys):
    assert main(["bench", "dataset", "--files", "40"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "dataset" and result["files"] == 40
    assert result["pieces"] == 40 and result["unreadable"] == 0
    assert result["notes_read"] == result["notes_written"] == result["symusic_read"]["notes"]
    for key in ("build_cold", "build_warm"):
        assert result[key]["files_per_s"] > 0
    assert result["symusic_read"]["files_per_s"] > 0
