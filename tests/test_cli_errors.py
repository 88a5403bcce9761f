"""The headless commands under bad options and hostile surroundings: a sample rate FluidSynth
cannot render at, library chatter, no writable cache for numba, a full disk under a PNG. Each
ends with at most one line on stderr."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from desktop_app.audio.numba_cache import default_cache_folders, ensure_numba_cache
from desktop_app.audio.soundfont import find_soundfont
from desktop_app.bench.io_bench import make_song
from desktop_app.cli import main
from desktop_app.music.midi_io import write_midi

XML_WITH_A_BAD_PROGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list>
    <score-part id="P1"><part-name>Odd</part-name>
      <score-instrument id="P1-I1"><instrument-name>X</instrument-name></score-instrument>
      <midi-instrument id="P1-I1"><midi-channel>1</midi-channel><midi-program>200</midi-program></midi-instrument>
    </score-part>
  </part-list>
  <part id="P1"><measure number="1">
    <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
    <note><pitch><step>C</step><octave>4</octave></pitch><duration>4</duration><type>whole</type></note>
  </measure></part>
</score-partwise>
"""


def run(*args: str, cwd: Path, env: dict | None = None, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.run([*prefix, sys.executable, "-m", "desktop_app", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.mark.parametrize("rate", ["0", "-44100", "1", "7999", "96001", "10000000"])
def test_a_sample_rate_fluidsynth_cannot_render_at_is_one_line(tmp_path, capsys, rate):
    source = tmp_path / "tune.mid"
    write_midi(make_song(10), source)
    out = tmp_path / "tune.wav"
    assert main(["render", str(source), str(out), "--sample-rate", rate]) == 2
    err = capsys.readouterr().err
    assert err == f"desktop-app: error: {out}: cannot render at {rate} Hz; choose a sample rate from 8000 to 96000 Hz\n"
    assert not out.exists()


@pytest.mark.parametrize("rate", [8000, 96000])
def test_the_sample_rates_at_the_limits_render(tmp_path, rate):
    if find_soundfont() is None:
        pytest.skip("no General MIDI SoundFont installed (apt: fluid-soundfont-gm)")
    source = tmp_path / "tune.mid"
    write_midi(make_song(8, n_tracks=1, seed=2), source)
    out = tmp_path / "tune.flac"
    assert main(["render", str(source), str(out), "--sample-rate", str(rate)]) == 0
    audio, got = soundfile.read(out)
    assert got == rate and float(np.abs(audio).max()) > 0.01


def test_convert_prints_nothing_for_music21_warnings(tmp_path):
    (tmp_path / "odd.musicxml").write_text(XML_WITH_A_BAD_PROGRAM)
    result = run("convert", "odd.musicxml", "odd.mid", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert (tmp_path / "odd.mid").exists()


def test_fluidsynth_chatter_does_not_reach_stderr(tmp_path):
    """FluidSynth and libinstpatch write four lines of their own about a file that is no SoundFont."""
    write_midi(make_song(10), tmp_path / "tune.mid")
    (tmp_path / "not.sf2").write_bytes(b"RIFF\x04\x00\x00\x00WAVEjunk")
    result = run("render", "tune.mid", "out.wav", "--soundfont", "not.sf2", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "desktop-app: error: not.sf2: FluidSynth could not load this SoundFont\n"


def test_a_fifo_named_wav_is_refused_by_the_spectrogram_command(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.wav")
    assert main(["spectrogram", str(tmp_path / "pipe.wav"), str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err == f"desktop-app: error: {tmp_path / 'pipe.wav'}: not a regular file: it is a pipe\n"


# ----- numba's cache -----------------------------------------------------------------------


def test_numba_is_given_a_private_cache_when_no_default_one_is_writable():
    environ: dict[str, str] = {}
    ensure_numba_cache(environ, folders=[Path("/proc/no-such-cache"), Path("/proc/self/nor-this")])
    folder = Path(environ["NUMBA_CACHE_DIR"])
    assert folder.is_dir() and os.access(folder, os.W_OK)
    assert folder.stat().st_uid == os.getuid() and not folder.stat().st_mode & 0o022


def test_numba_keeps_its_own_cache_when_it_can_write_one(tmp_path):
    environ: dict[str, str] = {}
    ensure_numba_cache(environ, folders=[Path("/proc/no-such-cache"), tmp_path / "cache"])
    assert "NUMBA_CACHE_DIR" not in environ
    environ = {"NUMBA_CACHE_DIR": "/where/the/user/said"}
    ensure_numba_cache(environ, folders=[Path("/proc/no-such-cache")])
    assert environ["NUMBA_CACHE_DIR"] == "/where/the/user/said"


def test_the_default_cache_folders_are_numbas():
    folders = default_cache_folders({"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"})
    assert folders[0].name == "__pycache__" and folders[0].parent.name == "librosa"
    assert folders[1] == Path("/x/cache/numba")
    assert default_cache_folders({"HOME": "/home/u"})[1] == Path("/home/u/.cache/numba")


READ_ONLY = "mount --bind -o ro {packages} {packages} && mount --bind -o ro {repo} {repo} && exec \"$@\""


def test_spectrogram_command_without_a_writable_home_or_install(tmp_path):
    """Site-packages read-only and no writable home, as for a user of a system-wide install."""
    packages = Path(np.__file__).parents[1]
    repo = Path(__file__).parents[1]
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("needs unshare -m (a private mount namespace) to make the install read-only")
    sample_rate = 22_050
    t = np.arange(sample_rate) / sample_rate
    soundfile.write(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t), sample_rate)
    shell = READ_ONLY.format(packages=packages, repo=repo)
    env = {"HOME": "/proc/no-home", "XDG_CACHE_HOME": "/proc/no-cache"}
    env_without = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    result = subprocess.run(
        ["unshare", "-m", "bash", "-c", shell, "--", sys.executable, "-m", "desktop_app", "spectrogram",
         "tone.wav", "tone.png"],
        capture_output=True, text=True, cwd=tmp_path, env=dict(env_without, QT_QPA_PLATFORM="offscreen", **env),
        timeout=300,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr[-2000:]
    assert (tmp_path / "tone.png").stat().st_size > 1000


# ----- images are written atomically --------------------------------------------------------

FULL_DISK_PNG = """
import resource, signal, sys
from pathlib import Path
import numpy as np
from desktop_app.music.errors import MusicFileError
from desktop_app.ui.spectrogram.export import save_png
pixels = np.random.default_rng(1).integers(0, 2**32, size=(400, 1200), dtype=np.uint32)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))
try:
    save_png(pixels, Path(sys.argv[1]))
except MusicFileError as e:
    print(e.reason)
"""


def test_a_spectrogram_png_on_a_full_disk_keeps_the_old_picture(tmp_path):
    target = tmp_path / "spectrogram.png"
    from desktop_app.ui.spectrogram.export import save_png

    save_png(np.full((40, 120), 0xFF204080, dtype=np.uint32), target)
    before = target.read_bytes()
    done = subprocess.run([sys.executable, "-c", FULL_DISK_PNG, str(target)], capture_output=True, text=True,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("cannot write"), (done.stdout, done.stderr[-1000:])
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["spectrogram.png"]  # no temporary left


def test_a_spectrogram_png_over_a_symlink_writes_through_it(tmp_path):
    from PySide6.QtGui import QImage

    from desktop_app.ui.spectrogram.export import save_png

    real = tmp_path / "pictures" / "s.png"
    real.parent.mkdir()
    (tmp_path / "link.png").symlink_to(real)
    save_png(np.full((40, 120), 0xFF204080, dtype=np.uint32), tmp_path / "link.png")
    assert (tmp_path / "link.png").is_symlink() and QImage(str(real)).width() == 120


def test_audio_longer_than_the_limit_is_refused_by_the_spectrogram_command(tmp_path, capsys):
    """A 2.1-hour WAV (sparse on disk): reading it whole would take gigabytes for the image."""
    import struct

    rate, frames = 8000, int(2.1 * 3600 * 8000)
    header = b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    path = tmp_path / "long.wav"
    with open(path, "wb") as f:
        f.write(header + b"data" + struct.pack("<I", frames))
        f.truncate(44 + frames)
    assert main(["spectrogram", str(path), str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err
    assert err == f"desktop-app: error: {path}: too long: the audio lasts 2.1 hours; the app takes up to 2 hours\n"


DAMAGED_PROJECTS = {
    "deep.dap": ('{"format": "desktop-app-project", "version": 1, "song": {"ppq": 480}, "view": '
                 + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    "digits.dap": ('{"format": "desktop-app-project", "version": 1, "song": {"ppq": ' + "9" * 5000 + "}}",
                   "a number has thousands of digits"),
    "listkey.dap": ('{"format": "desktop-app-project", "version": 1, "song": {"ppq": 480, "keys": [[0, ["C"]]]}}',
                    "song.keys[0] key must be a key"),
    "three.dap": ('{"format": "desktop-app-project", "version": 1, "song": {"ppq": 480, '
                  '"time_signatures": [[0, 4, 3]]}}', "denominator must be 1, 2, 4, 8, 16, 32 or 64"),
    "surrogate.dap": ('{"format": "desktop-app-project", "version": 1, "song": {"ppq": 480, "title": "\\ud800"}}',
                      "song.title holds a lone surrogate"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED_PROJECTS))
@pytest.mark.parametrize("target", ["out.mid", "out.dap"])
def test_a_damaged_project_exits_2_with_one_line(tmp_path, capsys, name, target):
    text, reason = DAMAGED_PROJECTS[name]
    (tmp_path / name).write_text(text)
    assert main(["convert", str(tmp_path / name), str(tmp_path / target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"desktop-app: error: {tmp_path / name}: damaged project file: ") and reason in err
    assert err.count("\n") == 1 and not (tmp_path / target).exists()
