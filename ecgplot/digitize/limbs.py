"""The six limb leads hold two signals: III = II - I, aVR = -(I + II) / 2, aVL = I - II / 2,
aVF = II - I / 2 (Einthoven, Goldberger). Where a print shows five or six of them at the
same time (12x1, the first column of 6x2; a 3x4 print never shows more than four), a
sample that one or two leads read far from what four others agree on is ink of a crossing
trace taken for that lead's; it is read again from those four. Thresholds chosen on cart
prints of the first 30 shared records (12x1 at 10 mm/mV, 6x2). Then, wherever three or
more are shown (every layout: 3x4 shows I, II, III, then aVR, aVL, aVF beside the lead-II
strip), every sample is read from all the leads shown (:func:`project_limb_leads`)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.ndimage import binary_dilation

# each limb lead as (weight of I, weight of II)
LIMB_BASIS = np.array([[1, 0], [0, 1], [-1, 1], [-0.5, -0.5], [1, -0.5], [-0.5, 1]], float)
TOLERANCE_MV = 0.2  # a lead this far from the others' reading of it is misread
AGREE_MV = 0.08  # four leads agree within this (their largest residual)
WIDEN = 3  # samples either side of a misread one are read again too
SHOWN_TOGETHER = 3  # limb leads a print shows at once where they are read jointly
MAX_LAG = 10  # samples (20 ms) a lead's reading may be shifted against the others
MIN_ALIGNED = 4 * MAX_LAG  # a stretch shown together this long or longer is aligned first


def _fit(x: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, (I, II) by least squares on the leads ``use`` (6, n) marks, and the
    largest residual of those leads; NaN where fewer than three are used."""
    w = use.astype(float)
    a1, a2 = LIMB_BASIS.T
    # the normal equations per sample: [[s11, s12], [s12, s22]] @ (I, II) = (b1, b2)
    s11, s12, s22 = (w.T @ np.stack([a1 * a1, a1 * a2, a2 * a2], axis=1)).T
    b1, b2 = (np.where(use, x, 0.0).T @ LIMB_BASIS).T
    ok = use.sum(axis=0) >= 3
    det = np.where(ok, s11 * s22 - s12**2, 1.0)  # any two limb leads are independent
    fit = np.stack([(s22 * b1 - s12 * b2) / det, (s11 * b2 - s12 * b1) / det], axis=1)
    fit[~ok] = np.nan
    resid = np.where(use, np.abs(x - (LIMB_BASIS @ fit.T)), 0.0)
    return fit, np.where(ok, resid.max(axis=0), np.nan)


