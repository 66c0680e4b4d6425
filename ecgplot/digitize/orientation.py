"""Which way up a picture of a print is (0, 90, 180 or 270 degrees), from the print
itself. Its trace rows run across where the ink's profile down the picture peaks at the
rows' baselines. Of the readings that way round, upright and upside down, the upright
one is the one whose limb leads obey Einthoven's law (III = II - I, aVR + aVL + aVF = 0:
six leads in a plane of two), which an upside-down reading, with its leads read in each
other's places and backwards in time, does not; where the law does not tell them apart
(limb leads read badly), the one that found calibration pulses left of its rows, or the
one whose beats run forward in time (each QRS complex followed by its T wave) where the
other's run backwards."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..aiwin import FS
from ..signal import bandpass
from .grid import separate

WORK_PX = 1000  # the ink's profiles are measured on a copy this long
PROFILE_SIGMA = 3.0  # px of that copy
# (I, II) -> I, II, III, aVR, aVL, aVF
LIMB_PLANE = np.array([[1, 0], [0, 1], [-1, 1], [-0.5, -0.5], [1, -0.5], [-0.5, 1]])
MIN_SPAN = 250  # samples (0.5 s) of three or more limb leads shown together
CLEAR_MISFIT = 0.1  # a reading whose limb leads fit this well is upright
MISFIT_RATIO = 1.5  # otherwise the better reading must fit this much better
QRS_SMOOTH_S = 0.01  # the slope is smoothed over this
QRS_HEIGHT = 0.35  # a QRS complex's slope reaches this share of the steepest 1%
QRS_APART_S = 0.25  # complexes are at least this far apart
BEAT_GAP_S = 0.12  # the QRS complex: left out either side of the R peak
BEAT_REACH_S = 0.45  # the T wave peaks within this of the R peak (P before it)
CLEAR_ORDER = 10.0  # beat order of a reading clearly forward (or, negated, backward)
MISREAD_MISFIT = 0.5  # limb leads this far off Einthoven's law: misread whichever way up


def _peakiness(profile: np.ndarray) -> float:
    """Coefficient of variation of an ink profile, over the stretch it has ink in."""
    profile = gaussian_filter1d(profile.astype(np.float64), PROFILE_SIGMA)
    inked = np.flatnonzero(profile > 0.05 * profile.max()) if profile.max() > 0 else []
    if len(inked) < 2:
        return 0.0
    profile = profile[inked[0] : inked[-1] + 1]
    return float(profile.std() / profile.mean())


def turn_order(rgb: np.ndarray) -> list[int]:
    """All four quarter turns (counter-clockwise, as ``np.rot90``), most likely first:
    the one that lays the trace rows across (the ink's profile down a print peaks at
    each row's baseline, across it is even), then its upside-down, then the other two
    (a 12x1 print's QRS complexes, all in the same columns, can peak the profile across
    as much)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_PX / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), cv2.INTER_AREA)
    mask = separate(small).mask
    down, across = _peakiness(mask.sum(axis=1)), _peakiness(mask.sum(axis=0))
    first = 0 if down >= across else 1
    return [first, first + 2, 1 - first, 3 - first]


def limb_misfit(signal: np.ndarray) -> float:
    """Share of the limb leads' variance off the plane Einthoven's law allows, over the
    stretches (0.5 s or longer) where three or more limb leads are shown together; NaN
    where there is none. Where five or more are shown everywhere (6x2, 12x1 prints), the
    lead whose leaving out fits best is left out (one lead read badly does not hide a
    print's way up). About 0.01 for a good reading of an upright print, 0.2-0.9 for an
    upside-down one."""
    limb = signal[:6].astype(np.float64)
    shown = np.isfinite(limb)
    change = np.flatnonzero(np.any(shown[:, 1:] != shown[:, :-1], axis=0)) + 1
    spans = []
    for a, b in zip(np.r_[0, change], np.r_[change, limb.shape[1]]):
        leads = np.flatnonzero(shown[:, a])
        if len(leads) >= 3 and b - a >= MIN_SPAN:
            y = limb[leads, a:b]
            spans.append((leads, y - y.mean(axis=1, keepdims=True)))
    if not spans:
        return float("nan")
    seen = set().union(*(set(leads) for leads, _ in spans))
    return min(_misfit(spans, drop) for drop in [None, *sorted(seen)] if _fits(spans, drop))


def _fits(spans: list, drop: int | None) -> bool:
    """Whether every span keeps four leads (two constraints) with ``drop`` left out."""
    return drop is None or all(len(leads) - (drop in leads) >= 4 for leads, _ in spans)


