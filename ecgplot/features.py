"""Hand-made signal features of a 12-lead record: the signal-feature model's input.

Band-pass 0.5-40 Hz, then per lead: std, 1-99 percentile range, max, min, Welch peak
frequency; R peaks on lead II (neurokit2): mean heart rate, RR std, mean |successive RR
difference|, beat count, RR min/max over median, share of irregular RR; beat-shape
consistency (correlation of each beat with the average beat, leads II and V1: min and
mean); and the average beat of every lead from 0.2 s before to 0.3 s after each R peak,
sampled every 20 ms.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.signal
from tqdm import tqdm

from .aiwin import FS, LEADS, BadInputError, read_record
from .atomic import atomic_path
from .signal import bandpass_present, peaks_and_rr_present

log = logging.getLogger(__name__)

BAND_HZ = (0.5, 40.0)
BEAT_WINDOW_S = (-0.2, 0.3)
BEAT_STEP_S = 0.02
LEAD_II, LEAD_V1 = 1, 6
RHYTHM = (
    "hr_mean",
    "rr_std",
    "rr_mean_abs_diff",
    "beats",
    "rr_min_rel",
    "rr_max_rel",
    "rr_irregular",
    "beat_corr_ii_min",
    "beat_corr_ii_mean",
    "beat_corr_v1_min",
    "beat_corr_v1_mean",
)
PER_LEAD = ("std", "range_1_99", "max", "min", "welch_peak_hz")
BEAT_OFFSETS_MS = np.arange(
    round(BEAT_WINDOW_S[0] * 1000), round(BEAT_WINDOW_S[1] * 1000) + 1, round(BEAT_STEP_S * 1000)
)


def feature_names() -> list[str]:
    """Column names, in the order of :func:`record_features`."""
    per_lead = [f"{lead}_{f}" for lead in LEADS for f in PER_LEAD]
    beat = [f"{lead}_beat_{ms:+d}ms" for lead in LEADS for ms in BEAT_OFFSETS_MS]
    return [*RHYTHM, *per_lead, *beat]


def _beats(signal: np.ndarray, peaks: np.ndarray, fs: float) -> np.ndarray:
    """(beats, leads, offsets) samples around each R peak whose window fits the record
    (NaN where a lead is not printed)."""
    offsets = np.round(BEAT_OFFSETS_MS / 1000 * fs).astype(int)
    ok = peaks[(peaks + offsets[0] >= 0) & (peaks + offsets[-1] < signal.shape[1])]
    return signal[:, ok[:, None] + offsets[None, :]].transpose(1, 0, 2)


def _beat_consistency(beats: np.ndarray, lead: int) -> tuple[float, float]:
    """Min and mean correlation of each beat with the average beat in ``lead`` (the beats
    that lead shows)."""
    x = beats[:, lead]
    x = x[np.isfinite(x).all(axis=1)]
    if len(x) < 2:
        return np.nan, np.nan
    template = x.mean(axis=0)
    x_c, t_c = x - x.mean(axis=1, keepdims=True), template - template.mean()
    denom = np.linalg.norm(x_c, axis=1) * np.linalg.norm(t_c)
    corr = np.where(denom > 0, x_c @ t_c / np.maximum(denom, 1e-12), 0.0)
    return float(corr.min()), float(corr.mean())


def _per_lead(x: np.ndarray, fs: float) -> np.ndarray:
    """(leads, PER_LEAD) statistics over the samples each lead has (NaN for none)."""
    out = np.full((x.shape[0], len(PER_LEAD)), np.nan)
    for i, lead in enumerate(x):
        v = lead[np.isfinite(lead)]
        if len(v) < 2:
            continue
        lo, hi = np.percentile(v, [1, 99])
        freqs, power = scipy.signal.welch(v, fs=fs, nperseg=min(1024, len(v)))
        out[i] = v.std(), hi - lo, v.max(), v.min(), freqs[power.argmax()]
    return out


def record_features(signal: np.ndarray, fs: float = FS) -> np.ndarray:
    """Feature vector (float64, ``len(feature_names())``) of one (12, n) mV record; NaN
    where a feature is undefined (too few beats, a lead a print does not show).
    HistGradientBoosting takes NaN as is. A partial record (a digitised print) gives each
    feature from what is there: R peaks on the longest lead shown (RR intervals within
    each printed stretch), each lead's average beat from the beats it shows."""
    x = bandpass_present(np.asarray(signal, np.float64), fs, *BAND_HZ)
    per_lead = _per_lead(x, fs)
    peaks, rr = peaks_and_rr_present(x, fs, LEAD_II)
    rhythm = np.full(len(RHYTHM), np.nan)
    rhythm[3] = len(peaks)
    if len(rr) >= 1:
        med = np.median(rr)
        rhythm[0] = 60.0 / rr.mean()
        rhythm[1] = rr.std()
        rhythm[4], rhythm[5] = rr.min() / med, rr.max() / med
        rhythm[6] = np.mean(np.abs(rr / med - 1) > 0.15)
    if len(rr) >= 2:
        rhythm[2] = np.abs(np.diff(rr)).mean()
    beats = _beats(x, peaks, fs)
    rhythm[7:9] = _beat_consistency(beats, LEAD_II)
    rhythm[9:11] = _beat_consistency(beats, LEAD_V1)
    n_offsets = len(BEAT_OFFSETS_MS)
    if len(beats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a lead shown in no beat
            avg_beat = np.nanmean(beats, axis=0)
    else:
        avg_beat = np.full((len(LEADS), n_offsets), np.nan)
    return np.concatenate([rhythm, per_lead.ravel(), avg_beat.ravel()])


def feature_table(
    paths: Sequence[Path],
    cache: Path | None = None,
    skip_bad: bool = False,
    as_print: Callable[[str, np.ndarray], np.ndarray] | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Features of MAT records, one row per record name (index ``name``).

    ``cache`` (a pickle) keeps rows keyed by name, file size and modification time, so a
    second call only computes new or changed records. Unreadable records raise
    :class:`BadInputError`, or with ``skip_bad`` are returned in the second value.
    ``as_print``: the features of each record as this function of (name, signal) shows
    it (print copies: what a print shows, :class:`~ecgplot.augment.AsPrint`).
    """

    columns = feature_names()
    stamps = {Path(p).stem: _stamp(Path(p)) for p in paths}
    cached = _read_cache(cache, columns)
    todo = [p for p in paths if cached.get(Path(p).stem, (None,))[0] != stamps[Path(p).stem]]
    bad: dict[str, str] = {}
    for path in tqdm(todo, desc="features", disable=None if todo else True):
        try:
            record = read_record(path)
        except BadInputError as exc:
            if not skip_bad:
                raise
            bad[str(path)] = exc.problem
            continue
        signal = record.signal if as_print is None else as_print(record.name, record.signal)
        cached[record.name] = (stamps[record.name], record_features(signal, record.fs))
    if cache is not None and todo:
        _write_cache(cache, cached, columns)
    names = [Path(p).stem for p in paths if str(p) not in bad]
    rows = np.stack([cached[n][1] for n in names]) if names else np.zeros((0, len(columns)))
    return pd.DataFrame(rows, index=pd.Index(names, name="name"), columns=columns), bad


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _read_cache(cache: Path | None, columns: list[str]) -> dict[str, tuple[str, np.ndarray]]:
    if cache is None or not cache.is_file():
        return {}
    frame = pd.read_pickle(cache)
    if list(frame.columns[1:]) != columns:  # features changed since: start over
        log.info("feature cache %s is from other features: recomputing", cache)
        return {}
    values = frame[columns].to_numpy(np.float64)
    return {n: (s, values[i]) for i, (n, s) in enumerate(zip(frame.index, frame["stamp"]))}


def _write_cache(cache: Path, rows: dict[str, tuple[str, np.ndarray]], columns: list[str]) -> None:
    names = sorted(rows)
    frame = pd.DataFrame(
        np.stack([rows[n][1] for n in names]), index=pd.Index(names, name="name"), columns=columns
    )
    frame.insert(0, "stamp", [rows[n][0] for n in names])
    cache.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp:
        frame.to_pickle(tmp)
