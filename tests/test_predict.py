"""predict.py on real records: formats of both tasks, fold ensemble, bad files, v1 runs."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import paddle
import pytest
from paddle.vision.models import resnet50

from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.infer import load_run, predict_folder, write_prediction
from ecgplot.inputs import to_tensor
from ecgplot.model import use_stride_in_1x1
from ecgplot.render import render_plot
from ecgplot.trainer import fit

from .conftest import ROOT, make_subset, tiny_config


@pytest.fixture(scope="module")
def task2_run(physionet_t2, tmp_path_factory):
    """A tiny single-fold task-2 run on the 23 fixture records."""
    tmp = tmp_path_factory.mktemp("run2")
    names = sorted(p.stem for p in (physionet_t2 / "train").glob("*.mat"))
    data = make_subset(physionet_t2, tmp / "data", names, task=2)
    cfg = tiny_config(data, tmp, "train.epochs=1", "train.max_steps_per_epoch=2")
    fit(cfg)
    return tmp / "tiny", data


def test_predict_reproduces_validation_probabilities(task2_run):
    run_dir, data = task2_run
    run = load_run(run_dir)
    names, val_probs = aiwin.read_probs(run_dir / "fold0" / "val_probs.csv", 2)
    folder = data.parent / "val_only"
    folder.mkdir()
    for n in names:
        (folder / f"{n}.mat").write_bytes((data / "train" / f"{n}.mat").read_bytes())
    pred = predict_folder(run, folder)
    assert pred.names == names and not pred.bad
    np.testing.assert_allclose(pred.probs, val_probs, atol=1e-5)
    thresholds = json.loads((run_dir / "thresholds.json").read_text())
    assert thresholds["source"] == "validation fold 0" and len(thresholds["thresholds"]) == 12


def test_task2_answer_format_and_corrupt_file(task2_run, tmp_path):
    run_dir, data = task2_run
    folder = tmp_path / "test"
    folder.mkdir()
    mats = sorted((data / "train").glob("*.mat"))[:5]
    for m in mats:
        (folder / m.name).write_bytes(m.read_bytes())
    (folder / "BROKEN.mat").write_bytes(b"MATLAB 5.0 garbage")
    out = tmp_path / "answer.csv"
    cmd = [
        sys.executable,
        str(ROOT / "predict.py"),
        "--run",
        str(run_dir),
        "--data",
        str(folder),
        "--out",
        str(out),
        "--tta",
        "2",
        "--hr-rule",
    ]
    stopped = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    # an answer missing a record is a wrong submission: stop, naming the file
    assert stopped.returncode == 2 and "BROKEN.mat" in stopped.stderr
    assert "Traceback" not in stopped.stderr and not out.exists()
    done = subprocess.run([*cmd, "--skip-bad"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "1 bad records not predicted" in done.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and not lines[0].startswith("name")  # task 2: no header
    for line in lines:
        name, *ids = line.split(",")
        ids = [int(i) for i in ids]
        assert name in {m.stem for m in mats} and ids and all(1 <= i <= 12 for i in ids)
        assert ids == sorted(set(ids))
        assert not (1 in ids and len(ids) > 1) and not {2, 3} <= set(ids)
    probs = (tmp_path / "probs.csv").read_text().splitlines()
    assert probs[0] == "name," + ",".join(f"p{i}" for i in range(1, 13)) and len(probs) == 6
    assert "BROKEN.mat" in (tmp_path / "bad_records.csv").read_text()


def test_task1_kfold_ensemble_and_v1_strides(physionet_t1, tmp_path):
    # weights the test makes, flagged as v1-stride like the converted Keras ResNet50
    paddle.seed(3)
    net = resnet50(num_classes=1000)
    use_stride_in_1x1(net)
    for layer in net.sublayers():  # calibrate BatchNorm so activations stay in range
        if isinstance(layer, paddle.nn.BatchNorm2D):
            layer._momentum = 0.0
    names = sorted(p.stem for p in (physionet_t1 / "train").glob("*.mat"))[::2]
    images = [
        to_tensor(
            render_plot(
                aiwin.read_record(physionet_t1 / "train" / f"{n}.mat").signal,
                tiny_config(physionet_t1, tmp_path).render,  # as the run will render
            )
        )
        for n in names
    ]
    net.train()
    net(paddle.to_tensor(np.stack(images)))
    weights = tmp_path / "v1.pdparams"
    paddle.save(net.state_dict(), str(weights))
    weights.with_suffix(".json").write_text(json.dumps({"stride_in_1x1": True}))
    data = make_subset(physionet_t1, tmp_path / "data", names, task=1)
    cfg = tiny_config(
        data,
        tmp_path,
        "data.task=1",
        "loss.name=ce",
        "loss.pos_weight=null",
        "model.arch=resnet50",
        f"model.pretrained={weights}",
        "model.freeze_stages=5",
        "data.fold=all",
        "data.n_folds=2",
        "train.epochs=1",
        "train.max_steps_per_epoch=1",
    )
    fit(cfg)
    run = load_run(tmp_path / "tiny")
    assert run.info["stride_in_1x1"] and len(run.checkpoints) == 2
    # fold 0's model alone reproduces fold 0's validation probabilities: only true when
    # predict rebuilds the v1 strides the run was trained with
    val_names, val_probs = aiwin.read_probs(tmp_path / "tiny" / "fold0" / "val_probs.csv", 1)
    folder = tmp_path / "fold0_val"
    folder.mkdir()
    for n in val_names:
        (folder / f"{n}.mat").write_bytes((data / "train" / f"{n}.mat").read_bytes())
    single = predict_folder(dataclasses.replace(run, checkpoints=run.checkpoints[:1]), folder)
    np.testing.assert_allclose(single.probs, val_probs, atol=1e-5)
    wrong = predict_folder(
        dataclasses.replace(run, checkpoints=run.checkpoints[:1], info={"stride_in_1x1": False}),
        folder,
    )
    assert np.abs(wrong.probs - val_probs).max() > 1e-3
    # the ensemble averages both folds over every record
    pred = predict_folder(run, data / "train")
    oof_names, _ = aiwin.read_probs(tmp_path / "tiny" / "oof_probs.csv", 1)
    assert sorted(oof_names) == pred.names
    assert pred.probs.shape == (len(names), 2)
    np.testing.assert_allclose(pred.probs.sum(axis=1), 1, atol=1e-5)
    out = tmp_path / "answer.csv"
    write_prediction(pred, 1, out, tmp_path / "probs.csv")
    lines = out.read_text().splitlines()
    assert lines[0] == "name,tag" and len(lines) == len(names) + 1
    assert {line.split(",")[1] for line in lines[1:]} <= {"0", "1"}


def test_run_folder_is_checked_not_trusted(task2_run, tmp_path):
    """A run folder's own record decides what is loaded; anything missing, stale or
    foreign is a clear error naming the file."""
    import shutil

    from ecgplot.aiwin import BadInputError

    run_dir, _ = task2_run
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    assert [c.parent.name for c in load_run(run).checkpoints] == ["fold0"]
    shutil.copytree(run / "fold0", run / "fold3")  # stale fold of an earlier run
    assert [c.parent.name for c in load_run(run).checkpoints] == ["fold0"]
    (run / "thresholds.json").write_text('{"thresholds": [0.5, 0.5]}')
    with pytest.raises(BadInputError, match="list of 12 numbers"):
        load_run(run)
    (run / "thresholds.json").write_text("{not json")
    with pytest.raises(BadInputError, match="not readable JSON"):
        load_run(run)
    (run / "thresholds.json").unlink()
    (run / "model_info.json").unlink()
    with pytest.raises(BadInputError, match="model_info.json: missing"):
        load_run(run)
    (run / "model_info.json").write_text('{"stride_in_1x1": false}')
    ckpt = run / "fold0" / "best_model.pdparams"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    with pytest.raises(BadInputError, match="not a readable checkpoint"):
        predict_folder(load_run(run), run_dir.parent / "data" / "train")
    # a checkpoint of another task's network (12 outputs) under a task-1 config
    shutil.copy(run_dir / "fold0" / "best_model.pdparams", ckpt)
    config = (run / "config.yaml").read_text().replace("task: 2", "task: 1")
    config = config.replace("monitor: macro_auc", "monitor: auc").replace("name: bce", "name: ce")
    (run / "config.yaml").write_text(config)
    with pytest.raises(BadInputError, match="does not match the run's network"):
        predict_folder(load_run(run), run_dir.parent / "data" / "train")
    (run / "summary.json").unlink()
    with pytest.raises(BadInputError, match="summary.json: missing"):
        load_run(run)


def test_predict_cli_refuses_bad_options(task2_run, tmp_path):
    run_dir, data = task2_run
    base = [sys.executable, str(ROOT / "predict.py"), "--run", str(run_dir)]
    cases = [
        (["--data", str(data / "train"), "--tta", "-1"], "--tta must be 0 or more"),
        (["--data", str(data / "train"), "--out", str(tmp_path)], "is a directory"),
        (["--data", str(data / "train"), "--gradcam", "NOPE"], "--gradcam names records"),
        (["--data", str(data / "train"), "--backend", "onnx"], "export the run first"),
    ]
    for extra, message in cases:
        out = tmp_path / "answer.csv"
        proc = subprocess.run(
            [*base, *extra] + ([] if "--out" in extra else ["--out", str(out)]),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2, (extra, proc.stderr[-500:])
        assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-500:]
        assert not out.exists()  # nothing written before the error


def test_odd_entries_named_like_records_are_bad_records_not_ignored(task2_run, tmp_path):
    """A dangling link, a FIFO and a folder named NAME.mat, and a truncated MAT file, are
    each reported with what they are (a FIFO is never opened: reading it would hang)."""
    run_dir, data = task2_run
    folder = tmp_path / "test"
    folder.mkdir()
    good = sorted((data / "train").glob("*.mat"))[0]
    (folder / good.name).write_bytes(good.read_bytes())
    (folder / "GONE.mat").symlink_to(tmp_path / "nowhere.mat")
    os.mkfifo(folder / "PIPE.mat")
    (folder / "DIR.mat").mkdir()
    (folder / "HALF.mat").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    pred = predict_folder(load_run(run_dir), folder, skip_bad=True)
    assert pred.names == [good.stem]
    problems = {Path(k).name: v for k, v in pred.bad.items()}
    assert problems["GONE.mat"].startswith("dangling link")
    assert "FIFO" in problems["PIPE.mat"]
    assert "is a folder" in problems["DIR.mat"]
    assert "truncated" in problems["HALF.mat"]
    with pytest.raises(BadInputError, match="DIR.mat: is a folder"):
        predict_folder(load_run(run_dir), folder)


def test_inference_does_not_load_the_training_engine():
    """predict.py's package path reads a run through ecgplot.run_folder, not the trainer."""
    code = "import sys, ecgplot.infer; print('ecgplot.trainer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "False"
