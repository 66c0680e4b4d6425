"""Which way up a picture of a print is (0, 90, 180 or 270 degrees), from the print
itself: its trace rows run along the longer extent of the trace ink (10 s at 25 mm/s is
wider than the rows are tall), and of the readings that way round, upright and upside
down, the upright one is the one whose limb leads obey Einthoven's law (III = II - I,
aVR + aVL + aVF = 0: six leads in a plane of two), which an upside-down reading, with
its leads read in each other's places and backwards in time, does not."""

from __future__ import annotations

import cv2
import numpy as np

from .grid import separate

WORK_PX = 1000  # the ink's extent is measured on a copy this long
CLEAR_AXIS = 1.15  # the rows' axis is told when the ink is this much wider than tall
# (I, II) -> I, II, III, aVR, aVL, aVF
LIMB_PLANE = np.array([[1, 0], [0, 1], [-1, 1], [-0.5, -0.5], [1, -0.5], [-0.5, 1]])
MIN_SPAN = 250  # samples (0.5 s) of three or more limb leads shown together
CLEAR_MISFIT = 0.1  # a reading whose limb leads fit this well is upright
MISFIT_RATIO = 1.5  # otherwise the better reading must fit this much better


def turn_order(rgb: np.ndarray) -> list[int]:
    """Quarter turns (counter-clockwise, as ``np.rot90``) to try, most likely first: the
    one that lays the ink's longer extent across, then its upside-down; where the ink
    is about as tall as wide, the other two as well."""
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_PX / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), cv2.INTER_AREA)
    mask = separate(small).mask
    extent = []
    for axis in (0, 1):  # columns (across), rows (down)
        at = np.flatnonzero(mask.any(axis=axis))
        extent.append(float(np.subtract(*np.percentile(at, [99, 1]))) if len(at) > 1 else 0.0)
    across, down = extent
    first = 0 if across >= down else 1
    turns = [first, first + 2]
    if max(across, down) < CLEAR_AXIS * min(across, down):
        turns += [1 - first, 3 - first]
    return turns


def limb_misfit(signal: np.ndarray) -> float:
    """Share of the limb leads' variance off the plane Einthoven's law allows, over the
    stretches (0.5 s or longer) where three or more limb leads are shown together; NaN
    where there is none. Where five or more are shown everywhere (6x2, 12x1 prints), the
    lead whose leaving out fits best is left out (one lead read badly does not hide a
    print's way up). About 0.01
    for a good reading of an upright print, 0.2-0.9 for an upside-down one."""
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


def upright_choice(misfits: dict[int, float], first: int) -> tuple[int, str] | None:
    """(quarter turn, why) of the upright reading among the readings' limb misfits (by
    turn; NaN: a reading that cannot tell), or None when they do not tell it. The best
    must fit clearly, or clearly better than the next; the only reading stands when it
    is the picture's own way up (``first``)."""
    told = sorted((m, k) for k, m in misfits.items() if np.isfinite(m))
    if told:
        best, turn = told[0]
        if best <= CLEAR_MISFIT or (len(told) > 1 and told[1][0] >= MISFIT_RATIO * best):
            return turn, "limb leads"
    if list(misfits) == [first]:
        return first, "only reading"
    return None
