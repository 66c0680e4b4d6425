"""Stratified k-fold assignment: plain for task 1, multi-label (iterative) for task 2."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.model_selection import StratifiedKFold

from .aiwin import label_matrix


def assign_folds(
    labels: Mapping[str, int | Sequence[int]], task: int, n_folds: int = 5, seed: int = 42
) -> dict[str, int]:
    """Map each record name to a fold 0..n_folds-1, stratified on its labels.

    Task 1 stratifies on the tag; task 2 on all 12 classes at once (iterative
    stratification), so rare classes spread over the folds.
    """
    names = sorted(labels)
    if len(names) < n_folds:
        raise ValueError(f"{len(names)} labelled records cannot fill {n_folds} folds")
    y = label_matrix(labels, names, task)
    if task == 1:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        splitter = MultilabelStratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    folds = np.empty(len(names), dtype=int)
    for k, (_, val_idx) in enumerate(splitter.split(np.zeros(len(names)), y)):
        folds[val_idx] = k
    return {n: int(f) for n, f in zip(names, folds)}
