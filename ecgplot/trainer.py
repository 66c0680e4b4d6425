"""Training engine: one fold or k folds, validation each epoch, checkpoints, resume."""

from __future__ import annotations

import csv
import json
import logging
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import paddle
from tqdm import tqdm

from .aiwin import label_matrix, read_probs, write_probs
from .atomic import atomic_path, atomic_write
from .config import dump_yaml, to_dict
from .data import ECGImageDataset, Split, check_processed, load_split, prepare_inputs
from .decide import choose_thresholds
from .experiment import ExperimentConfig
from .kinds import get_kind
from .losses import build_loss
from .metrics import default_monitor, task_metrics
from .mixup import BatchMixup
from .model import TopOnly, probabilities
from .plots import training_curves
from .run_folder import (
    BEST_WEIGHTS,
    FOLD_STATE,
    LAST_OPTIMIZER,
    LAST_WEIGHTS,
    MODEL_INFO_FILE,
    OOF_PROBS,
    SUMMARY_FILE,
    THRESHOLDS_FILE,
    VAL_PROBS,
    FoldResult,
)
from .schedule import warmup_decay
from .trunk_cache import CachedTrunkDataset, cached_dataset

log = logging.getLogger(__name__)


def select_device(name: str) -> str:
    """``auto``: the GPU when Paddle sees one, else the CPU."""
    has_gpu = paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
    if name == "auto":
        name = "gpu" if has_gpu else "cpu"
    if name == "gpu" and not has_gpu:
        raise RuntimeError("train.device is gpu but Paddle sees no GPU (CPU build installed?)")
    rank = paddle.distributed.get_rank()
    paddle.set_device(
        f"gpu:{paddle.distributed.ParallelEnv().device_id}" if name == "gpu" else "cpu"
    )
    log.info("device %s (rank %d of %d)", paddle.device.get_device(), rank, world_size())
    return name


def configure_cpu(threads: int, onednn: bool) -> None:
    """CPU math threads (0: all cores) and oneDNN kernels, set on purpose."""
    n = threads or len(os.sched_getaffinity(0))
    paddle.base.core.set_num_threads(n)
    paddle.set_flags({"FLAGS_use_mkldnn": bool(onednn)})
    log.info("CPU: %d threads, oneDNN %s", n, "on" if onednn else "off")


def world_size() -> int:
    return paddle.distributed.get_world_size()


def is_main_process() -> bool:
    return paddle.distributed.get_rank() == 0


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def stage_seed(seed: int, *stage: int) -> int:
    """A seed for one stage of a run (a fold, an epoch of a fold) from the run's seed:
    each stage draws the same numbers whatever ran before it, so a run resumed after
    being killed at any point ends as an uninterrupted one does."""
    return int(np.random.SeedSequence([seed, *stage]).generate_state(1)[0])


def _worker_init(worker_id: int) -> None:
    """Seed global generators per worker and epoch (the dataset seeds its own
    augmentations per sample)."""
    info = paddle.io.get_worker_info()
    dataset = info.dataset
    seed = np.random.SeedSequence(
        [dataset.cfg.train.seed, getattr(dataset, "epoch", 0), worker_id]
    ).generate_state(1)[0]
    np.random.seed(seed)
    random.seed(int(seed))


def make_loader(dataset: ECGImageDataset, batch_size: int, shuffle: bool, workers: int):
    if shuffle and world_size() > 1:
        sampler = paddle.io.DistributedBatchSampler(dataset, batch_size, shuffle=True)
    else:
        sampler = paddle.io.BatchSampler(dataset, shuffle=shuffle, batch_size=batch_size)
    return paddle.io.DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        worker_init_fn=_worker_init if workers else None,
    )


