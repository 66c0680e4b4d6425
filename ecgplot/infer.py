"""Load a training run and predict MAT records: fold ensemble, TTA, answer/probs files."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import paddle
import pandas as pd
from tqdm import tqdm

from .aiwin import (
    FS,
    BadInputError,
    list_records,
    prob_columns,
    read_probs_frame,
    read_record,
    write_bad_records,
    write_labels,
    write_probs,
)
from .config import load_yaml
from .decide import decide
from .digitize.folder import (
    Reading,
    digitize_pictures,
    digitized_names,
    report_row,
    write_report,
)
from .experiment import ExperimentConfig, experiment_from_dict
from .kinds import BACKENDS, Predictor, get_kind
from .run_folder import (
    MODEL_INFO_FILE,
    OOF_PICTURE_PROBS,
    SUMMARY_FILE,
    THRESHOLDS_FILE,
    VAL_PROBS,
    picture_record,
)
from .signal import heart_rate, heart_rate_present

log = logging.getLogger(__name__)

TTA_SHIFT_S = 0.5


@dataclass
class Run:
    """A self-describing run folder: config, fold checkpoints and decision thresholds."""

    path: Path
    cfg: ExperimentConfig
    folds: list[int]  # the folds trained, in the order of ``checkpoints``
    checkpoints: list[Path]
    thresholds: np.ndarray | None
    info: dict  # model_info.json (image runs: how to rebuild the network), else {}


def load_run(path: str | Path) -> Run:
    """Read ``config.yaml``, the checkpoints of the folds the run itself recorded
    (``summary.json``; stale ``fold*/`` folders of an earlier run are ignored),
    ``thresholds.json`` and, where the kind needs it, ``model_info.json``. Anything missing or
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
    kind = get_kind(cfg.model.kind)
    checkpoints = [path / f"fold{k}" / kind.checkpoint for k in folds]
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
    info = {}
    if kind.needs_model_info:
        info = _read_json(path / MODEL_INFO_FILE, f"{kind.name} runs need it (train.py writes it)")
    return Run(path, cfg, folds, checkpoints, thresholds, info)


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


def load_models(run: Run) -> list[paddle.nn.Layer]:
    """One eval-mode network per fold checkpoint, as the run's kind builds it (no
    pretrained download: the weights come from the checkpoint)."""
    return get_kind(run.cfg.model.kind).load(run)


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


def load_predictors(run: Run, backend: str = "dygraph") -> list[Predictor]:
    """One predictor per fold, as the run's kind runs it with ``backend`` (one of
    ``BACKENDS``: the dygraph models, or the exported ones)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
    return get_kind(run.cfg.model.kind).predictors(run, backend)


def predict_signals(
    predictors: list[Predictor], signals: list[np.ndarray], cfg: ExperimentConfig, tta: int = 0
) -> np.ndarray:
    """Mean probability over fold predictors and TTA views, one row per signal, as the
    run's kind reads a record (rendered views, windows, or measured features)."""
    copies = [v for signal in signals for v in tta_shifts(signal, tta)]
    probs = get_kind(cfg.model.kind).predict(predictors, copies, cfg)
    return probs.reshape(len(signals), tta + 1, -1).mean(axis=1)


