"""From probabilities to AIWIN labels: per-class thresholds and clinical label rules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score

NORMAL, BRADY, TACHY, AF = 0, 1, 2, 4  # column indices of classes 1, 2, 3 and 5
BRADY_BPM, TACHY_BPM = 60.0, 100.0
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


def choose_thresholds(probs: np.ndarray, y: np.ndarray, default: float = 0.5) -> np.ndarray:
    """Per-class threshold maximising that class's F1 on held-out predictions.

    Use validation or out-of-fold predictions, never the data being scored. Classes
    without positives keep ``default``.
    """
    thresholds = np.full(probs.shape[1], default)
    for c in range(probs.shape[1]):
        if y[:, c].sum() == 0:
            continue
        scores = [f1_score(y[:, c], probs[:, c] >= t, zero_division=0) for t in THRESHOLD_GRID]
        thresholds[c] = THRESHOLD_GRID[int(np.argmax(scores))]
    return thresholds


def apply_label_rules(probs: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Make one record's boolean decisions (12,) consistent:

    - bradycardia and tachycardia exclude each other (the more probable stays);
    - "normal" excludes every other label: if others are chosen, normal is dropped;
    - at least one label: the most probable class when nothing passed its threshold.
    """
    out = chosen.copy()
    if out[BRADY] and out[TACHY]:
        out[BRADY if probs[BRADY] < probs[TACHY] else TACHY] = False
    if out[NORMAL] and out[np.arange(len(out)) != NORMAL].any():
        out[NORMAL] = False
    if not out.any():
        out[int(np.argmax(probs))] = True
    return out


def heart_rate_rule(chosen: np.ndarray, bpm: float) -> np.ndarray:
    """Set or clear sinus bradycardia (< 60 bpm) and tachycardia (> 100 bpm) from the
    measured heart rate, only for rhythms the model called sinus-like (no AF)."""
    out = chosen.copy()
    if not np.isfinite(bpm) or out[AF]:  # atrial fibrillation is not a sinus rhythm
        return out
    out[BRADY] = bpm < BRADY_BPM
    out[TACHY] = bpm > TACHY_BPM
    if out[BRADY] or out[TACHY]:
        out[NORMAL] = False
    return out


def decide_task2(
    probs: np.ndarray, thresholds: np.ndarray, heart_rates: Sequence[float] | None = None
) -> list[list[int]]:
    """Label ids (1-12) per record from sigmoid probabilities (n, 12)."""
    labels = []
    for i, row in enumerate(probs):
        chosen = row >= thresholds
        if heart_rates is not None:
            chosen = heart_rate_rule(chosen, heart_rates[i])
        chosen = apply_label_rules(row, chosen)
        labels.append([int(c) + 1 for c in np.flatnonzero(chosen)])
    return labels


def decide_task1(probs: np.ndarray, threshold: float = 0.5) -> list[int]:
    """Tag 1 (abnormal) when P(abnormal) reaches ``threshold``; ``probs`` is (n, 2)."""
    return [int(p >= threshold) for p in probs[:, 1]]


def decide(
    probs: np.ndarray,
    task: int,
    thresholds: np.ndarray | None = None,
    heart_rates: Sequence[float] | None = None,
) -> list:
    """Competition labels of each record from its probabilities, with a run's decision
    thresholds (0.5 for every class without them) and, for task 2, the label rules."""
    if thresholds is None:
        thresholds = np.full(probs.shape[1], 0.5)
    if task == 1:
        return decide_task1(probs, float(thresholds[1]))
    return decide_task2(probs, thresholds, heart_rates)
