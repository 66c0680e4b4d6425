"""Decision rules and threshold selection (pure numpy; hand-checkable cases)."""

from __future__ import annotations

import numpy as np

from ecgplot.decide import (
    apply_label_rules,
    choose_thresholds,
    decide_task1,
    decide_task2,
    heart_rate_rule,
)


def _row(**probs):
    p = np.full(12, 0.01)
    for key, value in probs.items():
        p[int(key[1:]) - 1] = value
    return p


def test_normal_excludes_every_other_label():
    probs = _row(c1=0.9, c10=0.7)
    assert decide_task2(probs[None], np.full(12, 0.5)) == [[10]]
    assert decide_task2(_row(c1=0.9)[None], np.full(12, 0.5)) == [[1]]


def test_brady_and_tachy_exclude_each_other():
    assert decide_task2(_row(c2=0.6, c3=0.8)[None], np.full(12, 0.5)) == [[3]]
    assert decide_task2(_row(c2=0.9, c3=0.8, c7=0.6)[None], np.full(12, 0.5)) == [[2, 7]]


def test_at_least_one_label():
    assert decide_task2(_row(c5=0.3, c12=0.4)[None], np.full(12, 0.5)) == [[12]]
    chosen = apply_label_rules(_row(), np.zeros(12, bool))
    assert chosen.sum() == 1


def test_per_class_thresholds_are_used():
    thresholds = np.full(12, 0.5)
    thresholds[5] = 0.2  # class 6
    assert decide_task2(_row(c6=0.3, c1=0.9)[None], thresholds) == [[6]]


def test_heart_rate_rule():
    chosen = np.zeros(12, bool)
    chosen[0] = True  # normal
    slow = heart_rate_rule(chosen, 48.0)
    assert slow[1] and not slow[0] and not slow[2]
    fast = heart_rate_rule(np.eye(12, dtype=bool)[1], 120.0)  # model said brady, HR says fast
    assert fast[2] and not fast[1]
    af = np.eye(12, dtype=bool)[4]
    assert (heart_rate_rule(af, 130.0) == af).all()  # AF is not a sinus rhythm
    assert (heart_rate_rule(chosen, float("nan")) == chosen).all()
    assert decide_task2(_row(c1=0.9)[None], np.full(12, 0.5), heart_rates=[130.0]) == [[3]]


def test_choose_thresholds_maximises_f1():
    # class 0 separable at 0.3..0.6; class 1 never positive keeps the default
    probs = np.array([[0.2, 0.1], [0.3, 0.2], [0.7, 0.3], [0.8, 0.9]])
    y = np.array([[0, 0], [0, 0], [1, 0], [1, 0]])
    t = choose_thresholds(probs, y)
    assert 0.3 < t[0] <= 0.7 and t[1] == 0.5
    assert ((probs[:, 0] >= t[0]) == y[:, 0]).all()


def test_decide_task1():
    probs = np.array([[0.8, 0.2], [0.4, 0.6], [0.5, 0.5]])
    assert decide_task1(probs) == [0, 1, 1]
    assert decide_task1(probs, threshold=0.55) == [0, 1, 0]
