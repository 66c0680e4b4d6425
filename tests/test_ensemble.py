"""ensemble.py: fusion fitted on out-of-fold probabilities, mismatched members refused."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.ensemble import Fusion, Member, ensemble, file_member, run_member, simplex
from ecgplot.infer import load_run, predict_folder, write_prediction
from ecgplot.trainer import fit

from .conftest import ROOT
from .test_features import features_config


@pytest.fixture(scope="module")
def two_runs(physionet_t2, tmp_path_factory):
    """Two k-fold feature-model runs on the fixture records (same folds, other settings),
    each with test probabilities written by the prediction path."""
    tmp = tmp_path_factory.mktemp("ens")
    runs = []
    for name, extra in (("a", []), ("b", ["features.learning_rate=0.2", "features.max_iter=10"])):
        cfg = features_config(physionet_t2, tmp, 2, f"name={name}", *extra)
        fit(cfg)
        run = load_run(cfg.run_dir)
        pred = predict_folder(run, physionet_t2 / "train")
        write_prediction(pred, 2, cfg.run_dir / "answer.csv", cfg.run_dir / "probs.csv")
        runs.append(cfg.run_dir)
    return runs, physionet_t2


def test_simplex_grid():
    grid = simplex(3, 0.5)
    assert len(grid) == 6 and np.allclose(grid.sum(axis=1), 1) and (grid >= 0).all()


def test_weights_favour_the_informative_member(physionet_t2):
    """Real labels; one member knows them (noisily), the other is noise: the fitted
    weights go to the first (as far from equal as the AUC's flat top allows), and the
    cross-fitted fused AUC follows it."""
    labels = aiwin.read_labels(physionet_t2 / "trainreference.csv", 2)
    names = sorted(labels)
    y = aiwin.label_matrix(labels, names, 2)
    rng = np.random.default_rng(0)
    good = np.clip(0.7 * y + 0.3 * rng.random(y.shape), 0, 1)
    noise = rng.random(y.shape)
    index = pd.Index(names, name="name")
    cols = aiwin.prob_columns(2)
    members = [
        Member("good", pd.DataFrame(good, index=index, columns=cols)),
        Member("noise", pd.DataFrame(noise, index=index, columns=cols)),
    ]
    result = ensemble(members, labels, "weights", n_folds=3)
    assert result.fusion.weights[0] >= 0.7
    assert result.oof_metrics["macro_auc"] > result.member_metrics["noise"]["macro_auc"] + 0.2
    per_class = Fusion("class_weights", 2).fit(np.stack([good, noise]), y)
    assert per_class.weights.shape == (2, 12) and (per_class.weights[0] >= 0.5).all()
    mean = Fusion("mean", 2).fit(np.stack([good, noise]), y)
    assert np.allclose(mean.weights, 0.5)


def test_equally_good_members_get_equal_weights_in_every_fold(physionet_t2):
    """Two members as good as each other (the fixture's real label sets, 20 records
    each, two independent noisy scorings): the fused AUC is flat around equal weights,
    so every fold's fit takes them, and the cross-fitted fusion ranks as the mean does.
    Weights chosen on noise differ from fold to fold and mix logits of different scales."""
    labels0 = aiwin.read_labels(physionet_t2 / "trainreference.csv", 2)
    labels = {f"{n}_{k}": tags for n, tags in labels0.items() for k in range(20)}
    names = sorted(labels)
    y = aiwin.label_matrix(labels, names, 2)
    index, cols = pd.Index(names, name="name"), aiwin.prob_columns(2)
    for seed in range(6):
        rng = np.random.default_rng(seed)
        members = [
            Member(f"m{i}", pd.DataFrame(sure(y, rng), index=index, columns=cols)) for i in range(2)
        ]
        weights = ensemble(members, labels, "weights", n_folds=5)
        mean = ensemble(members, labels, "mean", n_folds=5)
        assert np.allclose(weights.fusion.weights, 0.5), (seed, weights.fusion.weights)
        assert weights.oof_metrics["macro_auc"] == pytest.approx(mean.oof_metrics["macro_auc"])


def sure(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A confident member: logits -12 to +8 around the labels, noise of 0.7."""
    return 1 / (1 + np.exp(-(8 * (y + rng.normal(0, 0.7, y.shape)) - 12)))


def test_the_fusion_keeps_a_sure_members_ranking_under_one_in_a_million(physionet_t2):
    """A boosted model is sure of most negatives (probabilities of 1e-9 to 1e-7, the
    task-2 feature model's on half its values): their order still counts in the fused
    logits, beside a member that knows nothing."""
    labels = aiwin.read_labels(physionet_t2 / "trainreference.csv", 2)
    names = sorted(labels)
    y = aiwin.label_matrix(labels, names, 2)
    rng = np.random.default_rng(1)
    sure = 1e-9 * (1 + 50 * y + 10 * rng.random(y.shape))  # informative, all under 1e-6
    flat = np.full(y.shape, 0.3)
    index = pd.Index(names, name="name")
    cols = aiwin.prob_columns(2)
    members = [
        Member("sure", pd.DataFrame(sure, index=index, columns=cols)),
        Member("flat", pd.DataFrame(flat, index=index, columns=cols)),
    ]
    result = ensemble(members, labels, "mean", n_folds=3)
    own = result.member_metrics["sure"]["macro_auc"]
    assert own > 0.9
    assert result.oof_metrics["macro_auc"] == pytest.approx(own, abs=1e-9)


def test_runs_fuse_and_answer(two_runs, tmp_path):
    runs, data = two_runs
    answer = tmp_path / "fused" / "answer.csv"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "ensemble.py"),
            "--runs",
            *map(str, runs),
            "--out",
            str(answer),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads((answer.parent / "ensemble.json").read_text())
    assert info["fusion"]["method"] == "weights" and sum(
        info["fusion"]["weights"]
    ) == pytest.approx(1)
    assert len(info["thresholds"]) == 12 and set(info["members"]) == {str(r) for r in runs}
    answers = aiwin.read_labels(answer, 2)  # competition format: NAME,l1[,l2...]
    truth = aiwin.read_labels(data / "trainreference.csv", 2)
    assert set(answers) == set(truth)
    fused = pd.read_csv(answer.parent / "probs.csv", index_col="name")
    w = info["fusion"]["weights"]
    p = [pd.read_csv(r / "probs.csv", index_col="name").loc[fused.index].to_numpy() for r in runs]
    logit = sum(
        wi * np.log(np.clip(pi, 1e-6, 1 - 1e-6) / (1 - np.clip(pi, 1e-6, 1 - 1e-6)))
        for wi, pi in zip(w, p)
    )
    np.testing.assert_allclose(fused.to_numpy(), 1 / (1 + np.exp(-logit)), atol=2e-6)
    oof = pd.read_csv(answer.parent / "oof_probs.csv", index_col="name")
    assert len(oof) == len(truth) and oof.notna().all().all()


