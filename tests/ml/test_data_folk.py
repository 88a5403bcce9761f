"""The folk dataset on two small ABC files of the corpus (the whole collection takes many minutes):
one piece per tune, one voice, titles and keys from the tune headers, and piece-wise splits."""

from __future__ import annotations

import pytest

from desktop_app.ml.data import dataset_stats, load_dataset
from desktop_app.ml.data import sources

FILES = ("oneills1850/0487-0500.abc", "essenFolksong/testd.abc")


@pytest.fixture(autouse=True)
def few_tunes(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKTOP_APP_CACHE_DIR", str(tmp_path / "cache"))
    root = sources.corpus_folder()
    real = sources.builtin_files
    monkeypatch.setattr(sources, "builtin_files",
                        lambda name: (root, [root / f for f in FILES]) if name == "folk" else real(name))


def test_folk_tunes_are_one_voice_pieces_with_their_headers():
    dataset = load_dataset("folk", workers=1)
    tunes = {f: (root / f).read_bytes().count(b"\nX:") + (root / f).read_bytes().startswith(b"X:")
             for root in [sources.corpus_folder()] for f in FILES}
    assert len(dataset.all_pieces) + len(dataset.failures) == sum(tunes.values())
    assert not dataset.failures
    assert all(p.n_voices == 1 and set(p.notes[:, 0].tolist()) == {0} for p in dataset.all_pieces)
    assert all(p.title and p.key and len(p.notes) > 8 for p in dataset.all_pieces)
    assert all("#" in p.name and "#" in p.source for p in dataset.all_pieces)
    oneill = [p for p in dataset.all_pieces if p.name.startswith("oneills1850/")]
    assert len(oneill) == tunes[FILES[0]] and oneill[0].name == "oneills1850/0487-0500.abc#487"
    stats = dataset_stats(dataset)
    assert stats["summary"]["polyphony"]["max"] == 1
    assert sum(s["pieces"] for s in stats["splits"].values()) == stats["pieces"]
