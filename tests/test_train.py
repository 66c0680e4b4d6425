"""Training on real records (tiny images, CPU): loss, schedule, checkpoints, resume."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import cv2
import numpy as np
import paddle
import pytest

from drawers.printsim import PrintStyle, draw_print
from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.data import ECGImageDataset, load_split
from ecgplot.experiment import load_experiment
from ecgplot.model import build_model
from ecgplot.schedule import lr_factor, warmup_decay
from ecgplot.trainer import fit, make_loader, predict_loader, seed_everything, stage_seed

from .conftest import ROOT, tiny_config


def test_schedule_values():
    # linear warmup over 10 steps, then cosine to min_lr at step 100
    assert lr_factor(0, 10, 100, "cosine", 0.9, 0.0) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100, "cosine", 0.9, 0.0) == pytest.approx(1.0)  # warmup end
    assert lr_factor(55, 10, 100, "cosine", 0.9, 0.0) == pytest.approx(0.5)
    assert lr_factor(100, 10, 100, "cosine", 0.9, 0.01) == pytest.approx(0.01)  # decay end
    assert lr_factor(55, 10, 100, "poly", 1.0, 0.0) == pytest.approx(0.5)
    sched = warmup_decay(0.001, 10, 100, "cosine", min_lr=1e-5)
    lrs = []
    for _ in range(101):
        lrs.append(sched.get_lr())
        sched.step()
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert max(lrs) == pytest.approx(1e-3) and lrs[100] == pytest.approx(1e-5)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))  # monotone decay after warmup


def test_short_training_lowers_loss_and_reloads(small_t2, tmp_path):
    cfg = tiny_config(small_t2, tmp_path, "train.epochs=4", "optim.lr=0.002")
    (result,) = fit(cfg)
    run = tmp_path / "tiny" / "fold0"
    history = json.loads((run / "state.json").read_text())["history"]
    losses = [h["train_loss"] for h in history]
    assert len(losses) == 4 and losses[-1] < 0.7 * losses[0], losses
    for name in ("best_model.pdparams", "last.pdparams", "curves.png", "metrics.csv"):
        assert (run / name).is_file(), name
    assert (tmp_path / "tiny" / "config.yaml").is_file()
    assert list((run / "visualdl").iterdir())

    # best_model reloads to the very probabilities saved for the validation fold
    model = build_model(cfg.model, cfg.num_classes)
    model.set_state_dict(paddle.load(str(run / "best_model.pdparams")))
    split = load_split(cfg, 0)
    loader = make_loader(ECGImageDataset(cfg, split.val, None, train=False), 8, False, 0)
    probs, _ = predict_loader(model, loader, task=2)
    names, saved = aiwin.read_probs(run / "val_probs.csv", 2)
    assert names == split.val
    np.testing.assert_allclose(probs, saved, atol=1e-5)
    assert result.val_names == split.val


def test_rows_head_recipe_keeps_the_last_epoch(small_t2, tmp_path):
    """The CPU recipe's shape: backbone cut after layer3, frozen and cached, a rows head
    trained on the cached maps, and train.keep: last: the fold's model is its final
    epoch whatever the validation metric did, and it reloads to the saved probabilities."""
    cfg = tiny_config(
        small_t2,
        tmp_path,
        "model.stages=4",
        "model.freeze_stages=4",
        "model.head=rows",
        "model.head_channels=8",
        "train.cache_trunk=true",
        f"train.cache_dir={tmp_path / 'cache'}",
        "train.keep=last",
        "train.epochs=3",
        "optim.lr=0.003",
    )
    (result,) = fit(cfg)
    run = tmp_path / "tiny" / "fold0"
    history = json.loads((run / "state.json").read_text())["history"]
    assert result.best_epoch == 3 and result.best == history[-1]
    best = paddle.load(str(run / "best_model.pdparams"))
    last = paddle.load(str(run / "last.pdparams"))
    assert not any(k.startswith("backbone.layer4") for k in best)
    for key in best:
        np.testing.assert_array_equal(best[key].numpy(), last[key].numpy())
    model = build_model(cfg.model, cfg.num_classes)
    model.set_state_dict(best)
    split = load_split(cfg, 0)
    loader = make_loader(ECGImageDataset(cfg, split.val, None, train=False), 8, False, 0)
    probs, _ = predict_loader(model, loader, task=2)
    np.testing.assert_allclose(probs, aiwin.read_probs(run / "val_probs.csv", 2)[1], atol=2e-3)
    with pytest.raises(ValueError, match="early_stop needs train.keep: best"):
        tiny_config(small_t2, tmp_path, "train.keep=last", "train.early_stop=2")


def test_resume_continues_from_saved_epoch(small_t2, tmp_path):
    fit(tiny_config(small_t2, tmp_path, "train.epochs=2", "train.max_steps_per_epoch=1"))
    state_file = tmp_path / "tiny" / "fold0" / "state.json"
    first = json.loads(state_file.read_text())
    assert first["epoch"] == 2
    fit(
        tiny_config(small_t2, tmp_path, "train.epochs=3", "train.max_steps_per_epoch=1"),
        resume=True,
    )
    resumed = json.loads(state_file.read_text())
    assert resumed["epoch"] == 3 and len(resumed["history"]) == 3
    assert resumed["history"][:2] == first["history"]  # earlier epochs kept, not redone


def test_task1_kfold_writes_out_of_fold_predictions(physionet_t1, tmp_path):
    from .conftest import make_subset

    names = sorted(p.stem for p in (physionet_t1 / "train").glob("*.mat"))[::2]
    data = make_subset(physionet_t1, tmp_path / "data", names, task=1)
    cfg = tiny_config(
        data,
        tmp_path,
        "data.task=1",
        "loss.name=ce",
        "loss.pos_weight=null",
        "data.fold=all",
        "data.n_folds=2",
        "train.epochs=1",
        "data.stft=true",
        "model.shared_backbone=true",
    )
    results = fit(cfg)
    assert [r.fold for r in results] == [0, 1]
    oof_names, oof = aiwin.read_probs(tmp_path / "tiny" / "oof_probs.csv", 1)
    assert sorted(oof_names) == names and oof.shape == (len(names), 2)
    np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-5)  # softmax for task 1
    summary = json.loads((tmp_path / "tiny" / "summary.json").read_text())
    assert set(summary["oof"]) == {"f1", "accuracy", "auc"}


@pytest.mark.parametrize(
    "name",
    [
        "task1_resnet50_640",
        "task2_resnet50_640",
        "task1_resnet50_640_stft",
        "task2_resnet50_640_stft",
    ],
)
def test_full_size_configs_run_a_step(name, small_t2, physionet_t1, tmp_path):
    """Smoke: the 640 px ResNet50 configs train one step and validate on CPU."""
    from ecgplot.process import process_dataset
    from ecgplot.render import RenderConfig

    from .conftest import make_subset

    task = 1 if name.startswith("task1") else 2
    src = physionet_t1 if task == 1 else small_t2
    names = sorted(p.stem for p in (src / "train").glob("*.mat"))[::3][:8]
    data = make_subset(src, tmp_path / "subset", names, task=task)
    processed = tmp_path / "processed"
    cfg = load_experiment(
        ROOT / "configs" / f"{name}.yaml",
        [
            f"data.root={data}",
            f"data.processed={processed}",
            "data.n_folds=4",
            f"output_dir={tmp_path}",
            "data.num_workers=0",
            "model.pretrained=null",
            "train.epochs=1",
            "train.batch_size=2",
            "train.eval_batch_size=2",
            "train.max_steps_per_epoch=1",
        ],
    )
    assert cfg.render.size == 640 and cfg.model.arch == "resnet50"
    process_dataset(
        data, processed, RenderConfig(size=320), stft=cfg.data.stft, workers=1, n_folds=4
    )
    with pytest.raises(BadInputError, match="rendered with other settings"):
        fit(cfg)
    process_dataset(data, processed, cfg.render, stft=cfg.data.stft, workers=1, n_folds=4)
    five = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, n_folds=5))
    with pytest.raises(BadInputError, match="has 4 folds but data.n_folds is 5"):
        load_split(five, 0)
    seed_everything(stage_seed(cfg.train.seed, 0))  # the network fold 0 starts from
    start = build_model(cfg.model, cfg.num_classes, two_stream=cfg.data.stft).state_dict()
    (result,) = fit(cfg)
    assert np.isfinite(result.best["train_loss"])
    trained = paddle.load(str(tmp_path / name / "fold0" / "best_model.pdparams"))
    assert not np.allclose(trained["head.fc.weight"].numpy(), start["head.fc.weight"].numpy())
    val_names, probs = aiwin.read_probs(tmp_path / name / "fold0" / "val_probs.csv", task)
    assert val_names == result.val_names and probs.shape == (len(val_names), cfg.num_classes)


def test_png_of_the_wrong_size_is_bad_input(small_t2, tmp_path):
    """Images are read as rendered: a foreign PNG is an error naming it, never resized."""
    import cv2

    from ecgplot.process import process_dataset

    processed = tmp_path / "processed"
    cfg = tiny_config(small_t2, tmp_path, "data.source=png", f"data.processed={processed}")
    process_dataset(small_t2, processed, cfg.render, workers=1, n_folds=4)
    split = load_split(cfg, 0)
    dataset = ECGImageDataset(cfg, split.val, split.labels, train=False)
    plot, target = dataset[0]
    assert plot.shape == (64, 64) and plot.dtype == np.uint8 and target.shape == (12,)
    foreign = processed / "images" / "train" / f"{split.val[0]}.png"
    cv2.imwrite(str(foreign), np.full((80, 80), 255, np.uint8))
    with pytest.raises(BadInputError, match=r"image is \(80, 80\), expected \(64, 64\)") as err:
        dataset[0]
    assert str(foreign) in str(err.value)


def test_cached_trunk_training_matches_the_full_network(small_t2, tmp_path):
    """train.cache_trunk: the frozen stages run once per image (cached on disk, reused by
    a second run), the checkpoint is a whole network, and predicting with it through the
    normal full forward reproduces the validation probabilities of the cached path."""
    from ecgplot.infer import load_run, predict_folder

    cache = tmp_path / "cache"
    extra = [
        "model.freeze_stages=4",
        "train.cache_trunk=true",
        f"train.cache_dir={cache}",
        "train.epochs=2",
        "optim.lr=0.001",
    ]
    cfg = tiny_config(small_t2, tmp_path, *extra)
    seed_everything(stage_seed(cfg.train.seed, 0))  # as fold 0 does before building its model
    model = build_model(cfg.model, cfg.num_classes)
    model.eval()
    x = paddle.randn([2, 3, 64, 64])
    np.testing.assert_allclose(model.top(model.trunk(x)).numpy(), model(x).numpy(), atol=1e-5)
    (result,) = fit(cfg)
    maps = sorted((cache).glob("trunk-*/*.npy"))
    assert len(maps) == len(list((small_t2 / "train").glob("*.mat")))  # one per image
    stamps = [m.stat().st_mtime_ns for m in maps]
    first = paddle.load(str(tmp_path / "tiny" / "fold0" / "best_model.pdparams"))
    trunk_keys = [k for k in first if k.startswith(("backbone.layer1", "backbone.conv1"))]
    head_before = model.state_dict()["head.fc.weight"].numpy()
    assert not np.allclose(first["head.fc.weight"].numpy(), head_before)  # the head trained
    for key in trunk_keys:  # the trunk did not
        np.testing.assert_array_equal(first[key].numpy(), model.state_dict()[key].numpy())
    run = load_run(tmp_path / "tiny")
    val = tmp_path / "val"
    val.mkdir()
    for n in result.val_names:
        (val / f"{n}.mat").write_bytes((small_t2 / "train" / f"{n}.mat").read_bytes())
    pred = predict_folder(run, val)
    names, saved = aiwin.read_probs(tmp_path / "tiny" / "fold0" / "val_probs.csv", 2)
    assert pred.names == names
    np.testing.assert_allclose(pred.probs, saved, atol=2e-3)  # float16 cache vs float32
    fit(tiny_config(small_t2, tmp_path, *extra, "name=again"))
    assert [m.stat().st_mtime_ns for m in maps] == stamps  # reused, not recomputed


def test_workers_draw_new_augmentations_each_epoch_and_send_uint8(small_t2, tmp_path):
    """With loader workers, each epoch gets new augmentations, the same ones as without
    workers (seeded per sample), and batches travel as uint8 grayscale."""
    cfg = tiny_config(small_t2, tmp_path, "image_aug.enabled=true", "image_aug.erase_p=1.0")
    split = load_split(cfg, 0)
    dataset = ECGImageDataset(cfg, split.train[:8], split.labels, train=True)

    def epoch_batch(epoch: int, workers: int) -> np.ndarray:
        dataset.set_epoch(epoch)
        loader = make_loader(dataset, 8, False, workers)
        (images, _target), *_ = list(loader)
        assert images.dtype == paddle.uint8 and images.shape == [8, 64, 64]
        return images.numpy()

    one, two = epoch_batch(1, 2), epoch_batch(2, 2)
    differ = [not np.array_equal(a, b) for a, b in zip(one, two)]
    assert all(differ), differ  # no worker replays the previous epoch
    np.testing.assert_array_equal(one, epoch_batch(1, 0))  # workers change nothing
    np.testing.assert_array_equal(one, epoch_batch(1, 2))  # and rerun gives the same


def test_two_process_training_on_cpu(small_t2, tmp_path):
    """The multi-GPU path (paddle.distributed.launch, DataParallel) on CPU with 2
    processes: each rank trains on half the batches, rank 0 alone writes the run."""
    import subprocess
    import sys

    out = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "paddle.distributed.launch",
        "--nproc_per_node",
        "2",
        "--log_dir",
        str(tmp_path / "logs"),
        str(ROOT / "train.py"),
        "--config",
        str(ROOT / "configs" / "cpu_rows12_task2.yaml"),
        f"data.root={small_t2}",
        f"output_dir={out}",
        "name=ddp",
        "data.n_folds=4",
        "render.size=64",
        "model.arch=resnet18",
        "model.pretrained=null",
        "model.freeze_stages=0",
        "train.cache_trunk=false",
        "train.epochs=1",
        "train.batch_size=4",
        "train.device=cpu",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    logs = [(tmp_path / "logs" / f"workerlog.{r}").read_text() for r in (0, 1)]
    assert "rank 0 of 2" in logs[0] and "rank 1 of 2" in logs[1]
    n_train = int(re.search(r"fold 0: (\d+) train", logs[0]).group(1))
    steps = int(re.search(r"(\d+) steps per epoch", logs[0]).group(1))
    assert steps == -(-n_train // (4 * 2))  # each rank: half of the batches
    run_log = (out / "ddp" / "train.log").read_text()
    assert "rank 0 of 2" in run_log and "rank 1" not in run_log  # rank 0 alone writes
    assert (out / "ddp" / "fold0" / "best_model.pdparams").is_file()
    assert (out / "ddp" / "summary.json").is_file()


def test_views_stack_renderings_through_one_trunk(small_t2, tmp_path):
    """views: each record is also drawn at twice the gain and as its median beats; the
    three images go through the same frozen, cached trunk and the head sees their maps
    stacked on channels, pooled per lead band and stretch of time. The trained run
    predicts, exports (the same probabilities from Paddle inference and ONNX) and draws
    Grad-CAM from all renderings; a picture (one rendering) is refused, and so is a run
    on median beats alone."""
    from ecgplot.export import export_run
    from ecgplot.gradcam import save_gradcams
    from ecgplot.infer import load_run, predict_folder, predict_pictures
    from ecgplot.render import render_plot

    cfg = tiny_config(
        small_t2,
        tmp_path,
        "views=[{mm_per_mv: 20}, {layout: beats12, mm_per_mv: 2.5}]",
        "model.stages=4",
        "model.freeze_stages=4",
        "model.head=rows",
        "model.head_channels=8",
        "model.head_bins=4",  # cpu_small's head: each lead band pooled in 4 stretches of time
        "train.cache_trunk=true",
        f"train.cache_dir={tmp_path / 'cache'}",
        "train.keep=last",
        "train.epochs=2",
        "data.fold=0",
        "render.size=192",  # 12 rows of layer3 maps: one per lead band (ONNX needs them)
    )
    split = load_split(cfg, 0)
    ds = ECGImageDataset(cfg, split.val, split.labels, train=False)
    plots = ds[0][0]
    signal = aiwin.read_record(small_t2 / "train" / f"{split.val[0]}.mat").signal
    assert plots.shape == (3, 192, 192) and plots.dtype == np.uint8
    np.testing.assert_array_equal(plots[0], render_plot(signal, cfg.render))
    np.testing.assert_array_equal(plots[1], render_plot(signal, cfg.renders[1]))
    np.testing.assert_array_equal(plots[2], render_plot(signal, cfg.renders[2]))
    assert (plots[1] < 128).sum() > 1.2 * (plots[0] < 128).sum()  # taller traces, more ink

    fit(cfg)
    cached = list((tmp_path / "cache").glob("trunk-*/*.npy"))
    assert len(cached) == 3 * 23  # one map per rendering: reusable by single-view runs
    run = load_run(tmp_path / "tiny")
    model = build_model(cfg.model, cfg.num_classes, views=3)
    assert model.head.reduce[0].weight.shape[1] == 3 * 256  # resnet18 layer3: 256 channels a view
    assert model.head.fc.weight.shape[0] == 2 * 8 * 12 * 4  # avg and max, 8 channels, 12 x 4
    pred = predict_folder(run, small_t2 / "train")
    saved_names, saved = aiwin.read_probs(tmp_path / "tiny" / "fold0" / "val_probs.csv", 2)
    rows = [pred.names.index(n) for n in saved_names]
    np.testing.assert_allclose(pred.probs[rows], saved, atol=2e-3)

    export_run(tmp_path / "tiny")
    for backend in ("paddle", "onnx"):
        other = predict_folder(run, small_t2 / "train", backend=backend)
        np.testing.assert_allclose(other.probs, pred.probs, atol=1e-4)
    (cam,) = save_gradcams(run, small_t2 / "train", [split.val[0]], tmp_path / "cam")
    assert cam.is_file()
    # pictures reach a run with views and beat renderings through the digitiser
    pics = tmp_path / "pictures"
    pics.mkdir()
    page = draw_print(signal, PrintStyle(dpi=120.0))
    cv2.imwrite(str(pics / "print.png"), cv2.cvtColor(page.image, cv2.COLOR_RGB2BGR))
    from_picture = predict_pictures(run, pics)
    assert from_picture.names == ["print"] and np.isfinite(from_picture.probs).all()
    assert from_picture.report.loc[0, "layout"] == "3x4"
    with pytest.raises(ValueError, match="freeze_stages == model.stages"):
        tiny_config(small_t2, tmp_path, "views=[{mm_per_mv: 20}]")
    with pytest.raises(ValueError, match=r"views\[0\].size must equal render.size"):
        tiny_config(small_t2, tmp_path, "views=[{size: 128}]", "model.freeze_stages=5")


def test_killed_at_any_point_and_resumed_ends_as_an_uninterrupted_run(small_t2, tmp_path):
    """train.py killed (SIGKILL) in the middle of a k-fold run, then rerun with
    --resume, writes the same out-of-fold probabilities as a run never interrupted:
    every fold and epoch draws its own seeded numbers, and the last checkpoint
    restores weights, optimizer and schedule."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import pandas as pd

    from ecgplot.config import dump_yaml, to_dict

    def command(out: Path) -> list[str]:
        cfg = tiny_config(small_t2, out, "data.fold=all", "data.n_folds=2", "train.epochs=3")
        out.mkdir(parents=True, exist_ok=True)
        path = out / "experiment.yaml"
        path.write_text(dump_yaml(to_dict(cfg)))
        return [sys.executable, str(ROOT / "train.py"), "--config", str(path)]

    whole, broken = tmp_path / "whole", tmp_path / "broken"
    done = subprocess.run(command(whole), capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-800:]
    proc = subprocess.Popen(
        command(broken),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    state = broken / "tiny" / "fold1" / "state.json"  # killed inside the second fold
    deadline = time.time() + 600
    while not state.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (broken / "tiny" / "oof_probs.csv").exists()  # it did not finish
    resumed = subprocess.run(
        [*command(broken), "--resume"], capture_output=True, text=True, cwd=ROOT
    )
    assert resumed.returncode == 0, resumed.stderr[-800:]
    a = pd.read_csv(whole / "tiny" / "oof_probs.csv", index_col=0)
    b = pd.read_csv(broken / "tiny" / "oof_probs.csv", index_col=0)
    pd.testing.assert_frame_equal(a, b, atol=1e-6)


def test_mixup_mixes_each_batch_with_itself_and_weighs_the_two_losses(physionet_t1):
    """BatchMixup on real signals: every mixed record lies on the segment from its own
    record to one other's, one lam for the batch, the partners a permutation; the loss is
    lam * CE(y) + (1 - lam) * CE(y[partner]) (computed here with numpy); the same (seed,
    fold, epoch) mixes the same, another epoch differently."""
    from ecgplot.mixup import BatchMixup

    names = sorted(p.stem for p in (physionet_t1 / "train").glob("*.mat"))[:6]
    x = np.stack([aiwin.read_record(physionet_t1 / "train" / f"{n}.mat").signal for n in names])
    y = np.array([0, 1, 1, 0, 1, 0])
    logits = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)

    def mixed(epoch: int):
        mix = BatchMixup(1.0, seed=3, fold=1)
        mix.set_epoch(epoch)
        (got,), loss = mix([paddle.to_tensor(x)], paddle.to_tensor(y))
        return got.numpy(), loss

    def cross_entropy(target: np.ndarray) -> float:
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(6), target].mean())

    epoch = next(e for e in range(1, 20) if 0.2 < _mix_share(*mixed(e)[:1], x) < 0.8)
    got, loss = mixed(epoch)
    lam = _mix_share(got, x)
    partners = []
    for i in range(6):  # m_i = lam x_i + (1 - lam) x_j for exactly one j
        errors = [np.abs(got[i] - (lam * x[i] + (1 - lam) * x[j])).max() for j in range(6)]
        assert min(errors) < 1e-4, errors
        partners.append(int(np.argmin(errors)))
    assert sorted(partners) == list(range(6)) and partners != list(range(6))
    expected = lam * cross_entropy(y) + (1 - lam) * cross_entropy(y[partners])
    ce = paddle.nn.functional.cross_entropy
    assert float(loss(ce, paddle.to_tensor(logits))) == pytest.approx(expected, abs=1e-5)
    np.testing.assert_array_equal(got, mixed(epoch)[0])
    assert not np.array_equal(got, mixed(epoch + 1)[0])


