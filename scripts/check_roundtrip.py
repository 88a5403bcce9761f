"""Check that a MIDI file made elsewhere sounds the same after a round trip through the app:
IN.mid -> project (.dap) -> OUT.mid, read and written by the same functions as `desktop-app convert`.
Both files go through a reference player (desktop_app/music/midi_player.py: tracks merged, a note-off
releases every sounding voice of its key and channel), and what it sounds is compared:

- every voice: start and end tick, channel, key, velocity, and the program its channel had;
- the tempo map, and each channel's sustain pedal (CC64) changes.

A zero-length note written off-then-on (music21's grace notes) is a voice that sounds nothing in the
player model, and the app keeps it as a zero-length note, written on-then-off: both sound nothing.
A voice nothing releases ends where the file ends, as a player stops it there; on the drum channel
its end is not compared (a drum sound plays out whatever its note-off; the app gives it a short one).

Usage:
  .venv/bin/python scripts/check_roundtrip.py FILE.mid ...
  .venv/bin/python scripts/check_roundtrip.py --music21   # the MIDI files music21 ships, plus
                                                         # corpus scores exported by music21
Prints one JSON line per file, then a summary line; exits 1 if any file differs."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import mido

from desktop_app.music.formats import read_any, write_any
from desktop_app.music.midi_player import Performance, play
from desktop_app.music.track import DRUM_CHANNEL

# Corpus scores with grace notes (string quartets, a song with piano) and one without, exported to
# MIDI by music21's own writer.
CORPUS_SCORES = (
    "haydn/opus74no1/movement1",
    "haydn/opus1no1/movement3",
    "beethoven/opus18no1/movement3",
    "beethoven/opus59no1/movement3",
    "mozart/k458/movement4",
    "mozart/k80/movement1",
    "schubert/Lindenbaum",
    "bach/bwv66.6",
)


def music21_files(export_dir: Path) -> list[Path]:
    """The MIDI files inside the installed music21 package, and the corpus scores above written
    to `export_dir` with music21's `score.write('midi', fp)`."""
    import music21
    from music21 import corpus

    root = Path(music21.__file__).parent
    shipped = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    exported = []
    for name in CORPUS_SCORES:
        path = export_dir / (name.replace("/", "_") + ".mid")
        if not path.exists():
            corpus.parse(name).write("midi", fp=str(path))
        exported.append(path)
    return shipped + exported


def round_trip(path: Path, scratch: Path) -> Path:
    """IN.mid -> IN.dap -> IN.out.mid, as `desktop-app convert` does it twice."""
    dap, out = scratch / (path.stem + ".dap"), scratch / (path.stem + ".out.mid")
    write_any(read_any(path), dap)
    write_any(read_any(dap), out)
    return out


def sounded(perf: Performance) -> Counter:
    """The voices as comparable tuples: a voice never released ends with the file, and a drum
    voice never released has no end."""
    out = Counter()
    for v in perf.voices:
        end = v.end if v.end is not None else (None if v.channel == DRUM_CHANNEL else perf.end)
        out[(v.start, end, v.channel, v.pitch, v.velocity, v.program)] += 1
    return out


def compare(original: Performance, exported: Performance) -> dict:
    a, b = sounded(original), sounded(exported)
    loose = Counter(k[:1] + k[2:] for k in a if k[1] is None)  # drum voices with no end to compare
    missing, extra = a - b, b - a
    for k in list(extra):
        if (k[:1] + k[2:]) in loose and k[2] == DRUM_CHANNEL:
            n = min(extra[k], loose[k[:1] + k[2:]], missing[k[:1] + (None,) + k[2:]])
            extra[k] -= n
            missing[k[:1] + (None,) + k[2:]] -= n
    missing, extra = +missing, +extra
    return {
        "voices": sum(a.values()),
        "missing": sum(missing.values()),
        "extra": sum(extra.values()),
        "examples": [list(k) for k in list(missing)[:3]] + [list(k) for k in list(extra)[:3]],
        "tempo_map_same": original.tempos == exported.tempos,
        "pedals_same": original.pedals == exported.pedals,
    }


def check(path: Path, scratch: Path) -> dict:
    try:
        out = round_trip(path, scratch)
        original, again = mido.MidiFile(path), mido.MidiFile(out)
    except Exception as e:  # a file the app refuses is reported, not fatal to the run
        return {"file": path.name, "ok": False, "error": f"{type(e).__name__}: {e}"}
    result = {"file": path.name, "type": original.type, **compare(play(original), play(again))}
    result["ok"] = not result["missing"] and not result["extra"] and result["tempo_map_same"] and result["pedals_same"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--music21", action="store_true", help="check music21's MIDI files and corpus exports")
    parser.add_argument("--export-dir", type=Path, help="where corpus exports are kept (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files = list(args.files)
        if args.music21:
            export_dir = args.export_dir or Path(tmp) / "exports"
            export_dir.mkdir(parents=True, exist_ok=True)
            files += music21_files(export_dir)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        results = []
        for path in files:
            result = check(path, scratch)
            results.append(result)
            print(json.dumps(result), flush=True)
    bad = [r["file"] for r in results if not r["ok"]]
    voices = sum(r.get("voices", 0) for r in results)
    mismatched = sum(r.get("missing", 0) + r.get("extra", 0) for r in results)
    print(f"checked {len(results)} files, {voices} voices compared, {mismatched} voice mismatches, "
          f"{sum(not r.get('tempo_map_same', False) for r in results)} tempo map mismatches, "
          f"{sum(not r.get('pedals_same', False) for r in results)} pedal mismatches, "
          f"{len(bad)} files differ{': ' + ', '.join(bad) if bad else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
