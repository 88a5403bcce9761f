"""A form of a network made for fast inference (folded, reordered, cast), kept per network until
any of its weights or buffers change in place (a training step, a loaded checkpoint), so sampling
builds it once and never runs on stale weights."""

from __future__ import annotations

import weakref
from typing import Callable, TypeVar

from torch import nn

Derived = TypeVar("Derived")

_KEPT: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple, object]]" = weakref.WeakKeyDictionary()


def per_weights(net: nn.Module, build: Callable[[nn.Module], Derived]) -> Derived:
    """`build(net)`, reused while every parameter and buffer of `net` has the version it had then."""
    key = tuple(t._version for t in [*net.parameters(), *net.buffers()]) + (net.training, build)
    kept = _KEPT.get(net)
    if kept is not None and kept[0] == key:
        return kept[1]
    derived = build(net)
    _KEPT[net] = (key, derived)
    return derived