def _misfit(spans: list[tuple[np.ndarray, np.ndarray]], drop: int | None) -> float:
    off = total = 0.0
    for leads, y in spans:
        keep = leads != drop
        plane = LIMB_PLANE[leads[keep]]
        fit, *_ = np.linalg.lstsq(plane, y[keep], rcond=None)
        off += float(np.square(y[keep] - plane @ fit).sum())
        total += float(np.square(y[keep]).sum())
    return off / total if total > 0 else float("nan")


def _qrs_times(filtered: np.ndarray) -> np.ndarray:
    """Sample indices of the QRS complexes of ``filtered`` (12, n; NaN where unprinted):
    peaks of the leads' mean absolute slope, which reads alike forwards and backwards,
    upright and negated (so a page's two readings find the same beats)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns no lead is printed in
        slope = np.nanmean(np.abs(np.diff(filtered, axis=1)), axis=0)
    slope = gaussian_filter1d(np.nan_to_num(slope), QRS_SMOOTH_S * FS)
    height = QRS_HEIGHT * np.percentile(slope, 99)
    return find_peaks(slope, distance=int(QRS_APART_S * FS), height=height)[0]


def beat_order(signal: np.ndarray) -> float:
    """Whether a reading's beats run forward in time: over the leads of ``signal`` (12,
    n at ``FS``, NaN where unprinted), the log ratio of each lead's mean beat's energy
    after its QRS complex (the T wave) to before it (the P wave), summed. An upside-down
    reading of a page reads it backwards in time and negated, and scores about the
    negative. The 627 shared records as a 3x4 print shows them: 88% at ``CLEAR_ORDER``
    or above, read backwards 87% at its negative or below, 2 records clearly the wrong
    way. NaN where fewer than 3 beats are found."""
    shown = np.isfinite(signal)
    filtered = np.where(shown, bandpass(np.where(shown, signal, 0.0), FS, 0.5, 40.0), np.nan)
    peaks = _qrs_times(filtered)
    if len(peaks) < 3:
        return float("nan")
    gap = int(BEAT_GAP_S * FS)
    reach = int(min(BEAT_REACH_S * FS, 0.6 * np.median(np.diff(peaks))))
    peaks = peaks[(peaks >= reach) & (peaks + reach < signal.shape[1])]
    if reach <= gap or not len(peaks):
        return float("nan")
    order = 0.0
    for lead in filtered:
        beats = [lead[p - reach : p + reach + 1] for p in peaks]
        beats = [b for b in beats if np.isfinite(b).all()]
        if beats:
            mean = np.mean(beats, axis=0)
            mean -= np.median(mean)
            tail, head = mean[reach + gap :], mean[: reach - gap + 1]
            order += float(np.log((tail @ tail + 1e-6) / (head @ head + 1e-6)))
    return order


def upright_choice(
    misfits: dict[int, float],
    pulses: dict[int, bool],
    as_given: int = 0,
    orders: dict[int, float] | None = None,
) -> tuple[int, str] | None:
    """(quarter turn, why) of the upright reading, from each reading's limb misfit (by
    turn; NaN: it cannot tell), whether it found calibration pulses and its
    :func:`beat_order`, or None when they do not tell it. The best fit must be clear, or
    clearly better than the next; else the one reading that found pulses; else the one
    reading whose beats run clearly forward where every other's run clearly backward
    (its limb leads not misread beyond ``MISREAD_MISFIT``); the only reading stands when
    it is of the picture as the user gave it (turn ``as_given``) and its beats do not run
    clearly backward (an upside-down picture whose upright reading was refused)."""
    told = sorted((m, k) for k, m in misfits.items() if np.isfinite(m))
    if told:
        best, turn = told[0]
        if best <= CLEAR_MISFIT or (len(told) > 1 and told[1][0] >= MISFIT_RATIO * best):
            return turn, "limb leads"
    with_pulses = [k for k in misfits if pulses.get(k)]
    if len(misfits) > 1 and len(with_pulses) == 1:
        return with_pulses[0], "calibration pulses"
    orders = orders or {}
    readable = [k for k, m in misfits.items() if not m > MISREAD_MISFIT]
    forward = [k for k, v in orders.items() if v >= CLEAR_ORDER and k in readable]
    backward = [k for k, v in orders.items() if v <= -CLEAR_ORDER]
    if len(misfits) > 1 and len(forward) == 1 and len(backward) == len(misfits) - 1:
        return forward[0], "beat order"
    if list(misfits) == [as_given] and not orders.get(as_given, 0.0) <= -CLEAR_ORDER:
        return as_given, "only reading"
    return None
