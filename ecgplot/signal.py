"""Signal operations on (12, n) mV arrays: length fixing, resampling, filtering."""

from __future__ import annotations

import warnings
from functools import lru_cache
from math import gcd

import numpy as np
import scipy.signal


def fix_length(signal: np.ndarray, n_samples: int) -> tuple[np.ndarray, str]:
    """Crop (keep the first ``n_samples``) or zero-pad (at the end) to ``n_samples``.

    Returns the array and what was done: ``"ok"``, ``"cropped"`` or ``"padded"``.
    """
    n = signal.shape[-1]
    if n == n_samples:
        return signal, "ok"
    if n > n_samples:
        return signal[..., :n_samples], "cropped"
    pad = [(0, 0)] * (signal.ndim - 1) + [(0, n_samples - n)]
    return np.pad(signal, pad), "padded"


def resample(signal: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling along the last axis (no-op when the rates match)."""
    if fs_in == fs_out:
        return signal
    up, down = int(round(fs_out)), int(round(fs_in))
    g = gcd(up, down)
    return scipy.signal.resample_poly(signal, up // g, down // g, axis=-1)


@lru_cache(maxsize=16)
def _butter_sos(fs: float, highpass: float | None, lowpass: float | None) -> np.ndarray:
    if highpass and lowpass:
        return scipy.signal.butter(2, [highpass, lowpass], "bandpass", fs=fs, output="sos")
    if highpass:
        return scipy.signal.butter(2, highpass, "highpass", fs=fs, output="sos")
    return scipy.signal.butter(2, lowpass, "lowpass", fs=fs, output="sos")


def bandpass(
    signal: np.ndarray, fs: float, highpass: float | None, lowpass: float | None
) -> np.ndarray:
    """Zero-phase Butterworth filter; ``highpass`` removes baseline wander. None skips a side."""
    if not highpass and not lowpass:
        return signal
    sos = _butter_sos(float(fs), highpass or None, lowpass or None)
    return scipy.signal.sosfiltfilt(sos, signal, axis=-1).astype(signal.dtype, copy=False)


def r_peaks(lead: np.ndarray, fs: float) -> np.ndarray:
    """R-peak sample indices from neurokit2 (empty when it finds none or fails)."""
    import neurokit2 as nk

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cleaned = nk.ecg_clean(np.asarray(lead, np.float64), sampling_rate=fs)
            _, info = nk.ecg_peaks(cleaned, sampling_rate=fs)
    except (ValueError, IndexError, ZeroDivisionError):  # flat or degenerate leads
        return np.zeros(0, dtype=int)
    return np.asarray(info["ECG_R_Peaks"], dtype=int)


def rr_intervals(lead: np.ndarray, fs: float) -> np.ndarray:
    """RR intervals (s) between :func:`r_peaks` of one lead (empty if < 2 peaks)."""
    return np.diff(r_peaks(lead, fs)) / fs


def heart_rate(lead: np.ndarray, fs: float) -> float:
    """Heart rate (bpm) from the median RR interval; NaN when fewer than 2 beats."""
    rr = rr_intervals(lead, fs)
    return float(60.0 / np.median(rr)) if len(rr) else float("nan")


def printed_stretches(lead: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of finite samples of one lead (a digitised print marks
    what it does not show as NaN)."""
    ok = np.isfinite(lead)
    if ok.all():
        return [(0, len(lead))]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def bandpass_present(
    signal: np.ndarray, fs: float, highpass: float | None, lowpass: float | None
) -> np.ndarray:
    """:func:`bandpass` of a record that may have missing (NaN) stretches: each printed
    stretch is filtered on its own (one too short for the filter keeps its samples less
    their median); missing samples stay NaN. A complete record takes the plain path."""
    if np.isfinite(signal).all():
        return bandpass(signal, fs, highpass, lowpass)
    out = np.full_like(signal, np.nan)
    for i, lead in enumerate(signal):
        for a, b in printed_stretches(lead):
            part = lead[a:b]
            try:
                out[i, a:b] = bandpass(part, fs, highpass, lowpass)
            except ValueError:  # shorter than the filter's padding
                out[i, a:b] = part - np.median(part)
    return out


def rhythm_lead(signal: np.ndarray, preferred: int = 1) -> int:
    """The lead to find R peaks on: ``preferred`` (lead II) when it is complete, else the
    lead with the longest printed stretch (a print's rhythm strip)."""
    if np.isfinite(signal[preferred]).all():
        return preferred
    longest = [max((b - a for a, b in printed_stretches(lead)), default=0) for lead in signal]
    return preferred if longest[preferred] == max(longest) else int(np.argmax(longest))


# leads whose R waves neurokit2 finds most reliably first (tall, upright R)
PEAK_LEAD_ORDER = (1, 10, 11, 0, 9, 5, 8, 2, 7, 4, 6, 3)


def _peak_runs(
    signal: np.ndarray, fs: float, preferred: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """R peaks of a record that may have missing stretches, one run per printed stretch
    used: the longest stretch of :func:`rhythm_lead`, then, where that leaves time
    uncovered (a 6x2 print shows no lead for 10 s), the stretch of the lead that shows
    that time longest. Each run is (every peak found in its stretch, which of them fall
    in time no earlier run covers)."""
    i = rhythm_lead(signal, preferred)
    a, b = max(printed_stretches(signal[i]), key=lambda s: s[1] - s[0], default=(0, 0))
    runs = []
    if b - a > fs:
        found = r_peaks(signal[i, a:b], fs) + a
        runs.append((found, np.ones(len(found), bool)))
    covered = np.zeros(signal.shape[1], bool)
    covered[a:b] = True
    while not covered.all():
        best = None
        for j in PEAK_LEAD_ORDER:
            for c, d in printed_stretches(signal[j]):
                new = int((~covered[c:d]).sum())
                if new > fs and (best is None or new > best[0]):
                    best = (new, j, c, d)
        if best is None:
            break
        _, j, c, d = best
        found = r_peaks(signal[j, c:d], fs) + c
        runs.append((found, ~covered[found]))
        covered[c:d] = True
    return runs


def peaks_and_rr_present(
    signal: np.ndarray, fs: float, preferred: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """R peaks (sample indices, in time order) and RR intervals (s) of a record that may
    have missing stretches (:func:`_peak_runs`). Each RR interval lies between two peaks
    of one printed stretch: none spans the seam from one stretch to the next, where a
    beat is often missed (a 6x2 print's limb leads end at 5 s, its chest leads begin
    there) and the interval would read double."""
    runs = _peak_runs(signal, fs, preferred)
    if not runs:
        return np.zeros(0, dtype=int), np.zeros(0)
    peaks = np.sort(np.concatenate([found[new] for found, new in runs]))
    rr = np.concatenate([np.diff(found)[new[1:]] for found, new in runs]) / fs
    return peaks, rr


def r_peaks_present(signal: np.ndarray, fs: float, preferred: int = 1) -> np.ndarray:
    """R peaks of a record that may have missing stretches: each printed stretch's peaks
    in the time it adds (:func:`peaks_and_rr_present`)."""
    return peaks_and_rr_present(signal, fs, preferred)[0]


def heart_rate_present(signal: np.ndarray, fs: float) -> float:
    """Heart rate (bpm) from the median RR interval of :func:`peaks_and_rr_present` (a
    record that may have missing stretches); NaN when no stretch shows 2 beats."""
    rr = peaks_and_rr_present(signal, fs)[1]
    return float(60.0 / np.median(rr)) if len(rr) else float("nan")
