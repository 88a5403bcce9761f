"""The spectrogram dock: a view sharing the piano roll's time axis, and its panel of sources and settings."""