@paddle.no_grad()
def predict_loader(model, loader, task: int, loss_fn=None, desc: str = "predict"):
    """Probabilities (and mean loss when targets and ``loss_fn`` are given) over a loader."""
    model.eval()
    probs, losses, count = [], 0.0, 0
    for batch in tqdm(loader, desc=desc, leave=False, disable=None):
        inputs = prepare_inputs(batch[:-1] if loss_fn is not None else batch)
        logits = model(*inputs)
        if loss_fn is not None:
            losses += float(loss_fn(logits, batch[-1])) * len(logits)
            count += len(logits)
        probs.append(probabilities(logits, task))
    return np.concatenate(probs), (losses / count if count else float("nan"))


def _optimizer_state(opt_state: dict, model: paddle.nn.Layer, to_structured: bool) -> dict:
    """Rename optimizer accumulators between Paddle's unique parameter names (which differ
    between model instances) and the model's structured names (which do not)."""
    pairs = [(p.name, k) for k, p in model.named_parameters()]
    if not to_structured:
        pairs = [(k, name) for name, k in pairs]
    out = {}
    for key, value in opt_state.items():
        for old, new in pairs:
            if key.startswith(old + "_"):
                key = new + key[len(old) :]
                break
        out[key] = value
    return out


def _save_atomic(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        paddle.save(obj, str(tmp))


@dataclass
class FoldState:
    """Where a fold's training stands (saved as ``state.json`` each epoch, for resume):
    the last finished epoch, the best monitored value and its epoch, the epochs since
    it improved, and the metrics of every epoch."""

    epoch: int = 0
    best: float = -np.inf
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list[dict] = field(default_factory=list)

    def record(self, row: dict, value: float, keep_last: bool) -> bool:
        """Add one epoch's ``row``; whether it is the fold's model now. With
        ``keep_last`` every epoch is (the last one is kept, and the validation fold
        never picks it: its out-of-fold probabilities stay unbiased)."""
        self.history.append(row)
        self.epoch = row["epoch"]
        improved = keep_last or value > self.best
        if improved:
            self.best, self.best_epoch, self.bad_epochs = value, self.epoch, 0
        else:
            self.bad_epochs += 1
        return improved

    def should_stop(self, patience: int) -> bool:
        """Early stopping: ``patience`` epochs without improvement (0: never)."""
        return bool(patience) and self.bad_epochs >= patience


@dataclass
class FoldSetup:
    """Everything one fold trains with."""

    split: Split
    model: paddle.nn.Layer  # the whole network (saved)
    trained: paddle.nn.Layer  # what a batch goes through: the model, or its top
    train_ds: ECGImageDataset | CachedTrunkDataset
    train_loader: paddle.io.DataLoader
    val_loader: paddle.io.DataLoader
    steps: int
    loss_fn: paddle.nn.Layer
    opt: paddle.optimizer.Optimizer
    scheduler: paddle.optimizer.lr.LRScheduler
    scaler: paddle.amp.GradScaler | None
    monitor: str
    mixup: BatchMixup | None = None


def build_optimizer(cfg: ExperimentConfig, model: paddle.nn.Layer, steps: int):
    """(optimizer, scheduler): AdamW or momentum over the trainable parameters, with the
    configured warmup + decay per step and optional global-norm gradient clipping."""
    o = cfg.optim
    scheduler = warmup_decay(
        o.lr,
        int(round(o.warmup_epochs * steps)),
        cfg.train.epochs * steps,
        o.decay,
        o.poly_power,
        o.min_lr,
    )
    params = [p for p in model.parameters() if not p.stop_gradient]
    clip = paddle.nn.ClipGradByGlobalNorm(o.grad_clip) if o.grad_clip else None
    if o.name == "adamw":
        opt = paddle.optimizer.AdamW(
            scheduler, parameters=params, weight_decay=o.weight_decay, grad_clip=clip
        )
    else:
        opt = paddle.optimizer.Momentum(
            scheduler, o.momentum, parameters=params, weight_decay=o.weight_decay, grad_clip=clip
        )
    return opt, scheduler


def setup_fold(cfg: ExperimentConfig, fold: int) -> FoldSetup:
    """The fold's split, network, datasets (through the cached trunk when configured),
    loaders, loss, optimizer and schedule."""
    check_processed(cfg)
    split = load_split(cfg, fold)
    seed_everything(stage_seed(cfg.train.seed, fold))  # the head's initial weights
    kind = get_kind(cfg.model.kind)
    model = kind.build(cfg)
    train_ds, val_ds = kind.datasets(cfg, split)
    trained: paddle.nn.Layer = model
    if cfg.train.cache_trunk:
        train_ds = cached_dataset(model, train_ds, cfg)
        val_ds = cached_dataset(model, val_ds, cfg)
        trained = TopOnly(model)
    train_loader = make_loader(train_ds, cfg.train.batch_size, True, cfg.data.num_workers)
    val_loader = make_loader(val_ds, cfg.train.eval_batch_size, False, cfg.data.num_workers)
    steps = len(train_loader)
    if cfg.train.max_steps_per_epoch:
        steps = min(steps, cfg.train.max_steps_per_epoch)
    log.info(
        "fold %d: %d train / %d val records, %d steps per epoch",
        fold,
        len(split.train),
        len(split.val),
        steps,
    )
    task = cfg.data.task
    loss_fn = build_loss(cfg.loss, task, label_matrix(split.labels, split.train, task))
    opt, scheduler = build_optimizer(cfg, model, steps)
    use_amp = cfg.train.amp and paddle.device.get_device().startswith("gpu")
    monitor = cfg.train.monitor if cfg.train.monitor != "auto" else default_monitor(task)
    return FoldSetup(
        split,
        model,
        trained,
        train_ds,
        train_loader,
        val_loader,
        steps,
        loss_fn,
        opt,
        scheduler,
        paddle.amp.GradScaler() if use_amp else None,
        monitor,
        BatchMixup(cfg.train.mixup, cfg.train.seed, fold) if cfg.train.mixup else None,
    )


def restore(setup: FoldSetup, out: Path, fold: int) -> FoldState:
    """The fold's state from its last checkpoint (weights, optimizer, schedule), or a
    fresh state when there is none."""
    if not (out / LAST_WEIGHTS).is_file():
        return FoldState()
    setup.model.set_state_dict(paddle.load(str(out / LAST_WEIGHTS)))
    opt_state = paddle.load(str(out / LAST_OPTIMIZER))
    setup.opt.set_state_dict(_optimizer_state(opt_state, setup.model, to_structured=False))
    state = FoldState(**json.loads((out / FOLD_STATE).read_text()))
    setup.scheduler.last_epoch = state.epoch * setup.steps - 1
    setup.scheduler.step()
    log.info(
        "resumed fold %d from epoch %d (best %s %.4f)",
        fold,
        state.epoch,
        setup.monitor,
        state.best,
    )
    return state


def train_epoch(setup: FoldSetup, net: paddle.nn.Layer, fold: int, epoch: int, log_every: int):
    """One pass over the training loader (at most ``steps`` batches): (mean loss,
    images per second)."""
    if hasattr(setup.train_ds, "set_epoch"):
        setup.train_ds.set_epoch(epoch)
    if setup.mixup is not None:
        setup.mixup.set_epoch(epoch)
    net.train()  # the model's own train(): keeps frozen stages and BatchNorm in eval
    opt, scaler = setup.opt, setup.scaler
    total, seen, start = 0.0, 0, time.perf_counter()
    bar = tqdm(total=setup.steps, desc=f"fold {fold} epoch {epoch}", leave=False, disable=None)
    for step, batch in enumerate(setup.train_loader):
        if step >= setup.steps:
            break
        *inputs, target = batch
        inputs = prepare_inputs(inputs)
        if setup.mixup is not None:
            inputs, mixed_loss = setup.mixup(inputs, target)
        with paddle.amp.auto_cast(enable=scaler is not None):
            logits = net(*inputs).astype("float32")
            if setup.mixup is not None:
                loss = mixed_loss(setup.loss_fn, logits)
            else:
                loss = setup.loss_fn(logits, target)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        opt.clear_grad()
        setup.scheduler.step()
        total += float(loss) * len(target)
        seen += len(target)
        bar.update()
        bar.set_postfix(loss=f"{total / seen:.4f}", lr=f"{opt.get_lr():.2e}")
        if (step + 1) % log_every == 0:
            log.info(
                "fold %d epoch %d step %d/%d: loss %.4f, lr %.2e",
                fold,
                epoch,
                step + 1,
                setup.steps,
                total / seen,
                opt.get_lr(),
            )
    bar.close()
    return total / seen, seen / (time.perf_counter() - start)


def validate(setup: FoldSetup, task: int) -> tuple[np.ndarray, float, dict[str, float]]:
    """(probabilities, loss, metrics) of the validation fold."""
    probs, val_loss = predict_loader(
        setup.trained, setup.val_loader, task, setup.loss_fn, "validate"
    )
    metrics = task_metrics(task, probs, label_matrix(setup.split.labels, setup.split.val, task))
    return probs, val_loss, metrics


def save_epoch(setup: FoldSetup, state: FoldState, out: Path, improved: bool, probs, task: int):
    """The fold's files after an epoch: best weights and validation probabilities when
    it improved; always the last weights, optimizer, state, metrics table and curves."""
    if improved:
        _save_atomic(setup.model.state_dict(), out / BEST_WEIGHTS)
        write_probs(out / VAL_PROBS, setup.split.val, probs, task)
    _save_atomic(setup.model.state_dict(), out / LAST_WEIGHTS)
    opt_state = _optimizer_state(setup.opt.state_dict(), setup.model, to_structured=True)
    _save_atomic(opt_state, out / LAST_OPTIMIZER)
    with atomic_write(out / FOLD_STATE) as fh:
        json.dump(asdict(state), fh, indent=1)
    _write_history(out / "metrics.csv", state.history)
    training_curves(out / "curves.png", state.history, setup.monitor)


def _write_model_info(model: paddle.nn.Layer, cfg: ExperimentConfig, run: Path) -> None:
    """RUN/model_info.json: what the kind needs to rebuild the network, if anything."""
    info = get_kind(cfg.model.kind).model_info(model, cfg)
    if info is not None:
        with atomic_write(run / MODEL_INFO_FILE) as fh:
            json.dump(info, fh, indent=1)


def train_fold(cfg: ExperimentConfig, fold: int, out: Path, resume: bool = False) -> FoldResult:
    """Train on every fold but ``fold``, validate on ``fold`` each epoch; write to ``out``."""
    task, main = cfg.data.task, is_main_process()
    setup = setup_fold(cfg, fold)
    net = paddle.DataParallel(setup.trained) if world_size() > 1 else setup.trained
    state = restore(setup, out, fold) if resume else FoldState()
    writer = _visualdl(out) if main else None
    out.mkdir(parents=True, exist_ok=True)
    if main:
        _write_model_info(setup.model, cfg, out.parent)
    for epoch in range(state.epoch + 1, cfg.train.epochs + 1):
        seed_everything(stage_seed(cfg.train.seed, fold, epoch))  # shuffle order, dropout
        train_loss, images_per_s = train_epoch(setup, net, fold, epoch, cfg.train.log_interval)
        probs, val_loss, metrics = validate(setup, task)
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "lr": setup.opt.get_lr(),
            "images_per_s": images_per_s,
            **metrics,
        }
        improved = state.record(row, metrics[setup.monitor], cfg.train.keep == "last")
        log.info(
            "fold %d epoch %d: train loss %.4f, val loss %.4f, %s, %.2f img/s%s",
            fold,
            epoch,
            train_loss,
            val_loss,
            ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
            images_per_s,
            " (best)" if improved else "",
        )
        if main:
            save_epoch(setup, state, out, improved, probs, task)
            if writer is not None:
                for key, value in row.items():
                    if key != "epoch":
                        writer.add_scalar(tag=f"fold{fold}/{key}", step=epoch, value=value)
        if state.should_stop(cfg.train.early_stop):
            log.info(
                "early stop: %s did not improve for %d epochs", setup.monitor, state.bad_epochs
            )
            break
    if writer is not None:
        writer.close()
    best = next(h for h in state.history if h["epoch"] == state.best_epoch)
    best_probs = None
    if (out / VAL_PROBS).is_file():
        _, best_probs = read_probs(out / VAL_PROBS, task)
    return FoldResult(fold, state.best_epoch, best, setup.split.val, best_probs)


