"""The run folder ``output/NAME/``: the names of what training writes there and
inference, export and fusion read, and the record of one trained fold. Knows nothing of
paddle, so reading a run never loads the training engine."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CONFIG_FILE = "config.yaml"  # the merged experiment config
SUMMARY_FILE = "summary.json"  # the folds that finished, with their metrics
MODEL_INFO_FILE = "model_info.json"  # how to rebuild the network (v1 strides, loaded keys)
THRESHOLDS_FILE = "thresholds.json"  # decision thresholds chosen on held-out predictions
OOF_PROBS = "oof_probs.csv"  # k-fold runs: every record by the fold that did not train on it
VAL_PROBS = "val_probs.csv"  # per fold: its validation records' probabilities
# pictures of the run's own records (predict.py --oof), each by the fold that did not
# train on its record; a picture is named NAME or NAME@TAG (several pictures a record)
OOF_PICTURE_PROBS = "oof_picture_probs.csv"
PICTURE_TAG = "@"
BEST_WEIGHTS = "best_model.pdparams"  # per fold: the kept network weights
LAST_WEIGHTS = "last.pdparams"  # per fold: the last epoch (resume)
LAST_OPTIMIZER = "last.pdopt"  # per fold: the optimizer after the last epoch (resume)
FOLD_STATE = "state.json"  # per fold: epoch, best, history (resume)
FEATURE_CHECKPOINT = "model.joblib"  # per fold: the feature model
EXPORT_DIR = "export"  # export.py: export/fold{k}/ (Paddle inference + ONNX)
EXPORT_INFO = "export.json"  # in EXPORT_DIR: the exported folds' files, relative paths


def picture_record(picture: str) -> str:
    """The record a picture of the run's own records shows: its name up to ``@``."""
    return picture.split(PICTURE_TAG, 1)[0]


def picture_tag(picture: str) -> str:
    """Which set of pictures ``NAME@TAG`` is in (its tag; "" when it has none)."""
    return picture.partition(PICTURE_TAG)[2]


@dataclass
class FoldResult:
    """What training one fold gave: its best epoch and metrics, and its validation
    records' probabilities (for the out-of-fold table)."""

    fold: int
    best_epoch: int
    best: dict[str, float]
    val_names: list[str] = field(default_factory=list)
    val_probs: np.ndarray | None = None
