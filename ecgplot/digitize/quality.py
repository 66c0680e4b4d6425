"""How close a digitised record is to the true signal: SNR per lead in dB."""

from __future__ import annotations

import numpy as np

from ..aiwin import FS

MAX_SHIFT_S = 0.1


def lead_snr(true: np.ndarray, est: np.ndarray, printed: np.ndarray, fs: int = FS) -> float:
    """SNR (dB) of one lead over its printed samples: both with their mean removed, the
    estimate shifted by the best lag within ±0.1 s; printed samples the digitiser left
    missing count as zero (the mean), so missing ink costs."""
    idx = np.flatnonzero(printed)
    if len(idx) < 2:
        return float("nan")
    t = true[idx] - true[idx].mean()
    power = float(np.square(t).sum())
    if power < 1e-12:  # a flat lead (all zero in the record): SNR is undefined
        return float("nan")
    best = -np.inf
    for lag in range(-int(MAX_SHIFT_S * fs), int(MAX_SHIFT_S * fs) + 1):
        j = idx + lag
        ok = (j >= 0) & (j < len(est))
        e = np.zeros(len(idx))
        vals = est[j[ok]]
        e[ok] = np.where(np.isfinite(vals), vals, np.nan)
        e = np.where(np.isfinite(e), e, np.nan)
        e -= np.nanmean(e) if np.isfinite(e).any() else 0.0
        e = np.nan_to_num(e)
        noise = float(np.square(t - e).sum())
        best = max(best, 10 * np.log10(power / max(noise, 1e-12)))
    return best


def record_snr(true: np.ndarray, est: np.ndarray, printed: np.ndarray, fs: int = FS) -> np.ndarray:
    """SNR (dB) of each of the 12 leads (NaN for a lead the print does not show)."""
    return np.array([lead_snr(true[i], est[i], printed[i], fs) for i in range(true.shape[0])])
