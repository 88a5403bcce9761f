"""The limits on what the app reads (regular files, sizes, song length) and how it writes (atomic,
through symlinks, cleaning up after killed saves), each with a one-line reason."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from music21 import corpus

from desktop_app.music import MusicFileError, Note, Song, Track
from desktop_app.music.files import atomic_output, read_file_bytes
from desktop_app.music.formats import read_any, write_any
from desktop_app.music.limits import (
    MAX_FILE_BYTES,
    MAX_MUSICXML_BYTES,
    MAX_NOTES,
    MAX_SONG_SECONDS,
    check_song,
    describe_bytes,
    describe_seconds,
)
from desktop_app.music.midi_io import midi_bytes, write_midi
from desktop_app.music.project_file import Project, read_project, write_project


def refused(path: Path) -> str:
    with pytest.raises(MusicFileError) as info:
        read_any(path)
    assert info.value.path == str(path) and "\n" not in info.value.reason
    return info.value.reason


# ----- what is read ---------------------------------------------------------------------


def test_a_fifo_named_mid_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)

    def unblock() -> None:  # were the reader to wait for a writer, this frees it (and it reads nothing)
        fd = os.open(fifo, os.O_WRONLY)
        os.close(fd)

    helper = threading.Timer(20, unblock)
    helper.daemon = True
    helper.start()
    try:
        assert refused(fifo) == "not a regular file: it is a pipe"
    finally:
        helper.cancel()


def test_a_symlink_to_dev_zero_is_refused(tmp_path):
    link = tmp_path / "endless.mid"
    link.symlink_to("/dev/zero")
    assert refused(link) == "not a regular file: it is a device"
    project_link = tmp_path / "endless.dap"
    project_link.symlink_to("/dev/zero")
    assert refused(project_link) == "not a regular file: it is a device"


def test_a_symlink_to_a_good_file_is_read(tmp_path, small_song):
    write_midi(small_song, tmp_path / "real.mid")
    (tmp_path / "link.mid").symlink_to(tmp_path / "real.mid")
    assert read_any(tmp_path / "link.mid").song.note_count == 3


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "folder.mid").mkdir()
    assert refused(tmp_path / "folder.mid") == "is a folder, not a file"


@pytest.mark.parametrize("name", ["huge.mid", "huge.dap", "huge.musicxml"])
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, name):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no time or disk to make
    assert refused(path) == "too large: 64.1 MB; the app reads files of up to 64 MB"


def test_read_file_bytes_reads_up_to_its_limit(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"x" * 1000)
    assert read_file_bytes(path, max_bytes=1000) == b"x" * 1000
    with pytest.raises(MusicFileError, match="too large: 1000 bytes; the app reads files of up to 999 bytes"):
        read_file_bytes(path, max_bytes=999)


def test_an_mxl_that_unpacks_past_the_limit_is_refused(tmp_path):
    """A zip bomb: under 100 KB on disk, over 64 MB unpacked."""
    path = tmp_path / "bomb.mxl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/container.xml", "<container/>")
        with archive.open("score.xml", "w", force_zip64=True) as member:
            member.write(b"<?xml version='1.0'?><score-partwise>")
            block = b" " * 2**20
            for _ in range(MAX_MUSICXML_BYTES // len(block) + 1):
                member.write(block)
    assert path.stat().st_size < 1_000_000
    reason = refused(path)
    assert reason.startswith("too large: the archive unpacks to 65") and "up to 64 MB" in reason


def test_an_mxl_within_the_limit_is_read():
    path = Path(corpus.getWork("bach/bwv66.6"))
    assert path.suffix == ".mxl"
    assert len(read_any(path).song.tracks) == 4


def long_note_song(seconds: float, ppq: int = 480) -> Song:
    """One note lasting `seconds` at 120 BPM."""
    return Song(ppq=ppq, tracks=(Track(notes=(Note(60, 0, round(seconds * 2 * ppq), 100),)),))


def test_a_midi_file_with_a_9_7_hour_note_is_refused(tmp_path):
    path = tmp_path / "long.mid"
    path.write_bytes(midi_bytes(long_note_song(9.7 * 3600)))
    assert refused(path) == "too long: the song lasts 9.7 hours; the app takes songs of up to 2 hours"


def test_a_midi_file_with_a_2_to_the_31_tick_note_is_refused(tmp_path):
    path = tmp_path / "huge.mid"
    path.write_bytes(midi_bytes(Song(tracks=(Track(notes=(Note(60, 0, 2**31 - 1, 100),)),))))
    assert "too long: the song lasts 621.4 hours" in refused(path)


def test_a_song_just_within_the_limit_is_read(tmp_path):
    path = tmp_path / "two-hours.mid"
    path.write_bytes(midi_bytes(long_note_song(MAX_SONG_SECONDS)))
    assert read_any(path).song.duration_seconds == MAX_SONG_SECONDS


def test_too_many_notes():
    track = Track(notes=tuple(Note(60, i, 1, 100) for i in range(1000)))
    song = Song(tracks=(track,) * (MAX_NOTES // 1000) + (Track(notes=(Note(60, 0, 1),)),))
    with pytest.raises(MusicFileError, match="too many notes: 1,000,001; the app takes songs of up to 1,000,000"):
        check_song(song, "many.mid")
    assert check_song(song.with_tracks(song.tracks[:-1]), "many.mid").note_count == MAX_NOTES


def test_a_midi_file_whose_name_is_not_utf8_can_be_saved(tmp_path, small_song):
    """Its title comes from the file name; an undecodable byte must not make the song unsavable."""
    name = os.fsdecode(b"caf\xe9.mid")  # Latin-1 on disk: a lone surrogate in Python
    path = tmp_path / name
    write_midi(Song(tracks=small_song.tracks), path)
    song = read_any(path).song
    assert song.title == "caf\ufffd"
    write_any(Project(song), tmp_path / "out.dap")
    write_any(Project(song), tmp_path / "out.mid")
    assert read_project(tmp_path / "out.dap").song.title == "caf\ufffd"


# ----- how files are written -------------------------------------------------------------


def test_saving_over_a_symlink_writes_through_it(tmp_path, small_song):
    real = tmp_path / "projects" / "song.dap"
    real.parent.mkdir()
    write_project(Project(Song()), real)
    link = tmp_path / "shortcut.dap"
    link.symlink_to(real)
    write_project(Project(small_song), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert read_project(real).song == small_song
    assert sorted(p.name for p in real.parent.iterdir()) == ["song.dap"]  # no temporary left beside it


def test_a_dangling_symlink_creates_its_target(tmp_path, small_song):
    link = tmp_path / "link.mid"
    link.symlink_to(tmp_path / "new.mid")
    write_midi(small_song, link)
    assert link.is_symlink() and read_any(tmp_path / "new.mid").song.note_count == 3


KILLED_SAVE = """
import os, signal, sys
from desktop_app.music.files import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    tmp.write_bytes(b"half a proj")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_temporaries_of_a_killed_save_are_removed_by_the_next_save(tmp_path, small_song):
    target = tmp_path / "song.dap"
    write_project(Project(Song()), target)
    leftovers = []
    for _ in range(2):  # each killed save also removes the one before it
        done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(target)], capture_output=True)
        assert done.returncode == -signal.SIGKILL
        left = [p.name for p in tmp_path.iterdir() if p.name != "song.dap"]
        assert len(left) == 1 and left[0].startswith(".song.dap.") and left[0].endswith(".tmp")
        leftovers += left
    assert leftovers[0] != leftovers[1]
    (tmp_path / ".other.dap.123-abcdef01.tmp").write_bytes(b"")  # another file's: not ours to remove
    write_project(Project(small_song), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.dap.123-abcdef01.tmp", "song.dap"]
    assert read_project(target).song == small_song


def test_a_save_in_progress_in_another_process_is_left_alone(tmp_path, small_song):
    target = tmp_path / "song.dap"
    busy = tmp_path / f".song.dap.{os.getppid()}-0123abcd.tmp"  # a live process's temporary
    busy.write_bytes(b"")
    write_project(Project(small_song), target)
    assert busy.exists()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, small_song):
    target = tmp_path / "song.mid"
    write_midi(small_song, target)
    before = target.read_bytes()
    with pytest.raises(MusicFileError):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise MusicFileError(target, "the writer failed")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]


