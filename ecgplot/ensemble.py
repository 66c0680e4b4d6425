"""Fuse the probabilities of several runs (and external probs files) into one answer.

Members bring out-of-fold probabilities (a run's ``oof_probs.csv``, or an external
file) and test probabilities (the run's ``probs.csv`` from ``predict.py``, predictions
made here from ``--data``, or an external file). The fusion is fitted on the
out-of-fold probabilities only:

- ``weights``: a convex combination of the members' logits, weights on a simplex grid
  chosen for the best (macro) AUC;
- ``class_weights``: the same per class (classes with fewer than 10 positives keep the
  global weights);
- ``mean``: equal weights;
- ``stack``: per class, a logistic regression on the members' logits.

The fused out-of-fold probabilities are cross-fitted (each fold fused by a fusion fitted
on the other folds), so their scores are honest; decision thresholds and the label rules
are then chosen on them, and the fusion refitted on all folds makes the test answer.
Members must cover the same records; runs must share their folds.

Picture-aware (``pictures=True``): each run also brings its out-of-fold probabilities
of digitised pictures of its records (``oof_picture_probs.csv``, ``predict.py --oof``),
and the fusion and thresholds are fitted on those rows and the MAT rows together (a
picture's row in its record's fold), so the weights and thresholds hold on pictures.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold

from .aiwin import (
    BadInputError,
    label_matrix,
    prob_columns,
    read_probs_frame,
    write_labels,
    write_probs,
)
from .atomic import atomic_write
from .decide import choose_thresholds, decide
from .evaluate import HEADLINE, decision_f1, headline
from .metrics import task_metrics
from .run_folder import OOF_PICTURE_PROBS, OOF_PROBS, picture_record, picture_tag

log = logging.getLogger(__name__)

METHODS = ("weights", "class_weights", "mean", "stack")
MIN_CLASS_CASES = 10  # class_weights: fewer positives (or negatives) keep the global weights
EPS = 1e-12  # a boosted member is sure to 1e-9: clipped at 1e-6 those tie (-0.003..-0.006 AUC)
# weights: the AUC is flat near its top; grid points this close to the best are ties, and
# the one nearest equal weights wins (chosen on noise, task-2 folds drew 0.3-0.6 and the
# cross-fitted fusion ranked 0.015-0.03 under the mean)
WEIGHT_TOLERANCE = 0.002


@dataclass
class Member:
    """One model's probabilities: out-of-fold, test (optional), and its folds (runs)."""

    label: str
    oof: pd.DataFrame
    test: pd.DataFrame | None = None
    folds: pd.Series | None = None
    pictures: pd.DataFrame | None = None  # out-of-fold probabilities of pictures


def table_task(frame: pd.DataFrame) -> int:
    return 1 if list(frame.columns) == prob_columns(1) else 2


def run_member(
    run: Path,
    data: Path | None = None,
    images: Path | None = None,
    digitized=None,
    pictures: bool = False,
) -> Member:
    """A run folder's out-of-fold probabilities and folds (with ``pictures``, those of
    pictures of its records too), and its test probabilities: predicted here from
    ``data`` (MAT folder) or ``images`` (pictures of prints, digitised, or already read:
    ``digitized``), else the run's ``probs.csv``."""
    from .infer import fold_of_records, load_run, predict_folder, predict_pictures  # paddle

    loaded = load_run(run)
    task = loaded.cfg.data.task
    oof_file = run / OOF_PROBS
    if not oof_file.is_file():
        raise BadInputError(run, "no oof_probs.csv: train the run with data.fold=all")
    oof = read_probs_frame(oof_file, task)
    folds = fold_of_records(loaded)
    test = None
    if data is not None or images is not None:
        if images is None:
            pred = predict_folder(loaded, data)
        else:
            pred = predict_pictures(loaded, images, digitized=digitized)
        if pred.bad:
            raise BadInputError(
                data, f"{len(pred.bad)} unreadable records, e.g. {next(iter(pred.bad))}"
            )
        test = pd.DataFrame(
            pred.probs, index=pd.Index(pred.names, name="name"), columns=oof.columns
        )
    elif (run / "probs.csv").is_file():
        test = read_probs_frame(run / "probs.csv", task)
    picture_table = None
    if pictures:
        if not (run / OOF_PICTURE_PROBS).is_file():
            raise BadInputError(
                run,
                f"no {OOF_PICTURE_PROBS}: run predict.py --run {run} --images "
                "PRINTS_OF_ITS_RECORDS --oof first",
            )
        picture_table = read_probs_frame(run / OOF_PICTURE_PROBS, task)
    return Member(str(run), oof, test, folds, picture_table)


