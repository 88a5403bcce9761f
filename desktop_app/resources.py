"""Where the files shipped in resources/ live: example seeds, icons, checkpoints."""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"
DEMO_SEED = RESOURCES_DIR / "seeds" / "demo.mid"