FULL_DISK_SAVE = """
import resource, signal, sys
from desktop_app.music.errors import MusicFileError
from desktop_app.music.project_file import Project, write_project
from desktop_app.bench.io_bench import make_song
song = make_song(2000)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
try:
    write_project(Project(song), sys.argv[1])
except MusicFileError as e:
    print(e.reason)
"""


def test_a_project_save_on_a_full_disk_keeps_the_old_file(tmp_path, small_song):
    target = tmp_path / "song.dap"
    write_project(Project(small_song), target)
    before = target.read_bytes()
    done = subprocess.run([sys.executable, "-c", FULL_DISK_SAVE, str(target)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("cannot write: File too large"), done.stderr
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["song.dap"]
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY  # this process: no limit


def test_messages_round_up_so_just_over_a_limit_never_reads_as_the_limit():
    assert [describe_bytes(n) for n in (900, 1536, 64 * 2**20, 64 * 2**20 + 1, 2**30)] == [
        "900 bytes", "1.5 KB", "64 MB", "64.1 MB", "1 GB"]
    assert [describe_seconds(s) for s in (59.2, 45 * 60, 7200, 7201, 9.7 * 3600)] == [
        "60 seconds", "45 minutes", "2 hours", "2.1 hours", "9.7 hours"]
    with pytest.raises(MusicFileError, match="the song lasts 2.1 hours; the app takes songs of up to 2 hours"):
        check_song(Song(tracks=(Track(notes=(Note(60, 0, (MAX_SONG_SECONDS + 1) * 960),)),)), "x.mid")
