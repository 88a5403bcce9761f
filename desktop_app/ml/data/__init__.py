"""Datasets for the models: built-in corpora and user folders parsed once into cached Pieces, split
by piece, cut into bar-aligned windows and augmented by transposition."""

from desktop_app.ml.data.build import BuildCancelled, load_dataset
from desktop_app.ml.data.convert import piece_from_song
from desktop_app.ml.data.dataset import (
    DEFAULT_EXCLUDE,
    OUTLIER_KINDS,
    SPLITS,
    Dataset,
    Outlier,
    OutlierRules,
    split_of_id,
    split_of_piece,
)
from desktop_app.ml.data.piece import NOTE_COLUMNS, Piece
from desktop_app.ml.data.stats import dataset_stats
from desktop_app.ml.data.user_datasets import add_user_dataset, list_datasets, remove_user_dataset
from desktop_app.ml.data.windows import Window, random_transpose, transpose, transpositions, windows

__all__ = [
    "BuildCancelled",
    "DEFAULT_EXCLUDE",
    "Dataset",
    "NOTE_COLUMNS",
    "OUTLIER_KINDS",
    "Outlier",
    "OutlierRules",
    "Piece",
    "SPLITS",
    "Window",
    "add_user_dataset",
    "dataset_stats",
    "list_datasets",
    "load_dataset",
    "piece_from_song",
    "random_transpose",
    "remove_user_dataset",
    "split_of_id",
    "split_of_piece",
    "transpose",
    "transpositions",
    "windows",
]
