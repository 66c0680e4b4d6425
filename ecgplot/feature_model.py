"""The signal-feature model: scikit-learn HistGradientBoosting on :mod:`features`.

A sibling of the image model with the same interface to the engine: trained per fold by
:func:`train_feature_fold` (same splits, run folder, ``val_probs.csv``), loaded by
:class:`FeaturePredictor`, which maps raw signals to class probabilities.
"""

from __future__ import annotations

import json
import logging
import zlib
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from .aiwin import FS, BadInputError, label_matrix, write_probs
from .atomic import atomic_path, atomic_write
from .augment import AsPrint
from .experiment import ExperimentConfig, FeatureModelConfig
from .features import feature_names, feature_table, record_features
from .metrics import task_metrics
from .prints import print_layouts
from .run_folder import FEATURE_CHECKPOINT, FOLD_STATE, VAL_PROBS, FoldResult

log = logging.getLogger(__name__)

CHECKPOINT = FEATURE_CHECKPOINT
FEATURE_CACHE = "features.pkl"


class FeatureClassifier:
    """One binary HistGradientBoosting model per output column (task 1: abnormal; task 2:
    each of the 12 classes). A class without positives in training predicts its prior."""

    def __init__(self, cfg: FeatureModelConfig, task: int, seed: int):
        self.cfg, self.task, self.seed = cfg, task, seed
        self.columns = feature_names()
        self.models: list[HistGradientBoostingClassifier | float] = []

    def _new(self) -> HistGradientBoostingClassifier:
        c = self.cfg
        return HistGradientBoostingClassifier(
            max_iter=c.max_iter,
            learning_rate=c.learning_rate,
            max_leaf_nodes=c.max_leaf_nodes,
            min_samples_leaf=c.min_samples_leaf,
            l2_regularization=c.l2_regularization,
            class_weight=c.class_weight,
            early_stopping=False,
            random_state=self.seed,
        )

    def fit(self, x: np.ndarray, y: np.ndarray) -> FeatureClassifier:
        targets = y[:, None] if self.task == 1 else y
        self.models = []
        for col in targets.T.astype(int):
            if col.min() == col.max():
                self.models.append(float(col[0]))
            else:
                self.models.append(self._new().fit(x, col))
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Task 1: (n, 2) normal/abnormal; task 2: (n, 12) per-class probabilities."""
        cols = [
            np.full(len(x), m) if isinstance(m, float) else m.predict_proba(x)[:, 1]
            for m in self.models
        ]
        p = np.stack(cols, axis=1)
        return np.concatenate([1 - p, p], axis=1) if self.task == 1 else p

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp:
            joblib.dump(self, tmp)

    @staticmethod
    def load(path: Path) -> FeatureClassifier:
        try:
            model = joblib.load(path)
        except Exception as exc:  # truncated or foreign pickle
            raise BadInputError(path, f"not a readable feature model ({exc})") from exc
        if not isinstance(model, FeatureClassifier):
            raise BadInputError(path, f"holds a {type(model).__name__}, not a FeatureClassifier")
        if model.columns != feature_names():
            raise BadInputError(path, "was trained on other features than this version computes")
        return model


class FeaturePredictor:
    """Signals (list of (12, n) mV arrays) -> probabilities, with one fold's model."""

    def __init__(self, path: Path):
        self.model = FeatureClassifier.load(path)

    def __call__(self, signals: list[np.ndarray]) -> np.ndarray:
        x = np.stack([record_features(s, FS) for s in signals])
        return self.model.predict_proba(x)


def train_feature_fold(cfg: ExperimentConfig, fold: int, out: Path):
    """Fit the feature model on every fold but ``fold``; score and save on ``fold``."""
    from .data import load_split

    task = cfg.data.task
    split = load_split(cfg, fold)
    records = Path(cfg.data.root) / "train"
    table, _ = feature_table(
        [records / f"{n}.mat" for n in split.train + split.val], cfg.run_dir / FEATURE_CACHE
    )
    x_train, x_val = table.loc[split.train].to_numpy(), table.loc[split.val].to_numpy()
    y_train = label_matrix(split.labels, split.train, task)
    y_one = y_train
    for layout in print_layouts(cfg.features.print_copies):
        show = AsPrint(1.0, layout, cfg.features.print_errors)
        seed, k = cfg.train.seed, zlib.crc32(layout.encode())
        errors = "_errors" if cfg.features.print_errors else ""
        cache = Path(FEATURE_CACHE)
        copies, _ = feature_table(
            [records / f"{n}.mat" for n in split.train],
            cfg.run_dir / f"{cache.stem}_{layout}{errors}{cache.suffix}",
            as_print=lambda name, sig, show=show, key=(seed, k): show.mask(
                sig, (*key, zlib.crc32(name.encode()))
            ),
        )
        x_train = np.concatenate([x_train, copies.loc[split.train].to_numpy()])
        y_train = np.concatenate([y_train, y_one])
    log.info(
        "fold %d: feature model on %d train / %d val records, %d features",
        fold,
        len(split.train),
        len(split.val),
        x_train.shape[1],
    )
    # train.cpu_threads (0: all cores) bounds the boosting's OpenMP threads: beside other
    # jobs on 2 cores, unbounded ones spun for 16 minutes on a fold that takes 12 s
    with threadpool_limits(cfg.train.cpu_threads or None, user_api="openmp"):
        model = FeatureClassifier(cfg.features, task, cfg.train.seed).fit(x_train, y_train)
        probs = model.predict_proba(x_val)
    metrics = task_metrics(task, probs, label_matrix(split.labels, split.val, task))
    log.info("fold %d: %s", fold, ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / CHECKPOINT)
    write_probs(out / VAL_PROBS, split.val, probs, task)
    with atomic_write(out / FOLD_STATE) as fh:
        json.dump({"epoch": 1, "best_epoch": 1, "history": [{"epoch": 1, **metrics}]}, fh)
    return FoldResult(fold, 1, {"epoch": 1, **metrics}, split.val, probs)
