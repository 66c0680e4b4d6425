"""Picture-aware fusion: a run's out-of-fold probabilities of pictures of its own records
(predict.py --oof, each by the fold that held the record out) and ensemble.py
--fit-pictures, whose weights and thresholds are fitted on those rows and the MAT rows
together. Pictures drawn by the independent drawer (drawers/printsim.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from drawers.printsim import PrintStyle, draw_print
from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.decide import decide
from ecgplot.digitize import digitize_picture
from ecgplot.ensemble import Member, ensemble, run_member, write_ensemble
from ecgplot.infer import (
    fold_of_records,
    load_predictors,
    load_run,
    predict_signals,
    write_picture_oof,
)
from ecgplot.run_folder import OOF_PICTURE_PROBS
from ecgplot.trainer import fit

from .conftest import ROOT
from .test_features import features_config

NAMES = ("00008_hr", "A0689", "JS03291", "00001_hr")


def _draw(physionet_t2, folder, layouts=("3x4", "6x2")):
    """Clean prints of NAMES, one picture per layout, named NAME@LAYOUT.png."""
    folder.mkdir(parents=True)
    for name in NAMES:
        signal = aiwin.read_record(physionet_t2 / "train" / f"{name}.mat").signal
        for layout in layouts:
            style = PrintStyle(layout=layout, rhythm=("II",) if layout == "3x4" else ())
            img = draw_print(signal, style).image
            cv2.imwrite(str(folder / f"{name}@{layout}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return folder


@pytest.fixture(scope="module")
def runs_with_pictures(physionet_t2, tmp_path_factory):
    """Two k-fold feature runs (same folds) and prints of four of their records."""
    tmp = tmp_path_factory.mktemp("pictures_oof")
    runs = []
    for name, extra in (("a", []), ("b", ["features.learning_rate=0.2"])):
        cfg = features_config(physionet_t2, tmp, 2, f"name={name}", *extra)
        fit(cfg)
        runs.append(cfg.run_dir)
    return runs, _draw(physionet_t2, tmp / "pictures")


def test_each_picture_is_predicted_by_the_fold_that_held_its_record_out(
    runs_with_pictures, tmp_path
):
    runs, pictures = runs_with_pictures
    proc = subprocess.run(
        [sys.executable, str(ROOT / "predict.py"), "--run", str(runs[0]), "--images",
         str(pictures), "--oof"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-800:]
    table = aiwin.read_probs_frame(runs[0] / OOF_PICTURE_PROBS, 2)
    assert sorted(table.index) == sorted(f"{n}@{lay}" for n in NAMES for lay in ("3x4", "6x2"))
    run = load_run(runs[0])
    folds, predictors = fold_of_records(run), load_predictors(run)
    assert len(set(folds[n] for n in NAMES)) > 1  # the pictures span several folds
    for picture in ("00008_hr@6x2", "JS03291@3x4"):
        img = cv2.cvtColor(cv2.imread(str(pictures / f"{picture}.png")), cv2.COLOR_BGR2RGB)
        signal = digitize_picture(img, picture).signal
        k = run.folds.index(folds[picture.split("@")[0]])
        held_out = predict_signals([predictors[k]], [signal], run.cfg)[0]
        assert np.allclose(table.loc[picture].to_numpy(), held_out, atol=1e-5)
        others = [predict_signals([p], [signal], run.cfg)[0] for j, p in enumerate(predictors)]
        assert sum(np.allclose(table.loc[picture].to_numpy(), o, atol=1e-5) for o in others) == 1
    # a second folder adds its rows and replaces those of the same pictures
    again = _draw(aiwin_data(runs[0]), tmp_path / "again", layouts=("12x1",))
    path, frame, _ = write_picture_oof(run, again)
    assert len(frame) == len(NAMES) and len(aiwin.read_probs_frame(path, 2)) == 3 * len(NAMES)
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "nobody@3x4.png").write_bytes((pictures / "A0689@3x4.png").read_bytes())
    with pytest.raises(BadInputError, match="no record the run held out"):
        write_picture_oof(run, stray)


def aiwin_data(run_dir):
    """The dataset folder a run was trained on."""
    return Path(load_run(run_dir).cfg.data.root)


def test_ensemble_fits_on_pictures_too(runs_with_pictures, tmp_path):
    runs, pictures = runs_with_pictures
    for run in runs:  # the same pictures for both (the test above added more to one)
        (run / OOF_PICTURE_PROBS).unlink(missing_ok=True)
        write_picture_oof(load_run(run), pictures)
    labels = aiwin.read_labels(aiwin_data(runs[0]) / "trainreference.csv", 2)
    result = ensemble([run_member(r, pictures=True) for r in runs], labels, "mean")
    assert result.picture_oof.shape == (len(result.picture_names), 12)
    assert set(result.picture_metrics) == set(result.oof_metrics)
    assert set(result.member_picture_metrics) == {str(r) for r in runs}
    with pytest.raises(BadInputError, match="no out-of-fold probabilities of pictures"):
        ensemble([run_member(runs[0], pictures=True), run_member(runs[1])], labels)
    out = tmp_path / "fused" / "answer.csv"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "ensemble.py"), "--runs", *map(str, runs),
         "--fit-pictures", "--method", "mean", "--out", str(out)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-800:]
    info = json.loads((out.parent / "ensemble.json").read_text())
    assert info["pictures"]["count"] == len(result.picture_names)
    assert (out.parent / OOF_PICTURE_PROBS).is_file()


def test_thresholds_fitted_on_pictures_hold_on_pictures(physionet_t1):
    """Real task-1 labels; two members that separate the MAT records well and read
    every picture lower (a digitised print hides what made a record abnormal), so low
    that no threshold serves both: thresholds chosen on the MAT rows alone call no
    picture abnormal (F1 0 on pictures); chosen on both rows they trade some MAT F1 for
    the pictures', so the worse of the two is far better."""
    labels = aiwin.read_labels(physionet_t1 / "trainreference.csv", 1)
    names = sorted(labels)
    y = aiwin.label_matrix(labels, names, 1)
    assert 3 <= y.sum() <= len(y) - 3
    rng = np.random.default_rng(0)
    index = pd.Index(names, name="name")
    pics = pd.Index([f"{n}@3x4" for n in names], name="name")
    cols = aiwin.prob_columns(1)

    def member(label: str) -> Member:
        p_mat = np.clip(0.45 + 0.45 * y + rng.normal(0, 0.03, len(y)), 0.01, 0.99)
        p_pic = 0.45 * p_mat
        return Member(
            label,
            pd.DataFrame(np.c_[1 - p_mat, p_mat], index=index, columns=cols),
            pictures=pd.DataFrame(np.c_[1 - p_pic, p_pic], index=pics, columns=cols),
        )

    members = [member("a"), member("b")]
    both = ensemble(members, labels, "mean", n_folds=3)
    mat_only = ensemble([Member(m.label, m.oof) for m in members], labels, "mean", n_folds=3)

    def f1(thresholds, probs):
        return f1_score(y, decide(probs, 1, thresholds))

    mat_only_f1 = (f1(mat_only.thresholds, mat_only.oof), f1(mat_only.thresholds, both.picture_oof))
    both_f1 = (f1(both.thresholds, both.oof), f1(both.thresholds, both.picture_oof))
    assert mat_only_f1[0] > 0.9 and mat_only_f1[1] < 0.2
    assert both_f1[1] > 0.8 and min(both_f1) >= min(mat_only_f1) + 0.4


