"""Shared fixtures: real PhysioNet records from ../shared/data converted at run time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ecgplot.aiwin import read_labels, write_labels
from ecgplot.physionet import import_physionet

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ECG_SHARED_DATA", ROOT.parent / "shared" / "data"))
PTBXL = SHARED_DATA / "ptbxl-500"
CINC = SHARED_DATA / "cinc2021-127"
N_SHARED_RECORDS = 627


def _need_shared() -> None:
    if not (PTBXL.is_dir() and CINC.is_dir()):
        pytest.skip(f"real records not found in {SHARED_DATA} (set ECG_SHARED_DATA)")


def _imported(tmp_path_factory, task: int) -> Path:
    _need_shared()
    out = tmp_path_factory.mktemp(f"physionet_t{task}")
    import_physionet(SHARED_DATA, out, task=task)
    return out


@pytest.fixture(scope="session")
def physionet_t2(tmp_path_factory) -> Path:
    """All 627 shared records imported into an AIWIN task-2 dataset folder."""
    return _imported(tmp_path_factory, 2)


@pytest.fixture(scope="session")
def physionet_t1(tmp_path_factory) -> Path:
    """All 627 shared records imported into an AIWIN task-1 dataset folder."""
    return _imported(tmp_path_factory, 1)


def make_subset(src: Path, dst: Path, names: list[str], task: int) -> Path:
    """Copy a few records (and their labels) of an AIWIN folder into a new one."""
    (dst / "train").mkdir(parents=True)
    for name in names:
        shutil.copy2(src / "train" / f"{name}.mat", dst / "train" / f"{name}.mat")
    labels = read_labels(src / "trainreference.csv", task)
    write_labels(dst / "trainreference.csv", {n: labels[n] for n in names}, task)
    return dst


@pytest.fixture
def small_t2(physionet_t2, tmp_path) -> Path:
    """26 real records (PTB-XL and CinC) in a fresh task-2 folder the test may modify."""
    names = sorted(p.stem for p in (physionet_t2 / "train").glob("*.mat"))[::25]
    return make_subset(physionet_t2, tmp_path / "data", names, task=2)