def _offsets(x: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """(6, 1) each limb lead's own baseline against the others' reading of it (the
    digitiser centres each panel on its median)."""
    offsets = np.zeros((6, 1))
    for _ in range(3):
        fit, _ = _fit(x - offsets, shown)
        pred = LIMB_BASIS @ fit.T
        resid = np.where(shown & np.isfinite(pred), x - pred, np.nan)
        counted = np.isfinite(resid).sum(axis=1) > 0
        offsets[counted, 0] = np.nanmedian(resid[counted], axis=1)
    return offsets


def repair_limb_leads(signal: np.ndarray) -> tuple[np.ndarray, int]:
    """``signal`` (12, n) mV as read, with the limb-lead samples that contradict four
    other limb leads read from those; and how many samples were read again. Each lead's
    own baseline is taken out before comparing."""
    x = signal[:6].astype(float)
    shown = np.isfinite(x)
    offsets = _offsets(x, shown)
    centred = x - offsets
    # per sample, the four leads that agree best (two misread leads are outvoted)
    best_fit = np.full((x.shape[1], 2), np.nan)
    best_spread = np.full(x.shape[1], np.inf)
    for keep in itertools.combinations(range(6), 4):
        use = np.zeros_like(shown)
        use[list(keep)] = shown[list(keep)]
        fit, spread = _fit(centred, use)
        full = use.sum(axis=0) == 4
        better = full & (spread < best_spread)
        best_fit[better], best_spread[better] = fit[better], spread[better]
    guesses = LIMB_BASIS @ best_fit.T
    agree = best_spread < AGREE_MV
    bad = shown & agree & (np.abs(centred - guesses) > TOLERANCE_MV)
    misread = binary_dilation(bad, np.ones((1, 2 * WIDEN + 1), bool)) & shown
    fixed = misread & np.isfinite(guesses)
    out = signal.copy()
    out[:6][fixed] = (guesses + offsets)[fixed]
    return out, int(fixed.sum())


def _shift(x: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """(6, n) with row l moved by ``lags[l]`` samples (each fewer than n): out[l, i] =
    x[l, i + lags[l]], NaN where that falls outside."""
    out = np.full_like(x, np.nan)
    n = x.shape[1]
    for lead, lag in enumerate(lags):
        lo, hi = max(0, -lag), min(n, n - lag)
        out[lead, lo:hi] = x[lead, lo + lag : hi + lag]
    return out


def _fit_moved(x: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The leads ``x`` (6, n) moved by ``lags``, and their joint least-squares reading on
    that common time (6, n; NaN where fewer than three are shown)."""
    moved = _shift(x, lags)
    fit, _ = _fit(moved, np.isfinite(moved))
    return moved, LIMB_BASIS @ fit.T


def _misfit(x: np.ndarray, lags: np.ndarray) -> float:
    """Mean squared residual of the leads ``x`` (6, n) moved by ``lags``, fitted jointly."""
    moved, joint = _fit_moved(x, lags)
    resid = np.where(np.isfinite(moved), moved - joint, np.nan)
    return float(np.nanmean(resid**2)) if np.isfinite(resid).any() else np.inf


def _lags(x: np.ndarray) -> np.ndarray:
    """Per limb lead of ``x`` (6, n, centred), the shift in samples (within ``MAX_LAG``)
    that fits it best to the others, the lead shown longest held still: the rows of a
    photo can be read shifted in time against each other (a slant the rectification
    left), and a joint fit of shifted leads smears every steep stroke."""
    counts = np.isfinite(x).sum(axis=1)
    lags = np.zeros(6, int)
    moving = [lead for lead in np.flatnonzero(counts) if lead != np.argmax(counts)]
    for _ in range(2):
        for lead in moving:
            tries = []
            for lag in range(-MAX_LAG, MAX_LAG + 1):
                lags[lead] = lag
                tries.append(_misfit(x, lags))
            lags[lead] = int(np.argmin(tries)) - MAX_LAG
    return lags


def project_limb_leads(signal: np.ndarray) -> np.ndarray:
    """``signal`` (12, n) mV with every sample of the limb leads where the print shows
    ``SHOWN_TOGETHER`` or more of them read as the least-squares fit of all those shown
    to the two signals they hold: each lead's own reading errors (a pixel step, a pen
    edge, a peak cut where a stroke crosses) are averaged with the others' (two to five).
    Each lead's baseline and timing are kept: over each stretch so shown, the leads are
    first brought onto one time (:func:`_lags`), fitted, and moved back; a stretch shorter
    than ``MIN_ALIGNED`` samples holds too little to time a lead by, and is fitted as read."""
    x = signal[:6].astype(float)
    shown = np.isfinite(x)
    offsets = _offsets(x, shown)
    centred = x - offsets
    together = np.r_[False, shown.sum(axis=0) >= SHOWN_TOGETHER, False]
    edges = np.flatnonzero(np.diff(together.astype(int)))
    out = signal.copy()
    for a, b in zip(edges[::2], edges[1::2]):
        part = centred[:, a:b]
        lags = _lags(part) if b - a >= MIN_ALIGNED else np.zeros(6, int)
        _, joint = _fit_moved(part, lags)
        joint = _shift(joint, -lags) + offsets
        put = shown[:, a:b] & np.isfinite(joint)
        out[:6, a:b][put] = joint[put]
    return out
