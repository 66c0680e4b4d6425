"""Model kinds behind one interface: found by name, their config rules, prediction that
loads no training code, and a new kind served without touching the engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ecgplot.aiwin import read_record
from ecgplot.experiment import load_experiment
from ecgplot.infer import predict_signals
from ecgplot.kinds import KINDS, ModelKind, get_kind, register_kind

from .conftest import ROOT, tiny_config


def test_prediction_imports_no_training_code():
    """A predicting process (``import ecgplot.infer``) loads neither albumentations nor
    the training datasets nor the engine."""
    training = ["albumentations", "ecgplot.data", "ecgplot.trainer", "ecgplot.signal_data"]
    code = f"import sys, ecgplot.infer; print([m for m in {training!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_config_names_a_registered_kind_and_unknown_ones_are_refused(tmp_path):
    kinds = {load_experiment(p).model.kind for p in sorted((ROOT / "configs").glob("*.yaml"))}
    assert kinds == set(KINDS) == {"image", "features", "signal1d"}
    with pytest.raises(ValueError, match=r"model.kind must be one of \('image'"):
        tiny_config(tmp_path, tmp_path, "model.kind=gbm")


@pytest.mark.parametrize(
    ("kind", "override", "problem"),
    [
        ("features", "train.mixup=0.2", "train.mixup is for image and 1-D runs"),
        ("features", "print_aug.p=0.5", "use features.print_copies"),
        ("signal1d", "train.cache_trunk=true", "train.cache_trunk is for image models"),
    ],
)
def test_each_kind_checks_its_own_config_rules(tmp_path, kind, override, problem):
    with pytest.raises(ValueError, match=problem):
        tiny_config(tmp_path, tmp_path, f"model.kind={kind}", "data.source=signal", override)


def test_only_network_kinds_export_and_explain():
    assert get_kind("image").gradcam and not get_kind("features").gradcam
    assert get_kind("features").backends == ("dygraph",)
    assert "onnx" in get_kind("signal1d").backends
    assert get_kind("features").checkpoint != get_kind("image").checkpoint


@pytest.fixture
def amplitude_kind():
    """A fourth kind, registered the way a user would add one: probabilities from the
    signal's mean absolute amplitude."""

    @register_kind("amplitude")
    class AmplitudeKind(ModelKind):
        engine_trained = False

        def predict(self, predictors, signals, cfg):
            level = np.array([np.nanmean(np.abs(s)) for s in signals])
            return np.stack([1 - np.tanh(level), np.tanh(level)], axis=1)

    yield KINDS["amplitude"]
    del KINDS["amplitude"]


def test_a_new_kind_is_one_registered_class(amplitude_kind, physionet_t1, tmp_path):
    """Prediction (with TTA) serves a kind that no other module knows of."""
    cfg = tiny_config(
        physionet_t1,
        tmp_path,
        "model.kind=amplitude",
        "data.task=1",
        "loss.name=ce",
        "loss.pos_weight=null",
    )
    assert get_kind(cfg.model.kind) is amplitude_kind
    records = sorted((physionet_t1 / "train").glob("*.mat"))[:3]
    signals = [read_record(p).signal for p in records]
    probs = predict_signals([], signals, cfg, tta=2)
    level = np.array([np.abs(s).mean() for s in signals])
    np.testing.assert_allclose(probs[:, 1], np.tanh(level), rtol=1e-5)  # shifts keep it
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
