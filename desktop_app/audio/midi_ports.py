"""MIDI keyboards and external synths, through mido with the python-rtmidi backend. Port
problems (no ALSA sequencer in a container, a port that vanished) become MidiUnavailable."""

from __future__ import annotations

from collections import deque
from typing import Callable

import mido


class MidiUnavailable(RuntimeError):
    pass


def input_names() -> list[str]:
    try:
        return list(dict.fromkeys(mido.get_input_names()))
    except Exception:  # rtmidi raises its own errors when there is no MIDI system
        return []


def output_names() -> list[str]:
    try:
        return list(dict.fromkeys(mido.get_output_names()))
    except Exception:
        return []


class MidiInput:
    """An open input port; `handler(message)` runs on rtmidi's thread for every message."""

    def __init__(self, name: str, handler: Callable[[mido.Message], None]) -> None:
        try:
            self.port = mido.open_input(name, callback=handler)
        except Exception as e:
            raise MidiUnavailable(f"cannot open MIDI input “{name}” ({e})") from None
        self.name = name

    def close(self) -> None:
        self.port.close()


class MidiOutput:
    """An open output port fed from a queue of (kind, channel, key, velocity) events, as the
    engine leaves them in Engine.events_out; `pump()` sends what has arrived."""

    def __init__(self, name: str) -> None:
        try:
            self.port = mido.open_output(name)
        except Exception as e:
            raise MidiUnavailable(f"cannot open MIDI output “{name}” ({e})") from None
        self.name = name
        self.events: deque = deque()

    def pump(self) -> None:
        events = self.events
        while events:
            on, channel, key, velocity = events.popleft()
            kind = "note_on" if on and velocity > 0 else "note_off"
            self.port.send(mido.Message(kind, channel=channel % 16, note=key, velocity=velocity if on else 0))

    def close(self) -> None:
        try:
            self.port.reset()
        finally:
            self.port.close()
