"""How every model panel gets its model: the checkpoint the composer chose before, else the one
shipped in resources/, looked for when the panel first shows (so torch loads then, not at start-up);
"Choose Checkpoint…" loads a folder. Loading runs on the model runner; a bad checkpoint is reported
in one line and the model in use stays."""

from __future__ import annotations

from pathlib import Path

from desktop_app.runner.jobs import Job
from desktop_app.ui.models.common import checkpoint_name


class CheckpointLoading:
    """Mixin for a model panel (before QWidget in its bases). The panel sets MODEL (the registry
    name), MODEL_TITLE (for messages) and NO_MODEL (what its label says without one), and has
    `settings`, `runner`, `model_label`, `status`, `message`, `net`, `model_name`,
    `choose_folder(start)`, `_load_generation`, `_looked_for_model` and `_use_loaded(loaded, name)`."""

    MODEL = ""
    MODEL_TITLE = ""
    NO_MODEL = ""

    def showEvent(self, event) -> None:
        if not self._looked_for_model:
            self.find_model()
        super().showEvent(event)

    def find_model(self) -> None:
        """Load the checkpoint chosen before, else the shipped one; with neither, say how to get one."""
        self._looked_for_model = True
        chosen = self.settings.model_checkpoint(self.MODEL)
        if chosen and Path(chosen).exists():
            self.load_checkpoint(Path(chosen))
            return
        model = self.MODEL

        def shipped(_ctx):
            from desktop_app.ml.shipped import shipped_checkpoint

            return shipped_checkpoint(model)

        generation = self._load_generation  # a checkpoint chosen meanwhile wins over the shipped one
        job = Job("other", f"Find the {self.MODEL_TITLE} model", shipped, self)
        job.finished.connect(lambda path: path is not None and generation == self._load_generation
                             and self.load_checkpoint(path))
        self._submit(job)

    def choose_checkpoint(self) -> None:
        start = self.settings.model_checkpoint(self.MODEL) or self.settings.last_folder
        folder = self.choose_folder(start)
        if folder:
            self.load_checkpoint(Path(folder), remember=True)

    def load_checkpoint(self, path: Path, remember: bool = False) -> None:
        """Load the checkpoint at `path` on the runner; a bad one is reported in one line and the
        model in use (if any) stays."""
        generation = self._load_generation = self._load_generation + 1
        model = self.MODEL

        def load(_ctx):
            from desktop_app.ml.shipped import load_model

            return load_model(path, expect=model)

        def loaded(result) -> None:
            if generation != self._load_generation:
                return
            self._use_loaded(result, checkpoint_name(path))
            if remember:
                self.settings.set_model_checkpoint(self.MODEL, path)

        def failed(reason: str) -> None:
            if generation == self._load_generation:
                self.model_label.setText(f"Model: {self.model_name}" if self.net is not None else self.NO_MODEL)
                self.status.setText(f"Cannot load the checkpoint: {reason}")
                self.message.emit(f"Cannot load the {self.MODEL_TITLE} checkpoint: {reason}")

        job = Job("other", f"Load {path.name}", load, self)
        job.finished.connect(loaded)
        job.failed.connect(failed)
        self.model_label.setText(f"Loading {path.name}…")
        self._submit(job)

    def _refuse(self, reason: str) -> bool:
        """Say in the panel and the status bar why a run cannot start; False, for `return`."""
        self.status.setText(reason)
        self.message.emit(reason)
        return False

    def _submit(self, job: Job) -> None:
        """Queue `job` on the runner; it is deleted once its end has been handled."""
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(job.deleteLater)
        self.runner.submit(job)
