"""Score predictions against a labels CSV: metrics, bootstrap confidence intervals, plots."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    RocCurveDisplay,
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from .aiwin import CLASS_NAMES, BadInputError, label_matrix
from .decide import decide
from .plots import plt, save_figure  # plots selects the Agg backend


def align(truth: dict, names: list[str], source: Path) -> list[str]:
    """Names present in both; predictions of unknown records are an error."""
    unknown = sorted(set(names) - set(truth))
    if unknown:
        raise BadInputError(source, f"records without a true label: {', '.join(unknown[:10])}")
    missing = sorted(set(truth) - set(names))
    if missing:
        warnings.warn(f"{len(missing)} labelled records have no prediction", stacklevel=2)
    return names


def _safe_auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def scores_task1(y: np.ndarray, pred: np.ndarray, p_abnormal: np.ndarray | None) -> dict:
    out = {"f1": f1_score(y, pred, zero_division=0), "accuracy": accuracy_score(y, pred)}
    if p_abnormal is not None:
        out["auc"] = _safe_auc(y, p_abnormal)
    return {k: float(v) for k, v in out.items()}


def scores_task2(y: np.ndarray, pred: np.ndarray, probs: np.ndarray | None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, support = precision_recall_fscore_support(y, pred, zero_division=0)
        out = {
            "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
            "micro_f1": float(f1_score(y, pred, average="micro", zero_division=0)),
        }
    per_class = {}
    for c in range(y.shape[1]):
        per_class[str(c + 1)] = {
            "name": CLASS_NAMES[c],
            "support": int(support[c]),
            "precision": float(p[c]),
            "recall": float(r[c]),
            "f1": float(f[c]),
            "auc": _safe_auc(y[:, c], probs[:, c]) if probs is not None else float("nan"),
        }
    if probs is not None:
        aucs = [v["auc"] for v in per_class.values() if np.isfinite(v["auc"])]
        out["macro_auc"] = float(np.mean(aucs)) if aucs else float("nan")
    out["per_class"] = per_class
    return out


def bootstrap_ci(
    fn, arrays: tuple[np.ndarray | None, ...], n: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval of every scalar that ``fn(*arrays)`` returns."""
    rng = np.random.default_rng(seed)
    size = len(arrays[0])
    samples: dict[str, list[float]] = {}
    for _ in range(n):
        idx = rng.integers(0, size, size)
        result = fn(*(a[idx] if a is not None else None for a in arrays))
        for k, v in result.items():
            if isinstance(v, float):
                samples.setdefault(k, []).append(v)
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {
        k: (float(np.nanpercentile(v, lo)), float(np.nanpercentile(v, hi)))
        for k, v in samples.items()
    }


HEADLINE = {1: "auc", 2: "macro_auc"}  # the threshold-free score of each task


def headline(task: int, y: np.ndarray, probs: np.ndarray) -> float:
    """Task 1 AUC of the abnormal probability, task 2 macro-AUC over the classes."""
    if task == 1:
        return scores_task1(y, probs.argmax(1), probs[:, 1])["auc"]
    return scores_task2(y, (probs > 0.5).astype(int), probs)["macro_auc"]


def decision_f1(task: int, y: np.ndarray, probs: np.ndarray, thresholds: np.ndarray) -> float:
    """F1 of the decisions at ``thresholds`` (task 2: macro-F1, after the label rules)."""
    labels = decide(probs, task, thresholds)
    if task == 1:
        return scores_task1(y, np.array(labels), None)["f1"]
    names = [str(i) for i in range(len(labels))]
    return scores_task2(y, label_matrix(dict(zip(names, labels)), names, task), None)["macro_f1"]


def paired_difference(
    task: int, y: np.ndarray, a: np.ndarray, b: np.ndarray, n: int = 1000
) -> tuple[float, float, float]:
    """Headline score of probabilities ``a`` minus that of ``b`` on the same records:
    (difference, bootstrap 95% low, high), the records resampled together."""
    point = headline(task, y, a) - headline(task, y, b)
    lo, hi = bootstrap_ci(
        lambda y, a, b: {"d": headline(task, y, a) - headline(task, y, b)}, (y, a, b), n
    )["d"]
    return point, lo, hi


def evaluate(
    task: int,
    truth: dict,
    names: list[str],
    labels: list,
    probs: np.ndarray | None,
    out_dir: Path,
    n_bootstrap: int = 1000,
) -> dict:
    """Metrics (+ 95% bootstrap CI) of predicted ``labels`` (and ``probs``), with PNGs:
    task 1 confusion matrix, task 2 per-class F1/AUC bars; ROC and PR curves when
    probabilities are given."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if task == 1:
        y = label_matrix(truth, names, task)
        pred = np.array(labels)
        score = probs[:, 1] if probs is not None else None
        result = scores_task1(y, pred, score)
        result["ci95"] = bootstrap_ci(scores_task1, (y, pred, score), n_bootstrap)
        fig, ax = plt.subplots(figsize=(4, 4))
        ConfusionMatrixDisplay.from_predictions(
            y, pred, labels=[0, 1], display_labels=["normal", "abnormal"], ax=ax, colorbar=False
        )
        save_figure(fig, out_dir / "confusion_matrix.png")
        if score is not None and 0 < y.sum() < len(y):  # curves need both classes
            _curves(out_dir, [(y, score, "abnormal")])
    else:
        y = label_matrix(truth, names, task)
        pred = label_matrix(dict(zip(names, labels)), names, task)
        result = scores_task2(y, pred, probs)
        result["ci95"] = bootstrap_ci(scores_task2, (y, pred, probs), n_bootstrap)
        _per_class_plot(out_dir / "per_class.png", result["per_class"])
        if probs is not None:
            cols = [c for c in range(12) if 0 < y[:, c].sum() < len(y)]
            _curves(out_dir, [(y[:, c], probs[:, c], f"{c + 1} {CLASS_NAMES[c]}") for c in cols])
    result["n"] = len(names)
    return result


def _per_class_plot(path: Path, per_class: dict) -> None:
    ids = list(per_class)
    x = np.arange(len(ids))
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.bar(x - 0.2, [per_class[i]["f1"] for i in ids], 0.4, label="F1")
    ax.bar(x + 0.2, [np.nan_to_num(per_class[i]["auc"]) for i in ids], 0.4, label="AUC")
    ax.set_xticks(
        x,
        [f"{i} {per_class[i]['name']}\n(n={per_class[i]['support']})" for i in ids],
        rotation=45,
        ha="right",
        fontsize=7,
    )
    ax.set_ylim(0, 1)
    ax.legend()
    save_figure(fig, path)


def _curves(out_dir: Path, series: list[tuple[np.ndarray, np.ndarray, str]]) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for y, score, name in series:
        RocCurveDisplay.from_predictions(y, score, name=name, ax=axes[0])
        PrecisionRecallDisplay.from_predictions(y, score, name=name, ax=axes[1])
    for ax in axes:
        ax.legend(fontsize=6)
    save_figure(fig, out_dir / "roc_pr_curves.png")
