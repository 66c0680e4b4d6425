"""Export parity on real records: dygraph vs Paddle Inference (oneDNN) vs ONNX Runtime."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ecgplot.config import to_dict
from ecgplot.experiment import ModelConfig, experiment_from_dict
from ecgplot.export import export_model, export_run
from ecgplot.gradcam import grad_cam, save_gradcams
from ecgplot.infer import load_models, load_run, predict_folder
from ecgplot.kinds import get_kind
from ecgplot.model import build_model
from ecgplot.trainer import fit

from .conftest import make_subset, tiny_config


@pytest.fixture(scope="module")
def runs(physionet_t1, physionet_t2, tmp_path_factory):
    """Tiny task-2 (one stream) and task-1 (plot + STFT) runs, exported."""
    out = {}
    for task, src, extra in (
        (2, physionet_t2, []),
        (1, physionet_t1, ["loss.name=ce", "loss.pos_weight=null", "data.stft=true"]),
    ):
        tmp = tmp_path_factory.mktemp(f"export{task}")
        names = sorted(p.stem for p in (src / "train").glob("*.mat"))[1::2]
        data = make_subset(src, tmp / "data", names, task=task)
        fit(
            tiny_config(
                data,
                tmp,
                f"data.task={task}",
                "train.epochs=1",
                "train.max_steps_per_epoch=1",
                *extra,
            )
        )
        export_run(tmp / "tiny")
        out[task] = (tmp / "tiny", data / "train")
    return out


@pytest.mark.parametrize("task", [1, 2])
def test_backends_agree(runs, task):
    run_dir, records = runs[task]
    info = json.loads((run_dir / "export" / "export.json").read_text())
    for fold in info["folds"]:  # relative to the run folder: it can move
        assert not any(Path(fold[k]).is_absolute() for k in ("model", "params", "onnx"))
    moved = run_dir.parent / f"moved{task}"
    shutil.copytree(run_dir, moved)
    run = load_run(moved)
    results = {b: predict_folder(run, records, backend=b) for b in ("dygraph", "paddle", "onnx")}
    ref = results["dygraph"].probs
    assert ref.shape[1] == (2 if task == 1 else 12)
    for backend in ("paddle", "onnx"):
        assert results[backend].names == results["dygraph"].names
        np.testing.assert_allclose(results[backend].probs, ref, atol=1e-4)
        assert results[backend].labels == results["dygraph"].labels
    row_sums = ref.sum(axis=1)
    if task == 1:
        np.testing.assert_allclose(row_sums, 1, atol=1e-5)  # softmax
    else:
        assert np.abs(row_sums - 1).max() > 0.1  # independent sigmoids, not a softmax
        assert ((ref > 0.01) & (ref < 0.99)).any()  # not all saturated


def test_grad_cam_overlay(runs, tmp_path):
    run_dir, records = runs[2]
    run = load_run(run_dir)
    name = sorted(p.stem for p in records.glob("*.mat"))[0]
    (path,) = save_gradcams(run, records, [name], tmp_path)
    img = cv2.imread(str(path))
    assert img.shape == (64, 64, 3) and img.std() > 5
    model = load_models(run)[0]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 64, 64)).astype("float32")
    cam = grad_cam(model, [x], target=3)
    assert cam.shape == (64, 64) and cam.min() >= 0 and cam.max() <= 1
    with pytest.raises(FileNotFoundError, match="NOPE"):
        save_gradcams(run, records, ["NOPE"], tmp_path)


def test_export_refuses_a_rows_head_with_too_few_map_rows(tmp_path):
    """At 64 px, layer3 gives 4 rows of maps for 12 lead bands: dygraph pools them
    (upsampling), but ONNX's pooling of them crashes the process; export says why first."""
    cfg = ModelConfig(arch="resnet18", pretrained=None, stages=4, freeze_stages=4, head="rows")
    model = build_model(cfg, num_classes=12)
    run_cfg = experiment_from_dict(
        {"model": to_dict(cfg), "render": {"size": 64}, "data": {"source": "signal"}}
    )
    with pytest.raises(ValueError, match="4 rows and columns of maps, fewer than model.head_rows"):
        export_model(model, get_kind("image").input_specs(model, run_cfg), 2, tmp_path / "export")
    assert not (tmp_path / "export").exists()
