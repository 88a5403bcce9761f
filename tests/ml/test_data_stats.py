"""Dataset statistics for the dataset view: counts, histograms and summaries worked out by hand,
outliers with their reasons and the choice to exclude them, and the split of every piece."""

from __future__ import annotations

import json

import numpy as np

from desktop_app.ml.data import Dataset, OutlierRules, Piece, dataset_stats
from desktop_app.ml.data.stats import notes_per_bar, polyphony


def make_piece(name, rows, downbeats, key="C", bpm=120.0, meter=((0, 4, 4),)) -> Piece:
    notes = np.array(rows, dtype=np.int32).reshape(-1, 5)
    return Piece(id=f"id-{name}", name=name, source=f"/x/{name}.mid", notes=notes,
                 downbeats=np.array(downbeats, dtype=np.int32), key=key, tempo_bpm=bpm, time_signatures=meter)


# Two voices: a chord of 60+64 for a bar, then 67 alone for a bar.
DUET = make_piece("duet", [(0, 64, 0, 16, 90), (1, 60, 0, 16, 90), (0, 67, 16, 32, 90)], [0, 16, 32])
# One voice, three quarter notes in 3/4 at 60 BPM, in A minor.
WALTZ = make_piece("waltz", [(0, 69, 0, 4, 90), (0, 71, 4, 8, 90), (0, 72, 8, 12, 90)], [0, 12],
                   key="Am", bpm=60.0, meter=((0, 3, 4),))


def test_counts_histograms_and_summaries_match_the_notes():
    stats = dataset_stats(Dataset.build("hand", "/x", [DUET, WALTZ], []))
    assert (stats["pieces"], stats["notes"], stats["bars"]) == (2, 6, 3)
    assert abs(stats["hours"] - (4.0 + 3.0) / 3600) < 1e-4  # 8 beats at 120 BPM + 3 beats at 60 BPM
    h = stats["histograms"]
    assert {p: c for p, c in zip(h["pitch"]["bins"], h["pitch"]["counts"]) if c} == {60: 1, 64: 1, 67: 1, 69: 1, 71: 1, 72: 1}
    assert h["pitch_class"]["counts"][0] == 2 and h["pitch_class"]["counts"][9] == 1
    assert dict(zip(h["duration_steps"]["bins"], h["duration_steps"]["counts"]))[16] == 3
    assert dict(zip(h["duration_steps"]["bins"], h["duration_steps"]["counts"]))[4] == 3
    assert dict(zip(h["notes_per_bar"]["bins"], h["notes_per_bar"]["counts"])) == {0: 0, 1: 1, 2: 1, 3: 1}
    assert dict(zip(h["polyphony"]["bins"], h["polyphony"]["counts"])) == {1: 16 + 12, 2: 16}
    assert dict(zip(h["key"]["bins"], h["key"]["counts"])) == {"C": 1, "Am": 1}
    assert sum(h["tempo_bpm"]["counts"]) == 2
    s = stats["summary"]
    assert s["pitch"]["mean"] == round(np.mean([64, 60, 67, 69, 71, 72]), 4)
    assert s["pitch"]["std"] == round(float(np.std([64, 60, 67, 69, 71, 72])), 4)
    assert (s["pitch"]["q1"], s["pitch"]["q3"]) == (64.75, 70.5) and s["pitch"]["iqr"] == 70.5 - 64.75
    assert s["tempo_bpm"]["mean"] == 90.0
    json.dumps(stats)  # plain values only


def test_polyphony_and_notes_per_bar_per_piece():
    assert polyphony(DUET).tolist() == [2] * 16 + [1] * 16
    assert notes_per_bar(DUET).tolist() == [2, 1]
    pickup = make_piece("pickup", [(0, 60, 0, 4, 90), (0, 62, 4, 8, 90), (0, 64, 8, 24, 90)], [4, 20, 36])
    assert notes_per_bar(pickup).tolist() == [1, 2, 0]  # the pickup, the first bar, the bar the last note reaches


