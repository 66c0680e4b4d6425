"""Evaluation numbers on hand-checkable cases, bootstrap intervals, plots, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from ecgplot import aiwin
from ecgplot.evaluate import bootstrap_ci, evaluate, scores_task1

from .conftest import ROOT


def test_task1_hand_checkable(tmp_path):
    # TP=2 (A,B), FN=1 (C), FP=1 (D), TN=2 (E,F): precision 2/3, recall 2/3, F1 2/3
    truth = {"A": 1, "B": 1, "C": 1, "D": 0, "E": 0, "F": 0}
    names = list(truth)
    pred = [1, 1, 0, 1, 0, 0]
    probs = np.array([[0.1, 0.9], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1], [0.8, 0.2]])
    result = evaluate(1, truth, names, pred, probs, tmp_path, n_bootstrap=200)
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["accuracy"] == pytest.approx(4 / 6)
    # AUC: positives 0.9,0.8,0.4 vs negatives 0.7,0.1,0.2 -> 8 of 9 pairs ordered
    assert result["auc"] == pytest.approx(8 / 9)
    lo, hi = result["ci95"]["accuracy"]
    assert 0 <= lo <= 4 / 6 <= hi <= 1
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 5000
    assert (tmp_path / "roc_pr_curves.png").is_file()


def test_task2_per_class_and_macro(tmp_path):
    truth = {"A": [1], "B": [2, 10], "C": [10], "D": [5]}
    names = list(truth)
    labels = [[1], [2], [10], [10]]  # class 2: 1/1; class 10: TP C, FN B, FP D; class 5: FN
    result = evaluate(2, truth, names, labels, None, tmp_path, n_bootstrap=50)
    per = result["per_class"]
    assert per["2"]["f1"] == 1.0 and per["1"]["f1"] == 1.0
    assert per["10"]["precision"] == 0.5 and per["10"]["recall"] == 0.5
    assert per["5"]["recall"] == 0.0 and per["5"]["support"] == 1
    # macro over 12 classes: F1 1 (c1), 1 (c2), 0.5 (c10), 0 elsewhere
    assert result["macro_f1"] == pytest.approx(2.5 / 12)
    # micro: TP 3 (A, B2, C10), FP 1 (D10), FN 2 (B10, D5)
    assert result["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    assert (tmp_path / "per_class.png").is_file()


def test_bootstrap_interval_narrows_with_more_data():
    rng = np.random.default_rng(0)

    def width(n):
        y = rng.integers(0, 2, n)
        pred = np.where(rng.random(n) < 0.8, y, 1 - y)
        lo, hi = bootstrap_ci(scores_task1, (y, pred, None), n=300)["accuracy"]
        return hi - lo

    assert width(2000) < width(50) / 3


def test_evaluate_cli(tmp_path):
    labels = tmp_path / "ref.csv"
    aiwin.write_labels(labels, {"A": [1], "B": [3], "C": [2, 12]}, task=2)
    answer = tmp_path / "answer.csv"
    aiwin.write_labels(answer, {"A": [1], "B": [3], "C": [2]}, task=2)
    probs = tmp_path / "probs.csv"
    p = np.full((3, 12), 0.1)
    p[0, 0], p[1, 2], p[2, 1], p[2, 11] = 0.9, 0.8, 0.7, 0.4
    aiwin.write_probs(probs, ["A", "B", "C"], p, task=2)
    out = tmp_path / "eval"
    cmd = [
        sys.executable,
        str(ROOT / "evaluate.py"),
        "--task",
        "2",
        "--labels",
        str(labels),
        "--answer",
        str(answer),
        "--probs",
        str(probs),
        "--out",
        str(out),
        "--bootstrap",
        "50",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))
    aiwin.write_labels(answer, {"A": [1], "Z": [3]}, task=2)
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "records without a true label: Z" in run.stderr