def _mix_share(mixed: np.ndarray, x: np.ndarray) -> float:
    """The share lam of each record's own signal in its mixed copy, from record 0 and the
    partner that fits it best (least squares over every candidate)."""
    fits = []
    for j in range(1, len(x)):
        d = x[0] - x[j]
        lam = float(((mixed[0] - x[j]) * d).sum() / (d * d).sum())
        fits.append((np.abs(mixed[0] - (lam * x[0] + (1 - lam) * x[j])).max(), lam))
    return min(fits)[1] if not np.allclose(mixed[0], x[0]) else 1.0


def test_a_run_with_mixup_trains_differently_and_only_for_batch_models(small_t2, tmp_path):
    """train.mixup (here on cached trunk maps, as the CPU recipe trains) changes what a
    tiny run learns from the same records and seed; the feature model, which has no
    batches, refuses it."""
    cached = ["model.freeze_stages=4", "train.cache_trunk=true", f"train.cache_dir={tmp_path}"]
    runs = {}
    for name, extra in (("plain", []), ("mixup", ["train.mixup=0.4"])):
        cfg = tiny_config(small_t2, tmp_path, f"name={name}", "train.epochs=2", *cached, *extra)
        fit(cfg)
        runs[name] = aiwin.read_probs(tmp_path / name / "fold0" / "val_probs.csv", 2)[1]
    assert np.all(np.isfinite(runs["mixup"]))
    assert np.abs(runs["mixup"] - runs["plain"]).max() > 1e-3
    with pytest.raises(ValueError, match="train.mixup is for image and 1-D runs"):
        load_experiment(ROOT / "configs" / "features_task1.yaml", ["train.mixup=0.4"])
