"""Validation metrics of both tasks (scikit-learn)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score


def task1_metrics(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """``probs`` (n, 2) softmax; ``y`` (n,) 0/1. F1 of "abnormal", accuracy, AUC."""
    pred = probs.argmax(axis=1)
    out = {"f1": f1_score(y, pred, zero_division=0), "accuracy": accuracy_score(y, pred)}
    out["auc"] = roc_auc_score(y, probs[:, 1]) if len(np.unique(y)) == 2 else float("nan")
    return {k: float(v) for k, v in out.items()}


def task2_metrics(probs: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """``probs`` (n, 12) sigmoid; ``y`` (n, 12) multi-hot. Macro/micro F1 at ``threshold``
    and macro AUC over the classes that have both positives and negatives."""
    pred = (probs >= threshold).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            "macro_f1": f1_score(y, pred, average="macro", zero_division=0),
            "micro_f1": f1_score(y, pred, average="micro", zero_division=0),
        }
    scorable = [c for c in range(y.shape[1]) if 0 < y[:, c].sum() < len(y)]
    out["macro_auc"] = (
        float(np.mean([roc_auc_score(y[:, c], probs[:, c]) for c in scorable]))
        if scorable
        else float("nan")
    )
    return {k: float(v) for k, v in out.items()}


def task_metrics(task: int, probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return task1_metrics(probs, y) if task == 1 else task2_metrics(probs, y)


def default_monitor(task: int) -> str:
    return "f1" if task == 1 else "macro_f1"
