"""Validation metrics of both tasks, from probabilities (scores as in ``evaluate``)."""

from __future__ import annotations

import numpy as np

from .evaluate import scores_task1, scores_task2


def task1_metrics(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """``probs`` (n, 2) softmax; ``y`` (n,) 0/1. F1 of "abnormal", accuracy, AUC."""
    return scores_task1(y, probs.argmax(axis=1), probs[:, 1])


def task2_metrics(probs: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """``probs`` (n, 12) sigmoid; ``y`` (n, 12) multi-hot. Macro/micro F1 at ``threshold``
    and macro AUC over the classes that have both positives and negatives."""
    scores = scores_task2(y, (probs >= threshold).astype(int), probs)
    scores.pop("per_class")
    return scores


def task_metrics(task: int, probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return task1_metrics(probs, y) if task == 1 else task2_metrics(probs, y)


def default_monitor(task: int) -> str:
    return "f1" if task == 1 else "macro_f1"
