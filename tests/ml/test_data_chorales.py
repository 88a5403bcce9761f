"""The chorale dataset on a handful of corpus files (the whole corpus takes minutes): sung parts
only, duplicates found by their notes, near duplicates kept in one split, non-chorales listed,
and `desktop-app dataset stats chorales --json` reporting pieces, notes and the three splits."""

from __future__ import annotations

import json
import shutil

import pytest

from desktop_app.cli import main
from desktop_app.ml.data import load_dataset
from desktop_app.ml.data import sources

FILES = ("bwv190.7.mxl", "bwv190.7-inst.mxl", "bwv197.7-a.mxl", "bwv398.mxl", "bwv158.4.mxl", "bwv279.mxl",
         "bwv846.mxl", "bwv1.6.mxl")


@pytest.fixture(autouse=True, scope="module")
def few_chorales(tmp_path_factory):
    """The chorale dataset limited to FILES, plus bwv1.6 copied under another catalogue number;
    one cache for the module, so the files are parsed once."""
    tmp_path = tmp_path_factory.mktemp("chorales")
    root = sources.corpus_folder()
    copy = tmp_path / "corpus" / "bach" / "bwv9999.mxl"
    copy.parent.mkdir(parents=True)
    shutil.copy(root / "bach" / "bwv1.6.mxl", copy)
    files = [root / "bach" / f for f in FILES]
    real = sources.builtin_files
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DESKTOP_APP_CACHE_DIR", str(tmp_path / "cache"))
        patch.setattr(sources, "builtin_files", lambda name: (root, files + [copy]) if name == "chorales" else real(name))
        yield


def test_chorales_keep_their_four_sung_parts_and_skip_what_is_not_a_chorale():
    dataset = load_dataset("chorales", workers=1)
    assert len(dataset.pieces) == 8
    assert all(p.voice_names == ("Soprano", "Alto", "Tenor", "Bass") for p in dataset.pieces)
    assert all(sorted(set(p.notes[:, 0].tolist())) == [0, 1, 2, 3] for p in dataset.pieces)
    assert [(f.rsplit("/", 1)[-1], "not a four-part chorale" in r) for f, r in dataset.failures] == [("bwv846.mxl", True)]


def test_duplicates_are_found_by_their_notes_and_never_straddle_splits():
    dataset = load_dataset("chorales", workers=1)
    groups = sorted(sorted(p.name.rsplit("/", 1)[-1] for p in g) for g in dataset.duplicates())
    # The same chorale with and without its orchestra, under two numbers, and a copied file.
    assert groups == [["bwv1.6.mxl", "bwv9999.mxl"], ["bwv190.7-inst.mxl", "bwv190.7.mxl"], ["bwv197.7-a.mxl", "bwv398.mxl"]]
    by_name = {p.name.rsplit("/", 1)[-1]: p for p in dataset.pieces}
    # 158.4 and 279 are one chorale with a note changed in an inner voice: other ids, one split.
    assert by_name["bwv158.4.mxl"].id != by_name["bwv279.mxl"].id
    assert by_name["bwv158.4.mxl"].group == by_name["bwv279.mxl"].group
    split_of = {}
    for name in ("train", "valid", "test"):
        for piece in dataset.split(name):
            for key in (piece.id, piece.group):
                assert split_of.setdefault(key, name) == name, f"{piece.name} sits in two splits"
    assert sum(len(dataset.split(n)) for n in ("train", "valid", "test")) == len(dataset.pieces)


def test_dataset_stats_chorales_json(capsys):
    assert main(["dataset", "stats", "chorales", "--json", "--workers", "1"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["name"] == "chorales" and stats["pieces"] == 8 and stats["unreadable"] == 1
    assert stats["notes"] == sum(s["notes"] for s in stats["splits"].values()) > 1000
    assert set(stats["splits"]) == {"train", "valid", "test"}
    ids = [i for s in stats["splits"].values() for i in s["ids"]]
    assert len(ids) == len(set(ids)) == 8 - 3  # three pairs of duplicates share an id
    assert stats["summary"]["polyphony"]["max"] <= 4
    assert ["bwv158.4.mxl", "bwv279.mxl"] in [sorted(n.rsplit("/", 1)[-1] for n in g) for g in stats["kept_together"]]