def test_external_probs_join_and_stack(two_runs, tmp_path):
    runs, data = two_runs
    labels = aiwin.read_labels(data / "trainreference.csv", 2)
    members = [run_member(runs[0]), file_member(runs[1] / "oof_probs.csv", runs[1] / "probs.csv")]
    result = ensemble(members, labels, "stack")
    assert result.test is not None and result.test.shape == (len(labels), 12)
    assert ((result.test >= 0) & (result.test <= 1)).all()


def test_mismatched_members_are_refused(two_runs, physionet_t2, tmp_path):
    runs, data = two_runs
    labels = aiwin.read_labels(data / "trainreference.csv", 2)
    # other folds: same records, another split seed
    cfg = features_config(physionet_t2, tmp_path, 2, "name=c", "data.split_seed=7")
    fit(cfg)
    with pytest.raises(BadInputError, match="folds differ"):
        ensemble([run_member(runs[0]), run_member(cfg.run_dir)], labels)
    # other records: an external file missing one record
    oof = pd.read_csv(runs[1] / "oof_probs.csv").iloc[1:]
    short = tmp_path / "short.csv"
    oof.to_csv(short, index=False)
    with pytest.raises(BadInputError, match="out-of-fold records differ"):
        ensemble([run_member(runs[0]), file_member(short, None)], labels)
    # the CLI says so and exits 2
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "ensemble.py"),
            "--runs",
            str(runs[0]),
            str(cfg.run_dir),
            "--out",
            str(tmp_path / "answer.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "folds differ" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "answer.csv").exists()