@dataclass
class Prediction:
    names: list[str]
    probs: np.ndarray
    labels: list
    bad: dict[str, str]
    readings: list[Reading] | None = None  # pictures: what the digitiser found in each

    @property
    def report(self) -> pd.DataFrame | None:
        """The digitise report of the pictures (None for MAT records)."""
        if self.readings is None:
            return None
        return pd.DataFrame([report_row(r) for r in self.readings])


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
    submission), or with ``skip_bad`` is collected in ``bad`` (path -> problem). Records
    that ``digitize.py`` wrote (listed as read in the ``digitize_report.csv`` beside
    them) keep their unprinted stretches missing and are predicted as ``--images``
    predicts their pictures; a NaN in any other record is bad input."""
    cfg = run.cfg
    predictors = load_predictors(run, backend)
    paths = find_records(data)
    digitized = digitized_names(paths[0].parent)
    names, probs, bad, hrs = [], [], {}, []
    for start in tqdm(range(0, len(paths), batch_size), desc="predict", disable=None):
        signals = []
        for path in paths[start : start + batch_size]:
            try:
                record = read_record(path, missing_ok=path.stem in digitized)
            except BadInputError as exc:
                if not skip_bad:
                    raise
                bad[str(path)] = exc.problem
                log.warning("skipped %s", exc)
                continue
            names.append(record.name)
            signals.append(record.signal)
            if heart_rate_rule:
                rate = heart_rate_present if record.name in digitized else _lead_ii_rate
                hrs.append(rate(record.signal, record.fs))
        if signals:
            probs.append(predict_signals(predictors, signals, cfg, tta))
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, cfg.num_classes))
    labels = decide(probs_arr, cfg.data.task, run.thresholds, hrs if heart_rate_rule else None)
    return Prediction(names, probs_arr, labels, bad)


def _lead_ii_rate(signal: np.ndarray, fs: int) -> float:
    return heart_rate(signal[1], fs)


def predict_pictures(
    run: Run,
    folder: str | Path,
    skip_bad: bool = False,
    batch_size: int = 16,
    backend: str = "dygraph",
    heart_rate_rule: bool = False,
    digitized: list[Reading] | None = None,
) -> Prediction:
    """Probabilities and labels for every picture of a print in ``folder`` (each page
    of a PDF too), each named by its file stem. Each picture is digitised
    (:mod:`ecgplot.digitize`) into a record with the unprinted stretches missing, which
    any run kind then predicts as it predicts MAT records. A picture that is not a
    readable print stops the run, naming the file, or with ``skip_bad`` is listed in
    ``bad``; files that are no pictures are skipped; every one is in the readings (the
    digitise report). ``digitized``: the folder already read by
    :func:`~ecgplot.digitize.folder.digitize_pictures` (several runs, one reading)."""
    predictors = load_predictors(run, backend)
    readings = list(digitize_pictures(folder, skip_bad) if digitized is None else digitized)
    read = [r for r in readings if r.got is not None]
    bad = {str(r.path): r.problem for r in readings if r.status == "unreadable"}
    names, signals = [r.name for r in read], [r.got.signal for r in read]
    cfg = run.cfg
    probs = [
        predict_signals(predictors, signals[start : start + batch_size], cfg)
        for start in tqdm(range(0, len(signals), batch_size), desc="predict", disable=None)
    ]
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, cfg.num_classes))
    hrs = [heart_rate_present(s, FS) for s in signals] if heart_rate_rule else None
    labels = decide(probs_arr, cfg.data.task, run.thresholds, hrs)
    return Prediction(names, probs_arr, labels, bad, readings)


def fold_of_records(run: Run) -> pd.Series:
    """The fold (number, as in ``run.folds``) that held out each validation record of the
    run, by record name, sorted: the fold model that never trained on it."""
    task = run.cfg.data.task
    return pd.concat(
        [
            pd.Series(k, index=read_probs_frame(ckpt.parent / VAL_PROBS, task).index)
            for k, ckpt in zip(run.folds, run.checkpoints)
        ]
    ).sort_index()


def predict_out_of_fold(
    run: Run,
    names: list[str],
    signals: list[np.ndarray],
    batch_size: int = 32,
    backend: str = "dygraph",
) -> pd.DataFrame:
    """The run's out-of-fold probabilities of other readings of its own records (the
    digitised pictures of their prints): each by the fold model that did not train on
    its record (``NAME`` or ``NAME@TAG``, :func:`~ecgplot.run_folder.picture_record`).
    A name whose record no fold held out is :class:`BadInputError`."""
    folds = fold_of_records(run)
    unknown = [n for n in names if picture_record(n) not in folds]
    if unknown:
        raise BadInputError(
            run.path,
            f"{len(unknown)} pictures show no record the run held out (named NAME or "
            f"NAME@TAG after its training records), e.g. {unknown[0]}",
        )
    predictors = load_predictors(run, backend)
    probs = np.zeros((len(names), run.cfg.num_classes))
    which = folds.reindex([picture_record(n) for n in names]).to_numpy()
    for k, predictor in zip(run.folds, predictors):
        idx = np.flatnonzero(which == k)
        for start in tqdm(range(0, len(idx), batch_size), desc=f"fold {k}", disable=None):
            part = idx[start : start + batch_size]
            probs[part] = predict_signals([predictor], [signals[i] for i in part], run.cfg)
    return pd.DataFrame(
        probs, index=pd.Index(names, name="name"), columns=prob_columns(run.cfg.data.task)
    )


def write_picture_oof(
    run: Run, folder: str | Path, skip_bad: bool = False, backend: str = "dygraph"
) -> tuple[Path, pd.DataFrame, list[Reading]]:
    """Digitise ``folder`` (pictures of prints of the run's own records, named ``NAME``
    or ``NAME@TAG``) and add their out-of-fold probabilities to the run's
    ``oof_picture_probs.csv`` (rows of the same pictures replaced, others kept), which
    ``ensemble.py --fit-pictures`` fits picture-aware fusions and thresholds on.
    Returns the file, this folder's rows and the readings."""
    readings = list(digitize_pictures(folder, skip_bad))
    read = [r for r in readings if r.got is not None]
    if not read:
        raise BadInputError(folder, "no readable picture of a print")
    names = [r.name for r in read]
    frame = predict_out_of_fold(run, names, [r.got.signal for r in read], backend=backend)
    path = run.path / OOF_PICTURE_PROBS
    table = frame
    if path.is_file():
        kept = read_probs_frame(path, run.cfg.data.task)
        table = pd.concat([kept.drop(index=names, errors="ignore"), frame])
    write_probs(path, list(table.index), table.to_numpy(), run.cfg.data.task)
    return path, frame, readings


def write_prediction(pred: Prediction, task: int, answer: Path, probs: Path) -> None:
    """answer.csv in the task's competition format, probs.csv, bad_records.csv, and for
    pictures the digitise report, beside the answer."""
    write_labels(answer, dict(zip(pred.names, pred.labels)), task)
    write_probs(probs, pred.names, pred.probs, task)
    if pred.bad:
        write_bad_records(answer.with_name("bad_records.csv"), pred.bad)
    if pred.readings is not None:
        write_report(pred.readings, answer.parent)
