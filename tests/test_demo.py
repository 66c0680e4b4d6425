"""Synthetic demo dataset: AIWIN layout for both tasks, labels true to the signals."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pytest

from ecgplot import aiwin
from ecgplot.demo import make_demo_dataset


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("demo"), n_train=12, n_val=2, workers=2)


def test_layout_and_label_files(demo):
    t1 = aiwin.read_labels(demo / "task1" / "trainreference.csv", 1)
    t2 = aiwin.read_labels(demo / "task2" / "trainreference.csv", 2)
    assert set(t1) == set(t2) and len(t1) == 12
    assert {tuple(v) for v in t2.values()} == {(1,), (2,), (3,), (4,)}
    assert all(t1[n] == (0 if t2[n] == [1] else 1) for n in t1)
    for task in ("task1", "task2"):
        assert len(list((demo / task / "val").glob("*.mat"))) == 2
        assert "SYNTHETIC" in (demo / task / "README.txt").read_text()
        for mat in (demo / task / "train").glob("*.mat"):
            aiwin.read_record(mat)  # valid AIWIN records


def test_heart_rate_matches_label(demo):
    """Bradycardia < 60 bpm, tachycardia > 100 bpm, normal in between (R peaks, lead II)."""
    labels = aiwin.read_labels(demo / "task2" / "trainreference.csv", 2)
    for name, (label,) in labels.items():
        lead2 = aiwin.read_record(demo / "task2" / "train" / f"{name}.mat").signal[1]
        peaks = nk.ecg_peaks(nk.ecg_clean(lead2, sampling_rate=500), sampling_rate=500)[1]
        rr = np.diff(peaks["ECG_R_Peaks"]) / 500
        hr = 60 / np.median(rr)
        assert 6 <= len(rr) + 1 <= 26  # 10 s at 40-150 bpm
        if label == 4:
            assert np.ptp(rr) >= 0.12, (name, rr)  # sinus arrhythmia: irregular RR
        if label == 2:
            assert hr < 60, (name, hr)
        elif label == 3:
            assert hr > 100, (name, hr)
        else:
            assert 60 <= hr <= 100, (name, label, hr)
