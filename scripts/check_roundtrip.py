"""Round-trip MIDI files made elsewhere through `desktop-app convert` and report, as JSON, whether
every note survives tick-exact. Usage: .venv/bin/python scripts/check_roundtrip.py FILE.mid ...

For each file: IN.mid -> OUT.dap -> OUT.mid through the command line, then the notes of IN (as
imported) and of OUT.mid are compared (channel, pitch, start, duration, velocity). The imported
note count is also checked against mido's raw count of sounding note-ons."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import mido

from desktop_app.music.midi_io import read_midi


def notes(path: Path) -> list[tuple[int, int, int, int, int]]:
    song = read_midi(path)
    return sorted((t.midi_channel, n.pitch, n.start, n.duration, n.velocity) for t in song.tracks for n in t.notes)


def raw_note_ons(path: Path) -> int:
    return sum(1 for track in mido.MidiFile(path).tracks for m in track if m.type == "note_on" and m.velocity > 0)


def check(path: Path, scratch: Path) -> dict:
    dap, out = scratch / (path.stem + ".dap"), scratch / (path.stem + ".out.mid")
    for a, b in ((path, dap), (dap, out)):
        result = subprocess.run([sys.executable, "-m", "desktop_app", "convert", str(a), str(b)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            return {"file": str(path), "ok": False, "error": result.stderr.strip()}
    before, after = notes(path), notes(out)
    return {
        "file": path.name,
        "notes": len(before),
        "raw_note_ons": raw_note_ons(path),
        "tick_exact": before == after,
        "ok": before == after,
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        results = [check(Path(p), Path(tmp)) for p in sys.argv[1:]]
    print(json.dumps({"files": len(results), "all_ok": all(r["ok"] for r in results), "results": results}, indent=1))
    sys.exit(0 if all(r["ok"] for r in results) else 1)
