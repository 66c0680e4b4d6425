"""Stage 1, the scale: the trace ink of an upright picture and the grid's pixels per
millimetre across and down."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..prints import SECONDS
from .grid import bridge_breaks, grid_pitch, separate
from .page import MM_PER_S, Page, unreadable

MIN_INK, MAX_INK = 0.002, 0.3  # share of a print's pixels that are trace ink


def coarse_px_per_mm(mask: np.ndarray) -> float:
    """A first guess of the scale: the trace ink's width (1st-99th percentile of its
    columns) is about 10 s at 25 mm/s plus a calibration pulse."""
    cols = np.flatnonzero(mask.any(axis=0))
    if len(cols) < 2:
        return 0.0
    lo, hi = np.percentile(cols, [1, 99])
    return float(hi - lo) / (SECONDS * MM_PER_S + 8.0)


def measure_scale(upright: np.ndarray, source: str | Path) -> Page:
    """The page's trace ink (breaks down a stroke bridged) and grid pitch: the trace
    must be a print's share of the picture and the grid periodic."""
    ink = separate(upright)
    share = float(ink.mask.mean())
    if not MIN_INK <= share <= MAX_INK:
        raise unreadable(
            source, f"{share:.2%} of it is trace ink (a print has {MIN_INK:.1%}-{MAX_INK:.0%})"
        )
    guess = coarse_px_per_mm(ink.mask)
    if guess < 1.0:
        raise unreadable(source, f"the ink is {guess * 258:.0f} px wide: too small to read")
    px_x = grid_pitch(ink.grid, 1, guess)
    px_y = grid_pitch(ink.grid, 0, px_x or guess)
    if px_x is None:
        raise unreadable(source, "no ECG grid found (no 1 mm / 5 mm periodic lines): scale unknown")
    px_y = px_y or px_x
    mask = bridge_breaks(ink.mask, px_y)
    cols = np.flatnonzero(mask.any(axis=0))
    lo, hi = (int(v) for v in np.percentile(cols, [1, 99]))
    return Page(source, mask, (px_x, px_y), (lo, hi))
