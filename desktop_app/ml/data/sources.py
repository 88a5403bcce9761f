"""What a dataset is made of: the files of a built-in collection of the music21 corpus or of a user
folder, as units to parse (a file, or one tune of a multi-tune ABC file)."""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from desktop_app.music.errors import MusicFileError
from desktop_app.music.midi_io import MIDI_EXTENSIONS
from desktop_app.music.musicxml_io import MUSICXML_EXTENSIONS

ABC_EXTENSIONS = (".abc",)
FOLDER_EXTENSIONS = (*MIDI_EXTENSIONS, *MUSICXML_EXTENSIONS, *ABC_EXTENSIONS)
BUILTIN = {
    "chorales": "Bach chorales: four voices, MusicXML files of the music21 corpus",
    "folk": "Folk tunes: the Essen and O'Neill (1850) collections of the music21 corpus, one voice",
}
_CORPUS_FOLDERS = {"chorales": ("bach",), "folk": ("essenFolksong", "oneills1850")}
_TUNE_START = re.compile(rb"^X:", re.MULTILINE)


@dataclass(frozen=True)
class Unit:
    """One piece to parse: `kind` is "midi", "musicxml" or "abc"; `label` names it in the dataset
    (a path relative to the dataset's folder, with "#N" for the N-th tune of an ABC file);
    `data` holds an ABC tune's text (with its file's header), else None."""

    kind: str
    path: str
    label: str
    data: bytes | None = None


def corpus_folder() -> Path:
    """The music21 corpus installed with the package, found without importing music21 (slow)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise MusicFileError("music21", "the music21 package is not installed, so built-in datasets are missing")
    return Path(list(spec.submodule_search_locations)[0]) / "corpus"


def kind_of(path: str | os.PathLike[str]) -> str | None:
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_EXTENSIONS:
        return "midi"
    if suffix in MUSICXML_EXTENSIONS:
        return "musicxml"
    if suffix in ABC_EXTENSIONS:
        return "abc"
    return None


def folder_files(root: Path, extensions: tuple[str, ...] = FOLDER_EXTENSIONS) -> list[Path]:
    """Every readable music file under `root`, searched recursively, in a stable order; hidden
    files and folders are skipped."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / f for f in sorted(files) if not f.startswith(".") and f.lower().endswith(extensions))
    return found


def abc_tunes(data: bytes) -> list[tuple[str, bytes]]:
    """Split an ABC file into its tunes: (reference number, the file header followed by the tune)."""
    starts = [m.start() for m in _TUNE_START.finditer(data)]
    if not starts:
        return [("1", data)]
    header = data[: starts[0]]
    tunes = []
    for i, begin in enumerate(starts):
        body = data[begin : starts[i + 1] if i + 1 < len(starts) else len(data)]
        number = body[2 : body.find(b"\n") if b"\n" in body else len(body)].strip().decode("latin-1") or str(i + 1)
        tunes.append((number, header + body))
    return tunes


def units_of_files(files: list[Path], root: Path) -> tuple[list[Unit], list[tuple[str, str]]]:
    """Units for `files` labelled relative to `root`, and the files that could not be read."""
    units: list[Unit] = []
    failures: list[tuple[str, str]] = []
    for path in files:
        kind = kind_of(path)
        label = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        if kind != "abc":
            units.append(Unit(kind or "unknown", str(path), label))
            continue
        try:
            data = path.read_bytes()
        except OSError as e:
            failures.append((str(path), e.strerror or str(e)))
            continue
        tunes = abc_tunes(data)
        seen: dict[str, int] = {}
        for number, text in tunes:
            seen[number] = seen.get(number, 0) + 1
            suffix = number if seen[number] == 1 else f"{number}.{seen[number]}"
            units.append(Unit("abc", str(path), f"{label}#{suffix}" if len(tunes) > 1 else label, text))
    return units, failures


def builtin_units(name: str) -> tuple[Path, list[Unit], list[tuple[str, str]]]:
    """The corpus folder, the units of built-in dataset `name`, and files that could not be read.
    Chorales are their own kind: parsed as MusicXML, then reduced to their sung parts."""
    root, files = builtin_files(name)
    units, failures = units_of_files(files, root)
    if name == "chorales":
        units = [Unit("chorale", u.path, u.label) for u in units]
    return root, units, failures


def builtin_files(name: str) -> tuple[Path, list[Path]]:
    """The corpus folder and the files of built-in dataset `name`: MusicXML for the chorales, ABC for folk."""
    root = corpus_folder()
    extensions = MUSICXML_EXTENSIONS if name == "chorales" else ABC_EXTENSIONS
    files = [f for sub in _CORPUS_FOLDERS[name] for f in folder_files(root / sub, extensions)]
    if not files:
        raise MusicFileError(root, f"the music21 corpus holds no files for the {name} dataset")
    return root, files
