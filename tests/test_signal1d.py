"""model.kind signal1d: the 1-D SE-ResNet trained, predicted, exported and fused with the
other kinds on real records; records longer than 10 s read as windows."""

from __future__ import annotations

import numpy as np
import paddle
import pytest

from ecgplot import aiwin
from ecgplot.ensemble import ensemble, run_member
from ecgplot.experiment import load_experiment
from ecgplot.export import export_run
from ecgplot.infer import load_predictors, load_run, predict_folder, predict_signals
from ecgplot.signal_model import build_signal_model, signal_input, window_probs, windows
from ecgplot.trainer import fit

from .conftest import ROOT, tiny_config
from .test_features import features_config

TINY = ["signal1d.width=8", "signal1d.blocks=[1, 1]", "signal1d.input_hz=125"]
TINY += ["signal1d.lowpass_hz=40", "train.batch_size=8", "data.n_folds=3"]


def signal1d_config(data, out, *extra: str):
    return load_experiment(
        ROOT / "configs" / "signal1d_task2.yaml",
        [f"data.root={data}", f"output_dir={out}", "name=sig", *TINY, *extra],
    )


@pytest.fixture(scope="module")
def signal_run(physionet_t2, tmp_path_factory):
    cfg = signal1d_config(physionet_t2, tmp_path_factory.mktemp("sig"), "data.fold=all")
    fit(cfg)
    return cfg


def fixture_signals(data, n: int = 3) -> list[np.ndarray]:
    paths = sorted((data / "train").glob("*.mat"))[:n]
    return [aiwin.read_record(p).signal for p in paths]


def test_a_30_s_record_is_read_whole_as_overlapping_windows(physionet_t2):
    """Three real records end to end make a 30 s record: it becomes windows that cover
    every sample (the last one ending with the record), and each class's probability is
    its largest over them: at least that of each 10 s record alone."""
    cfg = signal1d_config(physionet_t2, ROOT / "output")
    parts = fixture_signals(physionet_t2)
    long = np.concatenate(parts, axis=1)  # (12, 15000) at 500 Hz
    x = signal_input(long, cfg.signal1d)
    assert x.shape == (12, 3750)  # 30 s at 125 Hz: not cropped
    w = windows(x, cfg.signal1d)
    assert w.shape == (4, 12, 1250)  # 10 s windows every 8 s, the last at the end
    np.testing.assert_array_equal(w[0], x[:, :1250])
    np.testing.assert_array_equal(w[-1], x[:, -1250:])
    paddle.seed(0)
    model = build_signal_model(cfg)
    model.eval()
    with paddle.no_grad():
        per_window = paddle.nn.functional.sigmoid(model(paddle.to_tensor(w))).numpy()
    whole = window_probs(per_window, [len(w)], 2)[0]
    np.testing.assert_allclose(whole, per_window.max(axis=0))
    short = windows(x[:, :1000], cfg.signal1d)  # shorter than a window: padded, one window
    assert short.shape == (1, 12, 1250) and not short[0, :, 1000:].any()
    task1 = window_probs(np.array([[0.9, 0.1], [0.3, 0.7]], np.float32), [2], 1)[0]
    np.testing.assert_allclose(task1, [0.3, 0.7])  # abnormal if any window is


def test_signal1d_trains_predicts_and_exports(signal_run, physionet_t2):
    """k-fold training writes out-of-fold probabilities; predicting a fold's validation
    records reproduces the probabilities training saved; the exported graphs (Paddle
    Inference, ONNX) give the dygraph probabilities; a 30 s record is answered whole."""
    cfg = signal_run
    run = load_run(cfg.run_dir)
    assert run.cfg.model.kind == "signal1d" and len(run.checkpoints) == 3
    oof_names, oof = aiwin.read_probs(cfg.run_dir / "oof_probs.csv", 2)
    assert len(oof_names) == 23 and np.isfinite(oof).all()
    pred = predict_folder(run, physionet_t2 / "train")
    val_names, val = aiwin.read_probs(cfg.run_dir / "fold0" / "val_probs.csv", 2)
    predictors = load_predictors(run)
    signals = [aiwin.read_record(physionet_t2 / "train" / f"{n}.mat").signal for n in val_names]
    np.testing.assert_allclose(predict_signals(predictors[:1], signals, run.cfg), val, atol=1e-5)
    export_run(cfg.run_dir)
    for backend in ("paddle", "onnx"):
        other = predict_folder(run, physionet_t2 / "train", backend=backend)
        np.testing.assert_allclose(other.probs, pred.probs, atol=1e-4)
    long = np.concatenate(fixture_signals(physionet_t2), axis=1)
    w = windows(signal_input(long, run.cfg.signal1d), run.cfg.signal1d)
    for backend in ("dygraph", "onnx"):
        predictors = load_predictors(run, backend)
        whole = predict_signals(predictors, [long], run.cfg)
        per_window = np.mean([p([w]) for p in predictors], axis=0)
        np.testing.assert_allclose(whole[0], per_window.max(axis=0), atol=1e-6)
        first = predict_signals(predictors, [long[:, :5000]], run.cfg)
        assert np.abs(whole - first).max() > 1e-3  # not cropped to its first 10 s


def test_three_kinds_fuse(signal_run, physionet_t2, tmp_path):
    """An image run, a feature run and a 1-D run on the same folds fuse into one answer:
    a weight for each, fitted on their out-of-fold probabilities."""
    image = tiny_config(physionet_t2, tmp_path, "data.n_folds=3", "data.fold=all", "train.epochs=1")
    features = features_config(physionet_t2, tmp_path, 2, "name=feat")
    for cfg in (image, features):
        fit(cfg)
    labels = aiwin.read_labels(physionet_t2 / "trainreference.csv", 2)
    runs = [image.run_dir, features.run_dir, signal_run.run_dir]
    members = [run_member(r, data=physionet_t2 / "train") for r in runs]
    result = ensemble(members, labels, "weights", n_folds=3)
    assert result.fusion.weights.shape == (3,)
    assert result.fusion.weights.sum() == pytest.approx(1)
    assert result.test.shape == (23, 12) and np.isfinite(result.test).all()