def test_the_fusion_is_scored_on_each_set_of_pictures(physionet_t1, tmp_path):
    """Real task-1 labels; member a reads 3x4 pictures well and 6x2 pictures not at all,
    member b the other way round: pooled over all pictures both look middling, but the
    per-set table shows each member's strength where it is, the fusion against the best
    member of each set, and its F1 there at the fitted thresholds; ensemble.json has it."""
    labels = aiwin.read_labels(physionet_t1 / "trainreference.csv", 1)
    names = sorted(labels)
    y = aiwin.label_matrix(labels, names, 1)
    rng = np.random.default_rng(1)
    cols = aiwin.prob_columns(1)

    def probs(good: bool) -> np.ndarray:
        p = 0.3 + 0.4 * y + rng.normal(0, 0.1, len(y)) if good else rng.random(len(y))
        p = np.clip(p, 0.01, 0.99)
        return np.c_[1 - p, p]

    def member(label: str, good_on: str) -> Member:
        rows = [f"{n}@{tag}" for tag in ("3x4", "6x2") for n in names]
        pics = np.concatenate([probs(good_on == "3x4"), probs(good_on == "6x2")])
        return Member(
            label,
            pd.DataFrame(probs(True), index=pd.Index(names, name="name"), columns=cols),
            pictures=pd.DataFrame(pics, index=rows, columns=cols),
        )

    result = ensemble([member("a", "3x4"), member("b", "6x2")], labels, "mean", n_folds=3)
    sets = result.picture_sets
    assert list(sets.index) == ["3x4", "6x2"]
    assert sets.loc["3x4", "a auc"] > 0.9 and sets.loc["6x2", "a auc"] < 0.75
    assert sets.loc["6x2", "b auc"] > 0.9 and sets.loc["3x4", "b auc"] < 0.75
    for tag in ("3x4", "6x2"):
        at = [i for i, n in enumerate(result.picture_names) if n.endswith(f"@{tag}")]
        fused = result.picture_oof[at]
        y_at = aiwin.label_matrix(labels, [result.picture_names[i][:-4] for i in at], 1)
        assert sets.loc[tag, "fusion auc"] == pytest.approx(roc_auc_score(y_at, fused[:, 1]))
        best = max(sets.loc[tag, "a auc"], sets.loc[tag, "b auc"])
        assert sets.loc[tag, "fusion minus best member"] == pytest.approx(
            sets.loc[tag, "fusion auc"] - best
        )
        assert sets.loc[tag, "fusion f1"] == pytest.approx(
            f1_score(y_at, decide(fused, 1, result.thresholds))
        )
    write_ensemble(result, tmp_path / "answer.csv")
    info = json.loads((tmp_path / "ensemble.json").read_text())
    assert info["pictures"]["by_set"]["6x2"]["b_auc"] == round(sets.loc["6x2", "b auc"], 4)