def _visualdl(out: Path):
    try:
        from visualdl import LogWriter
    except ImportError:
        log.info("visualdl not installed: no VisualDL scalars")
        return None
    return LogWriter(logdir=str(out / "visualdl"))


def _write_history(path: Path, history: list[dict]) -> None:
    with atomic_write(path, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(history[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)


def fit(cfg: ExperimentConfig, resume: bool = False) -> list[FoldResult]:
    """Train as configured; ``data.fold: all`` trains every fold and writes out-of-fold
    predictions (``oof_probs.csv``) and metrics. Returns each fold's result."""
    run = cfg.run_dir
    seed_everything(cfg.train.seed)
    kind = get_kind(cfg.model.kind)
    if kind.engine_trained:
        device = select_device(cfg.train.device)
        if device == "cpu":
            configure_cpu(cfg.train.cpu_threads, cfg.train.onednn)
        if world_size() > 1:
            paddle.distributed.init_parallel_env()
    if is_main_process():
        run.mkdir(parents=True, exist_ok=True)
        with atomic_write(run / "config.yaml") as fh:
            fh.write(dump_yaml(to_dict(cfg)))
    folds = list(range(cfg.data.n_folds)) if cfg.data.fold == "all" else [cfg.data.fold]
    if kind.engine_trained:
        results = [train_fold(cfg, k, run / f"fold{k}", resume) for k in folds]
    else:
        results = [kind.train_fold(cfg, k, run / f"fold{k}") for k in folds]
    if is_main_process():
        _write_summary(cfg, run, results)
    return results


def _write_summary(cfg: ExperimentConfig, run: Path, results: list[FoldResult]) -> None:
    """summary.json, out-of-fold predictions (k-fold) and decision thresholds chosen on the
    held-out predictions (out-of-fold, or the single validation fold)."""
    task = cfg.data.task
    summary = {"folds": {r.fold: {"best_epoch": r.best_epoch, **r.best} for r in results}}
    held_out = [r for r in results if r.val_probs is not None]
    if held_out:
        names = [n for r in held_out for n in r.val_names]
        probs = np.concatenate([r.val_probs for r in held_out])
        y = label_matrix(load_split(cfg, held_out[0].fold).labels, names, task)
        if len(results) > 1:
            write_probs(run / OOF_PROBS, names, probs, task)
            summary["oof"] = task_metrics(task, probs, y)
            log.info(
                "out-of-fold: %s", ", ".join(f"{k} {v:.4f}" for k, v in summary["oof"].items())
            )
        y_multi = np.eye(2)[y] if task == 1 else y
        thresholds = choose_thresholds(probs, y_multi)
        source = "out-of-fold" if len(results) > 1 else f"validation fold {held_out[0].fold}"
        with atomic_write(run / THRESHOLDS_FILE) as fh:
            json.dump({"source": source, "thresholds": thresholds.tolist()}, fh, indent=1)
    with atomic_write(run / SUMMARY_FILE) as fh:
        json.dump(summary, fh, indent=2)
