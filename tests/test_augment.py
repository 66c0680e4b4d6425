"""Signal augmenters on a real record, and the dataset rendering augmented signals."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from ecgplot import aiwin
from ecgplot.augment import (
    AmplitudeScale,
    BaselineWander,
    GaussianNoise,
    LeadDropout,
    TimeShift,
)
from ecgplot.data import ECGImageDataset
from ecgplot.experiment import load_experiment

from .conftest import ROOT


@pytest.fixture(scope="module")
def record(physionet_t2):
    return aiwin.read_record(physionet_t2 / "train" / "00008_hr.mat").signal


def test_augmenters(record):
    rng = np.random.default_rng(0)
    scaled = AmplitudeScale(0.1)(record, rng)
    gain = np.abs(scaled).max() / np.abs(record).max()
    assert 0.9 <= gain <= 1.1 and gain != 1
    shifted = TimeShift(1.0)(record, rng)
    lag = int(np.argmax(scipy.signal.correlate(shifted[1], record[1], "full"))) - 4999
    assert 0 < abs(lag) <= 500 and np.allclose(np.roll(record, lag, axis=-1), shifted)
    dropped = LeadDropout(0.5)(record, np.random.default_rng(1))
    zeroed = [i for i in range(12) if not dropped[i].any()]
    assert 0 < len(zeroed) < 12
    assert all(np.array_equal(dropped[i], record[i]) for i in range(12) if i not in zeroed)
    assert LeadDropout(1.0)(record, rng).any(axis=1).sum() == 1  # one lead always kept
    wander = BaselineWander(0.2)(record, rng) - record
    f, p = scipy.signal.welch(wander[0], fs=500, nperseg=5000)
    assert f[np.argmax(p)] <= 0.5 and np.abs(wander).max() <= 0.2  # slow, bounded
    noise = GaussianNoise(0.05)(record, rng) - record
    assert 0 < noise.std() <= 0.05


def test_dataset_renders_augmented_signals(physionet_t2):
    cfg = load_experiment(
        ROOT / "configs" / "cpu_rows12_task2.yaml",
        [
            f"data.root={physionet_t2}",
            "signal_aug.enabled=true",
            "signal_aug.max_shift_s=0.5",
            "image_aug.enabled=false",
            "train.cache_trunk=false",
            "render.size=96",
        ],
    )
    names = ["00008_hr", "A0689"]
    train = ECGImageDataset(
        cfg, names, aiwin.read_labels(physionet_t2 / "trainreference.csv", 2), train=True
    )
    train.set_epoch(1)
    a, target = train[0]
    again, _ = train[0]
    train.set_epoch(2)
    b, _ = train[0]
    assert a.shape == (96, 96) and a.dtype == np.uint8 and target.shape == (12,)
    np.testing.assert_array_equal(a, again)  # seeded per (seed, epoch, index)
    assert not np.array_equal(a, b)  # a new augmentation each epoch
    val = ECGImageDataset(cfg, names, None, train=False)
    (c,) = val[0]
    (d,) = val[0]
    np.testing.assert_array_equal(c, d)  # no augmentation outside training
