"""The registered models: one line per model module (see desktop_app.ml.registry)."""

from desktop_app.ml.registry import register

register("tiny", "desktop_app.ml.models.tiny", "a tiny next-step predictor on piano-roll windows, for tests and benches")
register("arcnn", "desktop_app.ml.models.arcnn", "AR-CNN: edits a track one note cell at a time (DeepComposer), trained on 8-bar windows")
register("transformer", "desktop_app.ml.models.transformer", "a decoder-only transformer over bar/voice tokens: continues tracks and fills bars, with density, polyphony and pitch-range controls")
register("gan", "desktop_app.ml.models.gan", "GAN accompaniment: writes alto, tenor and bass under a melody (conditional WGAN-GP, DeepComposer), trained on 4-bar windows")
