"""Colour lookup tables for spectrograms: magma and viridis from pyqtgraph's maps, grey, and a
CMRmap-like map (Friture's default), each as 256 packed ARGB32 pixels."""

from __future__ import annotations

import numpy as np

COLORMAPS = ("magma", "viridis", "grey", "cmrmap")
# CMRmap's control points (Rappaport): black, navy, purple, red, orange, yellow, white.
_CMR = [(0.0, 0.0, 0.0), (0.15, 0.15, 0.5), (0.3, 0.15, 0.75), (0.6, 0.2, 0.5), (1.0, 0.25, 0.15),
        (0.9, 0.5, 0.0), (0.9, 0.75, 0.1), (0.9, 0.9, 0.5), (1.0, 1.0, 1.0)]


def lookup_table(name: str) -> np.ndarray:
    """256 uint32 pixels (0xAARRGGBB), dark for quiet to bright for loud."""
    if name == "grey":
        rgb = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    elif name == "cmrmap":
        points = np.linspace(0, 1, len(_CMR))
        t = np.linspace(0, 1, 256)
        rgb = np.stack([np.interp(t, points, [c[k] for c in _CMR]) for k in range(3)], axis=1)
        rgb = np.rint(rgb * 255).astype(np.uint8)
    elif name in ("magma", "viridis"):
        import pyqtgraph as pg

        rgb = pg.colormap.get(name).getLookupTable(nPts=256, alpha=False).astype(np.uint8)
    else:
        raise ValueError(f"unknown colour map {name!r}")
    rgb = rgb.astype(np.uint32)
    return (0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).astype(np.uint32)
