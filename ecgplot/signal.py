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
