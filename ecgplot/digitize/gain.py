"""Stage 4, the gain: millimetres per millivolt from the 1 mV calibration pulses left
of the rows, or the one given, or the standard 10."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from .page import Page

STANDARD_GAINS = (2.5, 5.0, 10.0, 20.0)  # mm/mV a cart prints at
DEFAULT_MM_PER_MV = 10.0


def calibration_gain(page: Page, starts: list[float]) -> float | None:
    """mm per mV from the 1 mV calibration pulses left of the trace (each row's trace
    starts at ``starts``): in each row, the piece of ink there that stands on (or is
    centred on) the row's baseline and is at least 2 mm wide (0.2 s is 5 mm); the
    median height over the rows that have one, snapped to the nearest standard gain.
    None without pulses."""
    mask, line_px = page.mask, page.line_px
    px_per_mm_x, px_per_mm_y = page.px_per_mm
    heights = []
    for (lo, hi), y, x0 in zip(page.bands, page.baselines, starts):
        a, b = int(max(0, x0 - 15 * px_per_mm_x)), int(max(0, x0 - 0.3 * px_per_mm_x))
        region = mask[lo:hi, a:b].astype(np.uint8)
        if region.size == 0:
            continue
        # a thin or faded pulse breaks into pieces: close gaps of up to 1 mm
        k = max(3, int(round(px_per_mm_y)) | 1)
        region = cv2.morphologyEx(region, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
        for top, width, height in stats[
            1:, [cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]
        ]:
            bottom = lo + top + height
            tall = height >= 2 * px_per_mm_y
            # carts stand the pulse on the baseline; some programs centre it on it
            near = min(abs(bottom - y), abs(bottom - height / 2 - y))
            if tall and width >= 2 * px_per_mm_x and near <= 1.5 * px_per_mm_y + line_px:
                heights.append((height - line_px) / px_per_mm_y)
    if not heights:
        return None
    mm = float(np.median(heights))
    best = min(STANDARD_GAINS, key=lambda g: abs(np.log(mm / g)) if mm > 0 else np.inf)
    return best if mm > 0 and abs(mm / best - 1) < 0.2 else None


def read_gain(page: Page, mm_per_mv: float | None) -> Page:
    """The page with its gain: the calibration pulses', else ``mm_per_mv``, else 10."""
    starts = [min(o) for o in page.origins]  # where each row's first panel begins
    gain = calibration_gain(page, starts)
    source = "calibration pulse" if gain else "assumed"
    return replace(page, mm_per_mv=gain or mm_per_mv or DEFAULT_MM_PER_MV, gain_source=source)
