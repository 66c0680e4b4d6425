"""A small SYNTHETIC dataset in the AIWIN layout, so the pipeline runs with no user data.

Records come from neurokit2's 12-lead ECG simulation (ECGSYN) with varied heart rate,
heart-rate variability, lead gains, baseline wander and noise. Labels follow from the
simulation parameters: normal, sinus bradycardia, sinus tachycardia, sinus arrhythmia.
The data are for demonstrating and testing the pipeline, not for any clinical claim.
"""

from __future__ import annotations

import logging
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .aiwin import FS, N_SAMPLES, write_labels, write_record
from .atomic import atomic_write
from .physionet import task1_tag
from .signal import rr_intervals

log = logging.getLogger(__name__)

# class id -> (heart-rate range bpm, heart-rate std range bpm)
DEMO_CLASSES: dict[int, tuple[tuple[float, float], tuple[float, float]]] = {
    1: ((62, 95), (0.5, 2)),
    2: ((42, 54), (0.5, 2)),
    3: ((110, 150), (0.5, 2)),
    4: ((62, 85), (6, 9)),
}
SINUS_ARRHYTHMIA_RR_RANGE_S = 0.12  # RR variation that defines sinus arrhythmia
MAX_TRIES = 20
README = """SYNTHETIC ECG data made by ecgplot.demo (neurokit2 ECGSYN 12-lead simulation).
Not real patients; labels follow from the simulation parameters (heart rate, variability).
Use for demonstrating and testing the pipeline only.
"""


def matches_label(signal: np.ndarray, label: int) -> bool:
    """Whether lead II's measured rhythm fits the class (the simulator does not always)."""
    rr = rr_intervals(signal[1], FS)
    if len(rr) < 3:
        return False
    hr, rr_range = 60 / np.median(rr), np.ptp(rr)
    if label == 2:
        return hr < 58
    if label == 3:
        return hr > 102
    regular = rr_range < SINUS_ARRHYTHMIA_RR_RANGE_S
    return 62 <= hr <= 98 and (regular if label == 1 else not regular)


def simulate_record(label: int, seed: int) -> np.ndarray:
    """One synthetic (12, 5000) mV record of class ``label`` (1, 2, 3 or 4).

    Draws are repeated until the R peaks measured in lead II confirm the class.
    """
    rng = np.random.default_rng(seed)
    for _ in range(MAX_TRIES):
        signal = _simulate(label, rng)
        if matches_label(signal, label):
            return signal
    raise RuntimeError(f"no simulation matched class {label} in {MAX_TRIES} tries (seed {seed})")


def _simulate(label: int, rng: np.random.Generator) -> np.ndarray:
    import neurokit2 as nk

    (hr_lo, hr_hi), (sd_lo, sd_hi) = DEMO_CLASSES[label]
    df = nk.ecg_simulate(
        duration=N_SAMPLES / FS,
        sampling_rate=FS,
        method="multileads",
        heart_rate=rng.uniform(hr_lo, hr_hi),
        heart_rate_std=rng.uniform(sd_lo, sd_hi),
        noise=rng.uniform(0.0, 0.03),
        random_state=int(rng.integers(2**31)),
    )
    sig = df.to_numpy().T[:, :N_SAMPLES].astype(np.float32)
    t = np.arange(sig.shape[1]) / FS
    gains = rng.uniform(0.5, 1.5, size=(12, 1)).astype(np.float32)
    wander = 0.15 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 2 * np.pi))
    return sig * gains + wander.astype(np.float32)


def _simulate_star(args: tuple[int, int]) -> np.ndarray:
    return simulate_record(*args)


def make_demo_dataset(
    out: str | Path, n_train: int = 48, n_val: int = 8, seed: int = 0, workers: int | None = None
) -> Path:
    """Write ``out/task1`` and ``out/task2`` (same records, each task's label file).

    Each holds ``train/`` with ``trainreference.csv`` and an unlabelled ``val/``; the
    train classes are balanced. Returns ``out``.
    """
    out = Path(out)
    classes = sorted(DEMO_CLASSES)
    labels = [classes[i % len(classes)] for i in range(n_train + n_val)]
    names = [f"SYN{i:04d}" for i in range(n_train + n_val)]
    jobs = [(label, seed * 100_003 + i) for i, label in enumerate(labels)]
    workers = workers or len(os.sched_getaffinity(0))
    with ProcessPoolExecutor(workers) as pool:
        signals = list(
            tqdm(pool.map(_simulate_star, jobs), total=len(jobs), desc="simulate", disable=None)
        )
    first = out / "task2"
    for i, (name, signal) in enumerate(zip(names, signals)):
        split = "train" if i < n_train else "val"
        write_record(first / split / f"{name}.mat", signal)
    train = dict(zip(names[:n_train], labels[:n_train]))
    write_labels(first / "trainreference.csv", {n: [c] for n, c in train.items()}, task=2)
    second = out / "task1"
    if second.exists():
        shutil.rmtree(second)
    shutil.copytree(first, second, copy_function=_link_or_copy)
    (second / "trainreference.csv").unlink()
    write_labels(second / "trainreference.csv", {n: task1_tag([c]) for n, c in train.items()}, 1)
    for folder in (out, first, second):
        with atomic_write(folder / "README.txt") as fh:
            fh.write(README)
    log.info("synthetic demo data: %d train + %d val records in %s", n_train, n_val, out)
    return out


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
