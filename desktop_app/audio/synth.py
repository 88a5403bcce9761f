"""FluidSynth through pyfluidsynth, with the one call the audio callback needs bound directly:
fluid_synth_write_float renders straight into the caller's buffer at any frame offset, so a
block can be split at each event without copying or allocating."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from desktop_app.music.errors import MusicFileError

DRUM_BANK = 128
CHANNELS = 256
METRONOME_CHANNEL = CHANNELS - 1


class SynthUnavailable(RuntimeError):
    """FluidSynth's library or a SoundFont is missing: say what to install."""


def _library():
    try:
        import fluidsynth
    except (ImportError, OSError) as e:  # pyfluidsynth raises ImportError when libfluidsynth is absent
        raise SynthUnavailable(f"FluidSynth is not available ({e}); install libfluidsynth (apt: libfluidsynth3)") from None
    return fluidsynth


class Synth:
    """One FluidSynth instance with a SoundFont loaded, at `sample_rate`, stereo float output."""

    def __init__(self, soundfont: str | os.PathLike[str], sample_rate: int = 48_000, gain: float = 0.5) -> None:
        fluidsynth = _library()
        self.sample_rate = sample_rate
        self._fs = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate), channels=CHANNELS)
        self._fs.setting("synth.polyphony", 512)
        path = Path(soundfont)
        if not path.is_file():
            raise MusicFileError(path, "SoundFont not found")
        self.sfid = self._fs.sfload(str(path))
        if self.sfid < 0:
            raise MusicFileError(path, "FluidSynth could not load this SoundFont")
        self.soundfont = path
        lib = fluidsynth._fl
        ptr = ctypes.c_void_p(self._fs.synth if isinstance(self._fs.synth, int) else self._fs.synth.value)
        self._ptr = ptr
        self._lib = lib
        i, p = ctypes.c_int, ctypes.c_void_p
        self._write = self._bind("fluid_synth_write_float", [p, i, p, i, i, p, i, i])
        self._noteon = self._bind("fluid_synth_noteon", [p, i, i, i])
        self._noteoff = self._bind("fluid_synth_noteoff", [p, i, i])
        self._cc = self._bind("fluid_synth_cc", [p, i, i, i])
        self.set_drum_channel(METRONOME_CHANNEL, 0)

    def note_on(self, channel: int, key: int, velocity: int) -> None:
        self._noteon(self._ptr, channel, key, velocity)

    def note_off(self, channel: int, key: int) -> None:
        self._noteoff(self._ptr, channel, key)

    def control(self, channel: int, control: int, value: int) -> None:
        self._cc(self._ptr, channel, control, value)

    def all_notes_off(self) -> None:
        """Release every sounding note (each fades out with its own release)."""
        for channel in range(CHANNELS):
            self._cc(self._ptr, channel, 123, 0)

    def set_program(self, channel: int, program: int) -> None:
        self._set_channel_type(channel, drum=False)
        self._fs.program_select(channel, self.sfid, 0, program)

    def set_drum_channel(self, channel: int, program: int = 0) -> None:
        self._set_channel_type(channel, drum=True)
        if self._fs.program_select(channel, self.sfid, DRUM_BANK, program) != 0:
            self._fs.program_select(channel, self.sfid, DRUM_BANK, 0)

    def _set_channel_type(self, channel: int, drum: bool) -> None:
        set_type = self._bind("fluid_synth_set_channel_type", [ctypes.c_void_p, ctypes.c_int, ctypes.c_int])
        if set_type is not None:
            set_type(self._ptr, channel, 1 if drum else 0)

    def _bind(self, name: str, argtypes: list) -> object | None:
        """A FluidSynth function with its argument types declared (a bare pointer passed as a
        C int would be cut in half), or None when this library version lacks it."""
        function = getattr(self._lib, name, None)
        if function is not None:
            function.argtypes = argtypes
            function.restype = ctypes.c_int
        return function

    def set_gain(self, gain: float) -> None:
        self._fs.setting("synth.gain", float(gain))

    def set_reverb(self, on: bool) -> None:
        reverb_on = self._bind("fluid_synth_reverb_on", [ctypes.c_void_p, ctypes.c_int, ctypes.c_int])
        if reverb_on is not None:
            reverb_on(self._ptr, -1, 1 if on else 0)
        else:
            old = self._bind("fluid_synth_set_reverb_on", [ctypes.c_void_p, ctypes.c_int])
            old(self._ptr, 1 if on else 0)

    def render(self, out: np.ndarray, start: int, count: int) -> None:
        """Render `count` frames into rows start..start+count of `out`, a C-contiguous
        (frames, 2) float32 array (the PortAudio buffer itself in the callback)."""
        if count <= 0:
            return
        base = out.ctypes.data
        self._write(self._ptr, count, base, 2 * start, 2, base, 2 * start + 1, 2)

    def close(self) -> None:
        if self._fs is not None:
            self._fs.delete()
            self._fs = None
