"""Shared fixtures: real PhysioNet records converted at run time.

``physionet_t1``/``physionet_t2``: the 23-record fixture set committed in
``tests/data/physionet`` (always there). ``shared_t1``/``shared_t2``: all 627 records of
``../shared/data``; tests that need them are marked ``full_data`` and skipped with the
reason when that folder is absent (a fresh clone).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ecgplot.aiwin import read_labels, write_labels
from ecgplot.experiment import load_experiment
from ecgplot.physionet import import_physionet

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_DATA = ROOT / "tests" / "data" / "physionet"
PTBXL = FIXTURE_DATA / "ptbxl"
CINC = FIXTURE_DATA / "cinc2021"
N_FIXTURE_RECORDS = 23
SHARED_DATA = Path(os.environ.get("ECG_SHARED_DATA", ROOT.parent / "shared" / "data"))
N_SHARED_RECORDS = 627


def _imported(tmp_path_factory, src: Path, task: int) -> Path:
    out = tmp_path_factory.mktemp(f"{src.name}_t{task}")
    import_physionet(src, out, task=task)
    return out


def _shared(tmp_path_factory, task: int) -> Path:
    if not ((SHARED_DATA / "ptbxl-500").is_dir() and (SHARED_DATA / "cinc2021-127").is_dir()):
        pytest.skip(f"needs all 627 records of {SHARED_DATA} (set ECG_SHARED_DATA)")
    return _imported(tmp_path_factory, SHARED_DATA, task)


@pytest.fixture(scope="session")
def physionet_t2(tmp_path_factory) -> Path:
    """The 23 committed fixture records imported into an AIWIN task-2 dataset folder."""
    return _imported(tmp_path_factory, FIXTURE_DATA, 2)


@pytest.fixture(scope="session")
def physionet_t1(tmp_path_factory) -> Path:
    """The 23 committed fixture records imported into an AIWIN task-1 dataset folder."""
    return _imported(tmp_path_factory, FIXTURE_DATA, 1)


@pytest.fixture(scope="session")
def shared_t2(tmp_path_factory) -> Path:
    """All 627 shared records imported into an AIWIN task-2 dataset folder."""
    return _shared(tmp_path_factory, 2)


@pytest.fixture(scope="session")
def shared_t1(tmp_path_factory) -> Path:
    """All 627 shared records imported into an AIWIN task-1 dataset folder."""
    return _shared(tmp_path_factory, 1)


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
    """The fixture records (PTB-XL and CinC) in a fresh task-2 folder the test may modify."""
    names = sorted(p.stem for p in (physionet_t2 / "train").glob("*.mat"))
    return make_subset(physionet_t2, tmp_path / "data", names, task=2)


def tiny_config(data: Path, out: Path, *extra: str):
    """A small-CPU experiment shrunk to seconds: resnet18 at 64 px, no pretrained weights,
    the whole backbone with a global-average-pooling head, best epoch kept."""
    return load_experiment(
        ROOT / "configs" / "cpu_rows12_task2.yaml",
        [
            f"data.root={data}",
            f"output_dir={out}",
            "name=tiny",
            "data.n_folds=4",
            "render.size=64",
            "model.arch=resnet18",
            "model.pretrained=null",
            "model.freeze_stages=0",
            "model.stages=5",
            "model.head=gap",
            "model.freeze_bn=false",
            "train.keep=best",
            "optim.warmup_epochs=0",
            "train.batch_size=8",
            "train.cache_trunk=false",
            "train.monitor=auto",
            *extra,
        ],
    )