def test_every_piece_is_listed_with_its_split_and_the_splits_list_the_ids():
    pieces = [make_piece(f"p{i}", [(0, 60 + i % 20, 0, 4, 90)], [0, 16]) for i in range(40)]
    stats = dataset_stats(Dataset.build("many", "/x", pieces, []))
    by_split = {name: set(s["ids"]) for name, s in stats["splits"].items()}
    assert set.union(*by_split.values()) == {p.id for p in pieces}
    assert sum(len(v) for v in by_split.values()) == 40
    assert all(row["id"] in by_split[row["split"]] for row in stats["per_piece"])


def test_outliers_are_flagged_with_reasons_and_excluded_only_by_choice():
    normal = [make_piece(f"n{i}", [(0, 60 + i, 4 * j, 4 * j + 4, 90) for j in range(8)], [0, 16, 32]) for i in range(10)]
    empty = make_piece("empty", [], [0, 16])
    wide = make_piece("wide", [(0, 30, 0, 4, 90), (0, 100, 4, 8, 90)], [0, 16])
    low = make_piece("low", [(0, 12, 0, 4, 90)], [0, 16])
    long = make_piece("long", [(0, 60, 16 * j, 16 * j + 4, 90) for j in range(100)], list(range(0, 1617, 16)))
    free = make_piece("free", [(0, 60, 0, 4, 90)], [0, 16], meter=())
    odd = make_piece("odd", [(0, 60, 0, 4, 90)], [0, 16], meter=((0, 7, 32),))
    failures = [("/x/broken.mid", "not a MIDI file")]
    dataset = Dataset.build("mixed", "/x", normal + [empty, wide, low, long, free, odd], failures)
    kinds = {o.name: o.kinds for o in dataset.outliers}
    assert kinds == {"empty": ("empty",), "wide": ("range",), "low": ("range",), "long": ("length",),
                     "free": ("meter",), "odd": ("meter",)}
    reasons = {o.name: o.reasons[0] for o in dataset.outliers}
    assert "no meter" in reasons["free"] and "7/32" in reasons["odd"] and "12-12" in reasons["low"]
    assert "100 bars" in reasons["long"] and "70 semitones" in reasons["wide"]
    assert {o.name for o in dataset.excluded} == {"empty", "free", "odd"}  # the default: what no model can use
    assert {p.name for p in dataset.pieces} == {p.name for p in normal} | {"wide", "low", "long"}
    strict = dataset.excluding(("empty", "meter", "range", "length"))
    assert {p.name for p in strict.pieces} == {p.name for p in normal}
    assert len(dataset.excluding(()).pieces) == 16
    picked = dataset.with_excluded({"wide", "empty"})
    assert {o.name for o in picked.excluded} == {"wide", "empty"}
    assert {p.name for p in picked.pieces} == {p.name for p in normal} | {"low", "long", "free", "odd"}
    stats = dataset_stats(dataset)
    assert {o["name"]: o["excluded"] for o in stats["outliers"]}["/x/broken.mid"] is True
    assert {o["name"] for o in stats["outliers"] if "unreadable" in o["kinds"]} == {"/x/broken.mid"}
    assert stats["unreadable"] == 1 and stats["excluded"] == 3 and stats["pieces"] == 13
    rows = {row["name"]: row for row in stats["per_piece"]}
    assert rows["free"]["excluded"] and rows["free"]["outlier"] == [reasons["free"]]
    assert not rows["wide"]["excluded"] and rows["wide"]["outlier"] and rows["n0"]["outlier"] == []


def test_allowed_meters_are_a_rule_the_caller_sets():
    waltz_only = OutlierRules(meters=frozenset({(3, 4)}))
    dataset = Dataset.build("m", "/x", [DUET, WALTZ], [], rules=waltz_only)
    assert [(o.name, o.kinds) for o in dataset.outliers] == [("duet", ("meter",))]
    assert [p.name for p in dataset.pieces] == ["waltz"]


def test_empty_dataset_gives_zero_counts():
    stats = dataset_stats(Dataset.build("none", "/x", [], []))
    assert (stats["pieces"], stats["notes"], stats["bars"], stats["hours"]) == (0, 0, 0, 0)
    assert stats["summary"]["pitch"] == {"count": 0}