def file_member(oof: Path, test: Path | None) -> Member:
    """External probabilities: an out-of-fold file and, optionally, a test file."""
    oof_table = read_probs_frame(oof)
    test_table = read_probs_frame(test, table_task(oof_table)) if test is not None else None
    return Member(str(oof), oof_table, test_table)


def check_members(members: list[Member]) -> int:
    """Same task, same out-of-fold records, same folds for runs, same test records.
    Returns the task."""
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two members")
    first = members[0]
    task = table_task(first.oof)
    for m in members[1:]:
        if table_task(m.oof) != task:
            raise BadInputError(
                m.label, f"is task {table_task(m.oof)}, {first.label} is task {task}"
            )
        if set(m.oof.index) != set(first.oof.index):
            only = sorted(set(m.oof.index) ^ set(first.oof.index))
            raise BadInputError(
                m.label,
                f"out-of-fold records differ from {first.label}'s ({len(only)} records in "
                f"one only, e.g. {', '.join(only[:5])})",
            )
    runs = [m for m in members if m.folds is not None]
    for m in runs[1:]:
        differ = (m.folds.reindex(runs[0].folds.index) != runs[0].folds).sum()
        if differ:
            raise BadInputError(
                m.label,
                f"folds differ from {runs[0].label}'s on {differ} records: train "
                "both with the same data.n_folds, data.split_seed and records",
            )
    with_pictures = [m for m in members if m.pictures is not None]
    if with_pictures:
        if len(with_pictures) != len(members):
            missing = next(m.label for m in members if m.pictures is None)
            raise BadInputError(missing, "has no out-of-fold probabilities of pictures")
        first_pictures = set(with_pictures[0].pictures.index)
        for m in with_pictures:
            if set(m.pictures.index) != first_pictures:
                raise BadInputError(m.label, f"its pictures differ from {with_pictures[0].label}'s")
            strays = sorted({picture_record(n) for n in m.pictures.index} - set(m.oof.index))
            if strays:
                raise BadInputError(m.label, f"pictures of records it has not: {strays[:5]}")
    tests = [m for m in members if m.test is not None]
    if tests and len(tests) != len(members):
        missing = [m.label for m in members if m.test is None]
        raise BadInputError(
            missing[0],
            "has no test probabilities: run predict.py on it, give --data, or "
            "pass a test probs file",
        )
    for m in tests[1:]:
        if set(m.test.index) != set(tests[0].test.index):
            raise BadInputError(m.label, f"test records differ from {tests[0].label}'s")
    return task


