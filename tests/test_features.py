"""The signal-feature model on real records: features, cache, train/predict round trip."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.experiment import load_experiment
from ecgplot.feature_model import FeatureClassifier
from ecgplot.features import BEAT_OFFSETS_MS, feature_names, feature_table, record_features
from ecgplot.infer import load_run, predict_folder
from ecgplot.signal import heart_rate_present
from ecgplot.trainer import fit

from .conftest import ROOT


def features_config(data, out, task: int = 2, *extra: str):
    return load_experiment(
        ROOT / "configs" / f"features_task{task}.yaml",
        [
            f"data.root={data}",
            f"output_dir={out}",
            "data.n_folds=3",
            "features.max_iter=30",
            "features.min_samples_leaf=3",
            *extra,
        ],
    )


def test_rhythm_features_match_the_labels(physionet_t2):
    names = feature_names()
    assert len(names) == 11 + 12 * 5 + 12 * len(BEAT_OFFSETS_MS) and len(set(names)) == len(names)

    def feats(name):
        signal = aiwin.read_record(physionet_t2 / "train" / f"{name}.mat").signal
        return dict(zip(names, record_features(signal)))

    brady, tachy, normal, af = (
        feats("00002_hr"),
        feats("00103_hr"),
        feats("00001_hr"),
        feats("A0689"),
    )
    assert brady["hr_mean"] < 60 < normal["hr_mean"] < 100 < tachy["hr_mean"]
    assert brady["beats"] < normal["beats"] < tachy["beats"]
    assert af["rr_irregular"] > 0.1 and normal["rr_irregular"] == 0  # AF: irregular RR
    # the average beat peaks at the R peak in lead II (offset 0 ms)
    ii = [normal[f"II_beat_{ms:+d}ms"] for ms in BEAT_OFFSETS_MS]
    assert BEAT_OFFSETS_MS[int(np.argmax(ii))] == 0


def test_rhythm_of_a_print_whose_leads_take_turns_matches_the_record(physionet_t2):
    """A 6x2 print shows the limb leads for the first 5 s and the chest leads for the
    last 5 s: no lead spans the seam, where a beat is often missed. Built here by hand
    (not by the package's print masks): the rate and the longest RR interval of every
    fixture record read as from the whole record, not a doubled interval at the seam."""
    names = feature_names()
    for path in sorted((physionet_t2 / "train").glob("*.mat")):
        x = aiwin.read_record(path).signal.astype(np.float64)
        halves = np.full_like(x, np.nan)
        halves[:6, :2500], halves[6:, 2500:] = x[:6, :2500], x[6:, 2500:]
        whole = dict(zip(names, record_features(x)))
        shown = dict(zip(names, record_features(halves)))
        assert abs(shown["hr_mean"] - whole["hr_mean"]) < 4, path.name
        assert abs(shown["rr_max_rel"] - whole["rr_max_rel"]) < 0.15, path.name
        assert abs(heart_rate_present(halves, aiwin.FS) - heart_rate_present(x, aiwin.FS)) < 4


def test_feature_model_keeps_to_its_cpu_threads(small_t2, tmp_path, monkeypatch):
    """``train.cpu_threads`` bounds the boosting's OpenMP threads while it trains (on a
    busy machine unbounded ones spin against the other jobs)."""
    seen = []
    original = FeatureClassifier.fit

    def spy(self, x, y):
        seen.append({i["user_api"]: i["num_threads"] for i in threadpool_info()}.get("openmp"))
        return original(self, x, y)

    monkeypatch.setattr(FeatureClassifier, "fit", spy)
    fit(features_config(small_t2, tmp_path, 2, "train.cpu_threads=1"))
    assert seen == [1, 1, 1]


def test_flat_record_gives_nan_rhythm_not_an_error():
    feats = dict(zip(feature_names(), record_features(np.zeros((12, 5000), np.float32))))
    assert feats["beats"] == 0 and np.isnan(feats["hr_mean"]) and feats["II_std"] == 0


def test_feature_cache_recomputes_only_changed_records(small_t2, tmp_path):
    paths = sorted((small_t2 / "train").glob("*.mat"))[:4]
    cache = tmp_path / "features.pkl"
    first, bad = feature_table(paths, cache)
    assert list(first.index) == [p.stem for p in paths] and not bad
    stamp = cache.stat().st_mtime_ns
    again, _ = feature_table(paths, cache)
    assert cache.stat().st_mtime_ns == stamp  # nothing new: the cache is not rewritten
    np.testing.assert_array_equal(first.to_numpy(), again.to_numpy())
    # a record replaced by another one's signal gets the other one's features
    paths[0].write_bytes(paths[1].read_bytes())
    os.utime(paths[0], ns=(stamp + 10**9, stamp + 10**9))
    changed, _ = feature_table(paths, cache)
    np.testing.assert_array_equal(changed.iloc[0].to_numpy(), first.iloc[1].to_numpy())
    paths[2].write_bytes(b"not a MAT file")
    with pytest.raises(BadInputError, match=paths[2].name):
        feature_table(paths, cache)
    table, bad = feature_table(paths, cache, skip_bad=True)
    assert list(bad) == [str(paths[2])] and paths[2].stem not in table.index


@pytest.mark.parametrize("task", [1, 2])
def test_train_predict_round_trip(task, physionet_t1, physionet_t2, tmp_path):
    data = physionet_t1 if task == 1 else physionet_t2
    cfg = features_config(data, tmp_path, task)
    results = fit(cfg)
    run = cfg.run_dir
    assert [r.fold for r in results] == [0, 1, 2]
    assert (run / "features.pkl").is_file() and (run / "fold0" / "model.joblib").is_file()
    names, oof = aiwin.read_probs(run / "oof_probs.csv", task)
    assert sorted(names) == sorted(aiwin.read_labels(data / "trainreference.csv", task))
    assert oof.shape == (len(names), 2 if task == 1 else 12)
    assert len(json.loads((run / "thresholds.json").read_text())["thresholds"]) == oof.shape[1]
    assert oof.std(axis=0).max() > 0.05  # the models learned something record-specific
    # predict.py's path (load_run + predict_folder) reproduces each fold's validation probs
    loaded = load_run(run)
    assert len(loaded.checkpoints) == 3
    pred = predict_folder(loaded, data / "train")
    fold_names, fold_probs = aiwin.read_probs(run / "fold1" / "val_probs.csv", task)
    one_fold = dataclasses.replace(loaded, checkpoints=[run / "fold1" / "model.joblib"])
    single = predict_folder(one_fold, data / "train")
    order = [single.names.index(n) for n in fold_names]
    np.testing.assert_allclose(single.probs[order], fold_probs, atol=1e-6)
    assert pred.names == single.names and not np.allclose(pred.probs, single.probs)
