"""process_dataset / process.py on real records: images, folds, freshness, bad input."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.process import process_dataset, read_folds
from ecgplot.render import RenderConfig, render_plot

from .conftest import N_FIXTURE_RECORDS, N_SHARED_RECORDS, ROOT

SMALL = RenderConfig(size=128)


@pytest.mark.full_data
def test_all_shared_records_task2(shared_t2, tmp_path):
    out = tmp_path / "out"
    result = process_dataset(shared_t2, out, RenderConfig(), workers=2, n_folds=5)
    assert result.task == 2 and result.n_rendered == N_SHARED_RECORDS and not result.bad
    pngs = sorted((out / "images" / "train").glob("*.png"))
    assert len(pngs) == N_SHARED_RECORDS
    img = cv2.imread(str(pngs[0]), cv2.IMREAD_UNCHANGED)
    assert img.shape == (640, 640) and img.dtype == np.uint8
    # the PNG holds exactly what the renderer draws for that record
    rec = aiwin.read_record(shared_t2 / "train" / f"{pngs[0].stem}.mat")
    np.testing.assert_array_equal(img, render_plot(rec.signal, RenderConfig()))
    assert (out / "examples.png").stat().st_size > 10_000
    assert (out / "render.yaml").is_file()

    folds = read_folds(out / "folds.csv")
    assert len(folds) == N_SHARED_RECORDS and set(folds.values()) == set(range(5))
    labels = aiwin.read_labels(shared_t2 / "trainreference.csv", 2)
    per_fold = collections.Counter((folds[n], c) for n, cs in labels.items() for c in cs)
    for c in range(1, 13):
        counts = [per_fold[(k, c)] for k in range(5)]
        assert max(counts) - min(counts) <= 2, (c, counts)  # every class spread evenly
    # a second run with the same settings renders nothing and keeps the same folds
    again = process_dataset(shared_t2, out, RenderConfig(), workers=2, n_folds=5)
    assert again.n_rendered == 0 and again.n_up_to_date == N_SHARED_RECORDS
    assert read_folds(out / "folds.csv") == folds


def test_task1_folds_are_stratified(physionet_t1, tmp_path):
    result = process_dataset(physionet_t1, tmp_path / "out", SMALL, workers=2, n_folds=5)
    assert result.task == 1
    labels = aiwin.read_labels(physionet_t1 / "trainreference.csv", 1)
    abnormal = collections.Counter(result.folds[n] for n, t in labels.items() if t == 1)
    assert max(abnormal.values()) - min(abnormal.values()) <= 1


def test_freshness_stft_and_val_split(small_t2, tmp_path):
    out = tmp_path / "out"
    (small_t2 / "val").mkdir()
    first = next((small_t2 / "train").glob("*.mat"))
    (small_t2 / "val" / "X1.mat").write_bytes(first.read_bytes())
    n = len(list((small_t2 / "train").glob("*.mat"))) + 1
    result = process_dataset(small_t2, out, SMALL, stft=True, workers=1, n_folds=3)
    assert result.n_rendered == n
    assert (out / "images" / "val" / "X1.png").is_file()
    assert (out / "stft" / "val" / "X1.png").is_file()
    assert "X1" not in result.folds  # val is unlabelled
    # touching one source re-renders just that record
    os.utime(first, (time.time() + 5, time.time() + 5))
    assert process_dataset(small_t2, out, SMALL, stft=True, workers=1, n_folds=3).n_rendered == 1
    # other render settings re-render everything
    bigger = RenderConfig(size=160)
    assert process_dataset(small_t2, out, bigger, stft=True, workers=1, n_folds=3).n_rendered == n
    assert cv2.imread(str(out / "images" / "val" / "X1.png"), 0).shape == (160, 160)


def test_bad_record_stops_run_or_is_skipped(small_t2, tmp_path):
    out = tmp_path / "out"
    process_dataset(small_t2, out, SMALL, workers=1, n_folds=3)
    names = sorted(p.stem for p in (small_t2 / "train").glob("*.mat"))
    kept = out / "images" / "train" / f"{names[0]}.png"
    before = kept.read_bytes()
    bad = small_t2 / "train" / f"{names[1]}.mat"
    other = small_t2 / "train" / f"{names[2]}.mat"
    bad.write_bytes(other.read_bytes()[:200])  # truncated file, newer than its image
    with pytest.raises(BadInputError) as err:
        process_dataset(small_t2, out, SMALL, workers=2, n_folds=3)
    assert str(bad) in str(err.value) and "truncated MAT file" in str(err.value)
    assert kept.read_bytes() == before  # nothing already written was lost
    result = process_dataset(small_t2, out, SMALL, workers=2, n_folds=3, skip_bad=True)
    assert list(result.bad) == [str(bad)]
    assert names[1] not in result.folds and len(result.folds) == len(names) - 1
    assert names[1] in (out / "bad_records.csv").read_text()


def test_label_and_record_mismatch(small_t2, tmp_path):
    labels = small_t2 / "trainreference.csv"
    text = labels.read_text()
    labels.write_text(text + "GHOST,3\n")
    with pytest.raises(BadInputError, match="lack a MAT file in train/: GHOST"):
        process_dataset(small_t2, tmp_path / "out", SMALL, workers=1)
    ghost = process_dataset(small_t2, tmp_path / "ghost", SMALL, workers=1, skip_bad=True)
    assert "GHOST" not in ghost.folds and any("GHOST" in p for p in ghost.bad)
    assert "GHOST" in (tmp_path / "ghost" / "bad_records.csv").read_text()
    lines = text.splitlines()
    labels.write_text("\n".join(lines[1:]) + "\n")
    orphan = lines[0].split(",")[0]
    with pytest.raises(BadInputError, match=f"have no label: {orphan}"):
        process_dataset(small_t2, tmp_path / "out", SMALL, workers=1)
    result = process_dataset(small_t2, tmp_path / "out", SMALL, workers=1, skip_bad=True)
    assert orphan not in result.folds and len(result.bad) == 1
    with pytest.raises(BadInputError, match="does not look like a task-1 label file"):
        process_dataset(small_t2, tmp_path / "out", SMALL, task=1, workers=1)


def test_process_cli(small_t2, tmp_path):
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        str(ROOT / "process.py"),
        "--data",
        str(small_t2),
        "--out",
        str(out),
        "--layout",
        "grid3x4",
        "--grid",
        "--size",
        "256",
        "--folds",
        "3",
        "--workers",
        "2",
        "--set",
        "mm_per_mv=10",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert len(list((out / "images" / "train").glob("*.png"))) == N_FIXTURE_RECORDS
    assert f"rendered {N_FIXTURE_RECORDS}" in (out / "process.log").read_text()
    assert "layout: grid3x4" in (out / "render.yaml").read_text()
    assert "mm_per_mv: 10" in (out / "render.yaml").read_text()
    from_config = [
        sys.executable,
        str(ROOT / "process.py"),
        "--data",
        str(small_t2),
        "--out",
        str(tmp_path / "out2"),
        "--config",
        str(ROOT / "configs" / "demo_task2.yaml"),
        "--folds",
        "3",
        "--workers",
        "1",
    ]
    run = subprocess.run(from_config, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rendered = (tmp_path / "out2" / "render.yaml").read_text()
    assert "size: 384" in rendered and "layout: rows12" in rendered  # from the base config
    bad = [
        sys.executable,
        str(ROOT / "process.py"),
        "--data",
        str(tmp_path / "nowhere"),
        "--out",
        str(out),
    ]
    run = subprocess.run(bad, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "nowhere: no train/ folder" in run.stderr
    typo = cmd[:-1] + ["mm_per_mvv=10"]
    run = subprocess.run(typo, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "unknown config keys: render.mm_per_mvv" in run.stderr


def test_interrupted_rerender_never_mixes_settings(small_t2, tmp_path):
    """Settings are recorded before rendering: a re-render with new settings that is
    interrupted, then rerun with the old settings, re-renders everything; an interrupted
    run with unchanged settings resumes where it stopped."""
    import dataclasses

    import ecgplot.process as proc

    out = tmp_path / "out"
    process_dataset(small_t2, out, SMALL, workers=1, n_folds=3)
    names = sorted(p.stem for p in (small_t2 / "train").glob("*.mat"))
    bigger = dataclasses.replace(SMALL, mm_per_mv=10.0)
    real_job = proc._render_job
    done = []

    def dies_after_five(job, cfg):
        if len(done) == 5:
            raise KeyboardInterrupt
        done.append(job)
        return real_job(job, cfg)

    proc._render_job = dies_after_five
    try:
        with pytest.raises(KeyboardInterrupt):
            process_dataset(small_t2, out, bigger, workers=1, n_folds=3)
    finally:
        proc._render_job = real_job
    again = process_dataset(small_t2, out, SMALL, workers=1, n_folds=3)
    assert again.n_rendered == len(names) and again.n_up_to_date == 0
    for name in names:  # every image matches the recorded settings
        img = cv2.imread(str(out / "images" / "train" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        signal = aiwin.read_record(small_t2 / "train" / f"{name}.mat").signal
        np.testing.assert_array_equal(img, render_plot(signal, SMALL))
    # interrupted with unchanged settings: the rerun renders only what is left
    for png in sorted((out / "images" / "train").glob("*.png"))[:4]:
        png.unlink()
    resumed = process_dataset(small_t2, out, SMALL, workers=1, n_folds=3)
    assert resumed.n_rendered == 4 and resumed.n_up_to_date == len(names) - 4


def test_second_run_on_the_same_folder_is_refused(small_t2, tmp_path):
    from ecgplot.process import output_lock

    out = tmp_path / "out"
    with output_lock(out):
        proc = subprocess.run(
            [
                sys.executable,
                str(ROOT / "process.py"),
                "--data",
                str(small_t2),
                "--out",
                str(out),
                "--size",
                "64",
                "--folds",
                "3",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert proc.returncode == 2 and "another process.py is rendering" in proc.stderr
        assert not (out / "images").exists()
    assert process_dataset(small_t2, out, SMALL, workers=1, n_folds=3).n_rendered > 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--folds", "1"], "--folds 1 needs 2 to"),
        (["--folds", "100"], "--folds 100 needs 2 to 23"),
        (["--size", "7"], "render.size: input should be greater than or equal to 32"),
        (["--set", "grid=maybe"], "render.grid: input should be a valid boolean"),
        (["--set", "mm_per_s=-25"], "render.mm_per_s: input should be greater than 0"),
    ],
)
def test_process_cli_refuses_bad_options_before_rendering(small_t2, tmp_path, extra, message):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "process.py"),
            "--data",
            str(small_t2),
            "--out",
            str(out),
            "--size",
            "64",
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not list(out.glob("images/train/*.png"))
