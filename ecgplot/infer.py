"""Load a training run and predict MAT records: fold ensemble, TTA, answer/probs files."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import paddle
import pandas as pd
from tqdm import tqdm

from .aiwin import (
    FS,
    BadInputError,
    list_records,
    read_record,
    write_bad_records,
    write_labels,
    write_probs,
)
from .atomic import atomic_path, atomic_write
from .config import load_yaml
from .data import model_inputs, rendered_views
from .decide import decide
from .digitize.folder import REPORT, digitize_pictures, report_row
from .experiment import ExperimentConfig, experiment_from_dict
from .export import (
    EXPORT_DIR,
    DygraphPredictor,
    OnnxPredictor,
    PaddleInferencePredictor,
    export_model,
    read_export_info,
)
from .feature_model import FeaturePredictor
from .heads import upgrade_state
from .model import ECGClassifier, build_model
from .run_folder import CHECKPOINTS, MODEL_INFO_FILE, SUMMARY_FILE, THRESHOLDS_FILE
from .signal import heart_rate, heart_rate_present
from .signal_model import build_signal_model, signal_input, window_probs, windows
from .trunk_graph import SharedTrunk, TopPredictor, same_trunk, trunk_runner

log = logging.getLogger(__name__)

TTA_SHIFT_S = 0.5


@dataclass
class Run:
    """A self-describing run folder: config, fold checkpoints and decision thresholds."""

    path: Path
    cfg: ExperimentConfig
    checkpoints: list[Path]
    thresholds: np.ndarray | None
    stride_in_1x1: bool


def load_run(path: str | Path) -> Run:
    """Read ``config.yaml``, the checkpoints of the folds the run itself recorded
    (``summary.json``; stale ``fold*/`` folders of an earlier run are ignored),
    ``thresholds.json`` and, for image runs, ``model_info.json``. Anything missing or
    unreadable is :class:`BadInputError` naming the file."""
    path = Path(path)
    if not (path / "config.yaml").is_file():
        raise BadInputError(path, "not a run folder (no config.yaml); train.py writes one")
    try:
        cfg = experiment_from_dict(load_yaml(path / "config.yaml"))
    except ValueError as exc:
        raise BadInputError(path / "config.yaml", str(exc)) from None
    summary = _read_json(path / SUMMARY_FILE, "the run did not finish (train.py writes it)")
    folds = sorted(int(k) for k in summary.get("folds", {}))
    if not folds:
        raise BadInputError(path / SUMMARY_FILE, "lists no trained folds")
    checkpoints = [path / f"fold{k}" / CHECKPOINTS[cfg.model.kind] for k in folds]
    missing = [c for c in checkpoints if not c.is_file()]
    if missing:
        raise BadInputError(missing[0], "checkpoint of a fold listed in summary.json is missing")
    thresholds = None
    if (path / THRESHOLDS_FILE).is_file():
        values = _read_json(path / THRESHOLDS_FILE, "").get("thresholds")
        thresholds = np.asarray(values, dtype=float) if isinstance(values, list) else None
        if thresholds is None or thresholds.shape != (cfg.num_classes,):
            raise BadInputError(
                path / THRESHOLDS_FILE, f"needs 'thresholds': a list of {cfg.num_classes} numbers"
            )
    v1 = False
    if cfg.model.kind == "image":
        info = _read_json(path / MODEL_INFO_FILE, "image runs need it (train.py writes it)")
        v1 = bool(info.get("stride_in_1x1"))
    return Run(path, cfg, checkpoints, thresholds, v1)


def _read_json(path: Path, why_needed: str) -> dict:
    if not path.is_file():
        raise BadInputError(path, f"missing: {why_needed}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadInputError(path, "must hold a JSON object")
    return data


def load_models(run: Run) -> list[ECGClassifier]:
    """One eval-mode model per fold checkpoint (no pretrained download: weights come from
    the checkpoint; v1 strides when the run was trained from the converted weights). A
    checkpoint must match the network key for key and shape for shape."""
    models = []
    for ckpt in run.checkpoints:
        if run.cfg.model.kind == "signal1d":
            model = build_signal_model(run.cfg)
        else:
            model = build_model(
                replace(run.cfg.model, pretrained=None),
                run.cfg.num_classes,
                two_stream=run.cfg.data.stft,
                stride_in_1x1=run.stride_in_1x1,
                views=len(run.cfg.renders),
            )
        try:
            state = upgrade_state(paddle.load(str(ckpt)))
        except Exception as exc:  # truncated or foreign file: paddle raises many kinds
            raise BadInputError(ckpt, f"not a readable checkpoint ({type(exc).__name__})") from None
        own = {k: list(v.shape) for k, v in model.state_dict().items()}
        theirs = {k: list(v.shape) for k, v in state.items()} if isinstance(state, dict) else {}
        if own != theirs:
            differ = sorted(set(own) ^ set(theirs)) or [k for k in own if own[k] != theirs[k]]
            raise BadInputError(
                ckpt,
                f"does not match the run's network ({len(differ)} keys differ, e.g. "
                f"{differ[0]}: {theirs.get(differ[0])} vs {own.get(differ[0])})",
            )
        model.set_state_dict(state)
        model.eval()
        models.append(model)
    return models


def find_records(data: str | Path) -> list[Path]:
    """MAT records of a folder, or of its ``test/``/``val/`` subfolder (AIWIN layout)."""
    data = Path(data)
    if data.is_file():
        raise BadInputError(data, "is a file; give the folder of MAT records")
    for folder in (data, data / "test", data / "val"):
        if not folder.is_dir():
            continue
        mats = list_records(folder)
        if mats:
            return mats
    raise BadInputError(data, "no MAT records here or in test/ or val/")


def tta_shifts(signal: np.ndarray, tta: int) -> list[np.ndarray]:
    """The record plus ``tta`` circularly time-shifted copies (multiples of 0.5 s)."""
    shifts = [0] + [
        int((i // 2 + 1) * TTA_SHIFT_S * FS) * (1 if i % 2 == 0 else -1) for i in range(tta)
    ]
    return [np.roll(signal, s, axis=-1) if s else signal for s in shifts]


BACKENDS = ("dygraph", "paddle", "onnx")


def load_predictors(run: Run, backend: str = "dygraph") -> list[Callable]:
    """One predictor per fold: the dygraph models (a cached-trunk run's frozen trunk runs
    once per batch for all folds, by ``train.trunk_backend``), or the exported models run
    by Paddle Inference (oneDNN on the CPU) or ONNX Runtime. Feature-model runs predict
    from the signals with scikit-learn (the dygraph backend)."""
    if run.cfg.model.kind == "features":
        if backend != "dygraph":
            raise BadInputError(run.path, f"a feature-model run has no {backend} export")
        return [FeaturePredictor(c) for c in run.checkpoints]
    if backend == "dygraph":
        models, task = load_models(run), run.cfg.data.task
        if run.cfg.train.cache_trunk:
            if same_trunk(models):  # one trunk pass for all folds
                trunk = SharedTrunk(trunk_runner(models[0], run.cfg.train.trunk_backend))
                return [TopPredictor(m, task, trunk) for m in models]
            log.warning(
                "the folds' frozen trunks differ (no pretrained weights?): each runs its own"
            )
        return [DygraphPredictor(m, task) for m in models]
    folds = read_export_info(run.path)
    if backend == "paddle":
        return [PaddleInferencePredictor(f["model"], f["params"]) for f in folds]
    if backend == "onnx":
        return [OnnxPredictor(f["onnx"]) for f in folds]
    raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")


def predict_signals(
    predictors: list[Callable], signals: list[np.ndarray], cfg: ExperimentConfig, tta: int = 0
) -> np.ndarray:
    """Mean probability over fold predictors and TTA views, one row per signal. Image
    models take the rendered views, the 1-D model the windows of each signal (each class
    its largest probability over them), the feature model the signals themselves."""
    copies = [v for signal in signals for v in tta_shifts(signal, tta)]
    if cfg.model.kind == "signal1d":  # every window of every copy, then max over windows
        parts = [windows(signal_input(v, cfg.signal1d), cfg.signal1d) for v in copies]
        window_rows = np.mean([p([np.concatenate(parts)]) for p in predictors], axis=0)
        probs = window_probs(window_rows, [len(w) for w in parts], cfg.data.task)
        return probs.reshape(len(signals), tta + 1, -1).mean(axis=1)
    if cfg.model.kind == "features":
        inputs = copies
    else:
        inputs = [
            np.stack(x) for x in zip(*(model_inputs(*rendered_views(v, cfg)) for v in copies))
        ]
    probs = np.mean([p(inputs) for p in predictors], axis=0)
    return probs.reshape(len(signals), tta + 1, -1).mean(axis=1)


def export_run(path: str | Path) -> Path:
    """Export every fold of a run to ``RUN/export/fold{k}/`` (Paddle inference + ONNX)."""
    run = load_run(path)
    folds = []
    for ckpt, model in zip(run.checkpoints, load_models(run)):
        out = run.path / EXPORT_DIR / ckpt.parent.name
        files = export_model(model, run.cfg.data.task, run.cfg.render.size, run.cfg.data.stft, out)
        for key in ("model", "params", "onnx"):  # relative: the run folder can move
            files[key] = str(files[key].relative_to(run.path))
        folds.append(files)
        log.info("exported %s -> %s", ckpt, out)
    info = run.path / EXPORT_DIR / "export.json"
    with atomic_write(info) as fh:
        json.dump({"task": run.cfg.data.task, "folds": folds}, fh, indent=1)
    return info


@dataclass
class Prediction:
    names: list[str]
    probs: np.ndarray
    labels: list
    bad: dict[str, str]
    report: pd.DataFrame | None = None  # pictures: what the digitiser found in each


def predict_folder(
    run: Run,
    data: str | Path,
    tta: int = 0,
    heart_rate_rule: bool = False,
    batch_size: int = 16,
    backend: str = "dygraph",
    skip_bad: bool = False,
) -> Prediction:
    """Probabilities and competition labels for every MAT record in ``data``. A bad
    record stops the run with its error (an answer missing a record is a wrong
    submission), or with ``skip_bad`` is collected in ``bad`` (path -> problem)."""
    cfg = run.cfg
    predictors = load_predictors(run, backend)
    paths = find_records(data)
    names, probs, bad, hrs = [], [], {}, []
    for start in tqdm(range(0, len(paths), batch_size), desc="predict", disable=None):
        signals = []
        for path in paths[start : start + batch_size]:
            try:
                record = read_record(path)
            except BadInputError as exc:
                if not skip_bad:
                    raise
                bad[str(path)] = exc.problem
                log.warning("skipped %s", exc)
                continue
            names.append(record.name)
            signals.append(record.signal)
            if heart_rate_rule:
                hrs.append(heart_rate(record.signal[1], record.fs))
        if signals:
            probs.append(predict_signals(predictors, signals, cfg, tta))
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, cfg.num_classes))
    labels = decide(probs_arr, cfg.data.task, run.thresholds, hrs if heart_rate_rule else None)
    return Prediction(names, probs_arr, labels, bad)


def predict_pictures(
    run: Run,
    folder: str | Path,
    skip_bad: bool = False,
    batch_size: int = 16,
    backend: str = "dygraph",
    heart_rate_rule: bool = False,
    digitized: list | None = None,
) -> Prediction:
    """Probabilities and labels for every picture (PNG/JPEG/TIFF/BMP) of a print in
    ``folder``, each named by its file stem. Each picture is digitised
    (:mod:`ecgplot.digitize`) into a record with the unprinted stretches missing, which
    any run kind then predicts as it predicts MAT records. A picture that is not a
    readable print stops the run, naming the file, or with ``skip_bad`` is listed in
    ``bad``; the digitise report comes back as ``report``. ``digitized``: the folder's
    pictures already read by :func:`~ecgplot.digitize.folder.digitize_pictures` (several
    runs, one reading)."""
    predictors = load_predictors(run, backend)
    names, signals, bad, rows = [], [], {}, []
    if digitized is None:
        digitized = digitize_pictures(folder, skip_bad)
    for name, path, got, problem in digitized:
        rows.append(report_row(name, path, got, problem))
        if got is None:
            bad[str(path)] = problem
            continue
        names.append(name)
        signals.append(got.signal)
    cfg = run.cfg
    probs = [
        predict_signals(predictors, signals[start : start + batch_size], cfg)
        for start in tqdm(range(0, len(signals), batch_size), desc="predict", disable=None)
    ]
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, cfg.num_classes))
    hrs = [heart_rate_present(s, FS) for s in signals] if heart_rate_rule else None
    labels = decide(probs_arr, cfg.data.task, run.thresholds, hrs)
    return Prediction(names, probs_arr, labels, bad, pd.DataFrame(rows))


def write_prediction(pred: Prediction, task: int, answer: Path, probs: Path) -> None:
    """answer.csv in the task's competition format, probs.csv, and bad_records.csv."""
    write_labels(answer, dict(zip(pred.names, pred.labels)), task)
    write_probs(probs, pred.names, pred.probs, task)
    if pred.bad:
        write_bad_records(answer.with_name("bad_records.csv"), pred.bad)
    if pred.report is not None:
        with atomic_path(answer.with_name(REPORT)) as tmp:
            pred.report.to_csv(tmp, index=False)