def _logits(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _scores(stack: np.ndarray, task: int) -> np.ndarray:
    """Per member, the class columns that carry information: task 1 P(abnormal) only."""
    return stack[..., 1:] if task == 1 else stack


def _to_probs(p: np.ndarray, task: int) -> np.ndarray:
    return np.concatenate([1 - p, p], axis=1) if task == 1 else p


def _auc(p: np.ndarray, y: np.ndarray, task: int) -> float:
    metrics = task_metrics(task, _to_probs(p, task), y)
    return metrics["auc"] if task == 1 else metrics["macro_auc"]


def simplex(n: int, step: float) -> np.ndarray:
    """All weight vectors of ``n`` members on a grid of ``step`` that sum to 1."""
    k = int(round(1 / step))
    return np.array(
        [np.array(c) / k for c in itertools.product(range(k + 1), repeat=n) if sum(c) == k]
    )


def _nearest_equal_at_top(grid: np.ndarray, aucs: np.ndarray) -> np.ndarray:
    """The grid point nearest equal weights among those within WEIGHT_TOLERANCE of the
    best AUC."""
    near_top = np.flatnonzero(aucs >= np.nanmax(aucs) - WEIGHT_TOLERANCE)
    spread = np.abs(grid[near_top] - 1 / grid.shape[1]).sum(axis=1)
    return grid[near_top[int(np.argmin(spread))]]


class Fusion:
    """Fitted on (members, records, classes) probabilities and the targets."""

    def __init__(self, method: str, task: int, step: float = 0.05):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.method, self.task, self.step = method, task, step
        self.weights: np.ndarray | None = None
        self.stackers: list = []

    def fit(self, stack: np.ndarray, y: np.ndarray) -> Fusion:
        z = _logits(_scores(stack, self.task))
        n = len(stack)
        if self.method == "mean":
            self.weights = np.full(n, 1 / n)
        elif self.method in ("weights", "class_weights"):
            grid = simplex(n, self.step if n <= 3 else 0.1)
            aucs = np.array(
                [_auc(1 / (1 + np.exp(-np.tensordot(w, z, 1))), y, self.task) for w in grid]
            )
            self.weights = _nearest_equal_at_top(grid, aucs)
            if self.method == "class_weights":
                self.weights = self._class_weights(grid, z, y)
        else:
            targets = y[:, None] if self.task == 1 else y
            self.stackers = []
            for c in range(z.shape[2]):
                col = targets[:, c]
                if col.min() == col.max():
                    self.stackers.append(float(col[0]))
                else:
                    self.stackers.append(LogisticRegression(C=1.0).fit(z[:, :, c].T, col))
        return self

    def _class_weights(self, grid: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(members, classes) weights: per class the grid point with the best AUC of that
        class (ties as in :func:`_nearest_equal_at_top`); classes with fewer than
        MIN_CLASS_CASES positives keep the global weights."""
        targets = y[:, None] if self.task == 1 else y
        weights = np.repeat(self.weights[:, None], z.shape[2], axis=1)
        for c in range(z.shape[2]):
            col = targets[:, c]
            if min(col.sum(), len(col) - col.sum()) < MIN_CLASS_CASES:
                continue
            aucs = np.array([roc_auc_score(col, np.tensordot(w, z[:, :, c], 1)) for w in grid])
            weights[:, c] = _nearest_equal_at_top(grid, aucs)
        return weights

    def predict(self, stack: np.ndarray) -> np.ndarray:
        z = _logits(_scores(stack, self.task))
        if self.method == "stack":
            cols = [
                np.full(z.shape[1], s)
                if isinstance(s, float)
                else s.predict_proba(z[:, :, c].T)[:, 1]
                for c, s in enumerate(self.stackers)
            ]
            p = np.stack(cols, axis=1)
        else:
            w = self.weights if self.weights.ndim == 2 else self.weights[:, None]
            p = 1 / (1 + np.exp(-np.einsum("mc,mnc->nc", w, z)))
        return _to_probs(p, self.task)

    def describe(self) -> dict:
        if self.method == "stack":
            return {
                "method": "stack",
                "coef": [s if isinstance(s, float) else s.coef_[0].tolist() for s in self.stackers],
            }
        return {"method": self.method, "weights": self.weights.tolist()}


@dataclass
class EnsembleResult:
    task: int
    names: list[str]
    oof: np.ndarray  # cross-fitted fused out-of-fold probabilities
    thresholds: np.ndarray
    fusion: Fusion
    member_metrics: dict[str, dict[str, float]]
    oof_metrics: dict[str, float]
    test_names: list[str]
    test: np.ndarray | None
    picture_names: list[str] = field(default_factory=list)
    picture_oof: np.ndarray | None = None  # the same for the pictures' rows
    member_picture_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    picture_metrics: dict[str, float] = field(default_factory=dict)
    picture_sets: pd.DataFrame | None = None  # :func:`picture_sets`, one row per tag


def picture_sets(
    task: int,
    members: list[str],
    stack: np.ndarray,
    fused: np.ndarray,
    y: np.ndarray,
    tags: list[str],
    thresholds: np.ndarray,
) -> pd.DataFrame:
    """For each set of pictures (the tag after ``@``: a layout, a condition), each
    member's and the fusion's threshold-free score (AUC / macro-AUC), the fusion minus
    its best member there, and the fusion's F1 at ``thresholds``: whether the fusion
    holds on every kind of picture, not only on all of them pooled."""
    key = HEADLINE[task]
    tags = np.asarray(tags)
    rows = {}
    for tag in sorted(set(tags)):
        at = np.flatnonzero(tags == tag)
        scores = [headline(task, y[at], s[at]) for s in stack]
        fusion = headline(task, y[at], fused[at])
        rows[tag] = {
            **{f"{label} {key}": v for label, v in zip(members, scores)},
            f"fusion {key}": fusion,
            "fusion minus best member": fusion - max(scores),
            "fusion f1": decision_f1(task, y[at], fused[at], thresholds),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("pictures")


def _record_folds(members: list[Member], names: list[str], n_folds: int) -> np.ndarray:
    """The runs' fold of each record, or for external files alone a k-fold split."""
    runs = [m for m in members if m.folds is not None]
    if runs:
        return runs[0].folds.reindex(names).to_numpy()
    folds = np.zeros(len(names), int)
    for k, (_, idx) in enumerate(KFold(n_folds, shuffle=True, random_state=0).split(names)):
        folds[idx] = k
    return folds


def ensemble(
    members: list[Member], labels: dict, method: str = "weights", n_folds: int = 5
) -> EnsembleResult:
    """Fit the fusion on the members' out-of-fold probabilities (of MAT records, and of
    pictures where the members bring them) and fuse their tests."""
    task = check_members(members)
    names = sorted(members[0].oof.index)
    missing = [n for n in names if n not in labels]
    if missing:
        raise BadInputError("labels", f"{len(missing)} records without labels, e.g. {missing[0]}")
    pictures = sorted(members[0].pictures.index) if members[0].pictures is not None else []
    records = names + [picture_record(p) for p in pictures]
    y = label_matrix(labels, records, task)
    stack = np.stack(
        [
            np.concatenate([m.oof.loc[names].to_numpy(), m.pictures.loc[pictures].to_numpy()])
            if pictures
            else m.oof.loc[names].to_numpy()
            for m in members
        ]
    )
    fold_of = dict(zip(names, _record_folds(members, names, n_folds)))
    folds = np.array([fold_of[r] for r in records])
    fused = np.zeros_like(stack[0])
    for k in np.unique(folds):
        held = folds == k
        fused[held] = Fusion(method, task).fit(stack[:, ~held], y[~held]).predict(stack[:, held])
    fusion = Fusion(method, task).fit(stack, y)
    y_multi = np.eye(2)[y] if task == 1 else y
    thresholds = choose_thresholds(fused, y_multi)
    n = len(names)

    def scores(part: slice) -> tuple[dict, dict]:
        members_scored = {
            m.label: task_metrics(task, s[part], y[part]) for m, s in zip(members, stack)
        }
        return members_scored, task_metrics(task, fused[part], y[part])

    member_metrics, oof_metrics = scores(slice(0, n))
    member_pictures, picture_metrics = scores(slice(n, None)) if pictures else ({}, {})
    sets = None
    if pictures:
        sets = picture_sets(
            task,
            [m.label for m in members],
            stack[:, n:],
            fused[n:],
            y[n:],
            [picture_tag(p) for p in pictures],
            thresholds,
        )
    test_names, test = [], None
    if members[0].test is not None:
        test_names = list(members[0].test.index)
        test = fusion.predict(np.stack([m.test.loc[test_names].to_numpy() for m in members]))
    return EnsembleResult(
        task,
        names,
        fused[:n],
        thresholds,
        fusion,
        member_metrics,
        oof_metrics,
        test_names,
        test,
        pictures,
        fused[n:] if pictures else None,
        member_pictures,
        picture_metrics,
        sets,
    )


def write_ensemble(result: EnsembleResult, answer: Path) -> None:
    """answer.csv (test decisions), probs.csv (fused test), oof_probs.csv (fused
    cross-fitted out-of-fold) and ensemble.json beside it."""
    out = answer.parent
    write_probs(out / "oof_probs.csv", result.names, result.oof, result.task)
    if result.picture_oof is not None:
        write_probs(out / OOF_PICTURE_PROBS, result.picture_names, result.picture_oof, result.task)
    if result.test is not None:
        write_probs(out / "probs.csv", result.test_names, result.test, result.task)
        labels = decide(result.test, result.task, result.thresholds)
        write_labels(answer, dict(zip(result.test_names, labels)), result.task)
    info = {
        "task": result.task,
        "fusion": result.fusion.describe(),
        "thresholds": result.thresholds.tolist(),
        "members": result.member_metrics,
        "oof": result.oof_metrics,
    }
    if result.picture_oof is not None:
        info["pictures"] = {
            "count": len(result.picture_names),
            "members": result.member_picture_metrics,
            "oof": result.picture_metrics,
        }
        frame = result.picture_sets.rename(columns=lambda c: c.replace(" ", "_"))
        info["pictures"]["by_set"] = frame.round(4).to_dict(orient="index")
    with atomic_write(out / "ensemble.json") as fh:
        json.dump(info, fh, indent=1)
