"""The Qt binding must not leak references: PySide6 6.12.0 on Python 3.11 dropped a reference to
None on every call of a method returning nothing, and a few thousand repaints later the
interpreter aborted ("none_dealloc"). pyproject.toml pins below it; this guards the pin."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPoint


def test_void_qt_calls_keep_none_alive():
    point = QPoint()
    before = sys.getrefcount(None)
    for _ in range(1000):
        point.setX(1)
    assert sys.getrefcount(None) >= before - 5  # other threads may drop a few; the leak drops 1000
