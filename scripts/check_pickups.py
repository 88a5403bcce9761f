"""Check the bars of imported Bach chorales against the scores' own measures, and report as JSON.
Usage: .venv/bin/python scripts/check_pickups.py [FILE.mxl ...]  (default: every chorale file of
music21's corpus, bach/*.mxl and bach/*.xml; about two minutes on one core).

For each score, from music21's measures of its first part (offset, length, paddingLeft, number):
- pickup: the first measure is shorter than its time signature's bar;
- downbeats: every measure that begins its bar (paddingLeft 0) starts on one of the app's
  barlines (`Meter.barlines`), and a pickup's bar begins paddingLeft before tick 0;
- positions: every measure, a split one's second part included, starts paddingLeft into its
  app bar (the strict form: each note's beat in its bar is the score's);
- numbers: the app's bar number of every such measure is the score's measure number (measures
  numbered with a suffix, like 4a, are left out).
The summary counts the files that pass each check, lists those that do not, and lists the time
signatures of the files that hold more than a pickup's and one metre (changes of metre, odd bars)."""

from __future__ import annotations

import bisect
import json
import sys
from pathlib import Path

from music21 import converter, corpus, stream

from desktop_app.music.musicxml_io import score_to_song


def chorale_files() -> list[Path]:
    folder = Path(corpus.getComposer("bach")[0]).parent
    return sorted([*folder.glob("*.mxl"), *folder.glob("*.xml")])


def check(path: Path) -> dict:
    score = converter.parse(path)
    song = score_to_song(score)
    meter, ppq = song.meter, song.ppq
    measures = list(score.parts[0].getElementsByClass(stream.Measure))
    first = measures[0]
    pickup = float(first.duration.quarterLength) < float(first.barDuration.quarterLength)
    end = round(float(measures[-1].offset + measures[-1].duration.quarterLength) * ppq)
    barlines = meter.barlines(end)
    problems = {"downbeats": [], "positions": [], "numbers": []}
    for m in measures:
        tick, pad = round(float(m.offset) * ppq), round(float(m.paddingLeft) * ppq)
        label = f"{m.number}{m.numberSuffix or ''}@{float(m.offset):g}"
        bar_start = barlines[bisect.bisect_right(barlines, tick) - 1]
        if tick - bar_start != pad:
            problems["positions"].append(label)
        if pad == 0 and tick not in barlines or m is first and pickup and barlines[0] != tick - pad:
            problems["downbeats"].append(label)
        numbered = m is first or pad == 0 and not m.numberSuffix
        if numbered and meter.bar_beat(tick).bar != m.number:
            problems["numbers"].append(label)
    signatures = [f"{t.numerator}/{t.denominator}@{t.tick / ppq:g}" for t in song.time_signatures]
    return {"file": path.name, "pickup": pickup, **{k: not v for k, v in problems.items()},
            "problems": {k: v for k, v in problems.items() if v}, "signatures": signatures}


def main(argv: list[str]) -> None:
    files = [Path(a) for a in argv] or chorale_files()
    results = [check(f) for f in files]
    summary = {"files": len(results), "with_pickup": sum(r["pickup"] for r in results)}
    for key in ("downbeats", "positions", "numbers"):
        summary[f"{key}_ok"] = sum(r[key] for r in results)
        summary[f"{key}_ok_with_pickup"] = sum(r[key] and r["pickup"] for r in results)
    changing = {r["file"]: r["signatures"] for r in results if len(r["signatures"]) > 1 + r["pickup"]}
    summary["more_signatures_than_pickup_and_metre"] = len(changing)
    summary["failures"] = {r["file"]: r["problems"] for r in results if r["problems"]}
    summary["signatures_of_those"] = changing
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
