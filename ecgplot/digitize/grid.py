"""Ink and grid of an upright print, and the grid's pitch in pixels per millimetre.

Each channel is divided by its local paper brightness (shadows, tinted light go). The
trace is dark in every channel; a coloured grid line is bright in its own colour's
channel, a grey one is lighter than the trace: so the trace is the darkness of the
brightest channel, the grid what is dark in the darkest channel and not trace."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

MAJOR_MM = 5.0  # the thick lines of ECG paper


@dataclass(frozen=True)
class Ink:
    """Darkness in [0, 1] of the trace (brightest channel) and of the grid."""

    trace: np.ndarray
    grid: np.ndarray


def trace_mask(trace: np.ndarray) -> np.ndarray:
    """Pixels taken for trace ink: darker than halfway between paper and the trace's
    own darkness (the 99.7th percentile, a thin line's core, blurred or not)."""
    core = float(np.percentile(trace, 99.7))
    return trace > max(0.3, 0.5 * core)


def separate(rgb: np.ndarray) -> Ink:
    """Split an upright print into trace darkness and grid darkness (float32, [0, 1])."""
    img = rgb.astype(np.float32)
    k = max(15, min(img.shape[:2]) // 40) | 1
    paper = cv2.morphologyEx(img, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    paper = cv2.blur(paper, (k, k))
    level = np.clip(img / np.maximum(paper, 1.0), 0, 1)
    trace = 1.0 - level.max(axis=2)
    # the grid: whatever is dark in the darkest channel away from the trace (coloured
    # lines are, and so are grey ones, which are lighter than the trace)
    near_trace = cv2.dilate(trace_mask(trace).astype(np.uint8), np.ones((3, 3), np.uint8))
    grid = np.where(near_trace > 0, 0.0, 1.0 - level.min(axis=2)).astype(np.float32)
    return Ink(trace, grid)


def _autocorr(profile: np.ndarray) -> np.ndarray:
    x = profile - gaussian_filter1d(profile, 25.0)
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    return ac / max(ac[0], 1e-12) * n / np.maximum(n - np.arange(n), 1)


def _peak_near(ac: np.ndarray, lag: float, half: float) -> tuple[float, float]:
    """Sub-sample lag and height of the highest autocorrelation peak within lag±half."""
    lo, hi = max(2, int(lag - half)), min(len(ac) - 2, int(np.ceil(lag + half)))
    if hi <= lo:
        return lag, 0.0
    i = lo + int(np.argmax(ac[lo : hi + 1]))
    a, b, c = ac[i - 1], ac[i], ac[i + 1]
    den = a - 2 * b + c
    return i + (0.5 * (a - c) / den if den < 0 else 0.0), float(b)


def grid_pitch(grid: np.ndarray, axis: int, guess: float) -> float | None:
    """Pixels per mm along ``axis`` (1: across the picture, 0: down) from the periodic grid:
    the 5 mm period nearest ``guess`` px/mm, refined on the longest lag the picture
    allows; None when there is no periodic grid."""
    profile = grid.mean(axis=1 - axis).astype(np.float64)
    ac = _autocorr(profile)
    p5, height = _peak_near(ac, MAJOR_MM * guess, 0.2 * MAJOR_MM * guess)
    if height < 0.2:
        return None
    # refine: the peak n periods out pins the period n times finer
    for n in (4, 10, 20):
        if n * p5 * 1.1 >= 0.6 * len(profile):
            break
        lag, h = _peak_near(ac, n * p5, 0.3 * p5)
        if h < 0.5 * height:
            break
        p5 = lag / n
    return p5 / MAJOR_MM
