"""Fixtures of the audio tests that need FluidSynth and a SoundFont; they skip, saying what is
missing, where either is absent. The scheduling tests need neither."""

from __future__ import annotations

import pytest

from desktop_app.audio.soundfont import find_soundfont
from desktop_app.audio.synth import Synth, SynthUnavailable


@pytest.fixture(scope="session")
def soundfont():
    path = find_soundfont()
    if path is None:
        pytest.skip("no General MIDI SoundFont found (apt: fluid-soundfont-gm)")
    try:
        Synth(path, 48_000).close()
    except SynthUnavailable as e:
        pytest.skip(str(e))
    return path


@pytest.fixture
def make_synth(soundfont):
    """Synth(sample_rate, reverb) factory; every synth made is closed after the test."""
    made = []

    def make(sample_rate: int = 48_000, reverb: bool = False) -> Synth:
        synth = Synth(soundfont, sample_rate)
        synth.set_reverb(reverb)
        made.append(synth)
        return synth

    yield make
    for synth in made:
        synth.close()

