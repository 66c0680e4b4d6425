"""Where the traces of a print are: rows, the 10 s span, pieces of a row printed apart,
column separators, calibration pulses (the layouts themselves: ``ecgplot.prints``)."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..prints import SECONDS, Panel

MIN_ROW_MM = 8.0  # closest baselines a print has (12x1 prints: ~15 mm)
MIN_COVERAGE = 0.6  # share of the 10 s a trace row has ink in (text lines have less)
STROKE_MM = 3.0  # a column separator is a vertical stroke at least this long
STANDARD_GAINS = (2.5, 5.0, 10.0, 20.0)  # mm/mV a cart prints at
GAP_MM = 1.5  # ink-free columns near the baseline that part two panels printed apart
PIECE_FIT = 0.1  # a panel printed apart is its time span wide, within this share


def coarse_px_per_mm(mask: np.ndarray) -> float:
    """A first guess of the scale: the trace ink's width (1st-99th percentile of its
    columns) is about 10 s at 25 mm/s plus a calibration pulse."""
    cols = np.flatnonzero(mask.any(axis=0))
    if len(cols) < 2:
        return 0.0
    lo, hi = np.percentile(cols, [1, 99])
    return float(hi - lo) / (SECONDS * 25.0 + 8.0)


def trace_end(has_ink: np.ndarray, px_per_mm: float) -> int:
    """One past the last column of a row's trace: the last column with ink in at least
    80% of the 2 mm before it (specks of noise or dirt beyond the trace do not count)."""
    w = max(2, int(round(2 * px_per_mm)))
    filled = np.convolve(has_ink.astype(float), np.ones(w) / w, mode="full")[: len(has_ink)]
    ok = np.flatnonzero(filled >= 0.8)
    if len(ok) == 0:
        return 0
    # the dense stretch ends where its last column with ink is
    last = ok[-1]
    inked = np.flatnonzero(has_ink[: last + 1])
    return int(inked[-1]) + 1


def row_pieces(core: np.ndarray, px_per_mm: float, min_mm: float) -> list[tuple[int, int]]:
    """Column stretches [start, end) of a row's trace parted by at least ``GAP_MM`` with
    no ink near the baseline (``core``: the pixel rows around it), as programs that
    print each panel apart draw them; stretches under ``min_mm`` (a calibration pulse,
    a speck) are left out. A print whose panels abut gives one stretch a row."""
    has = core.any(axis=0)
    w = max(1, int(round(px_per_mm)))
    dense = np.convolve(has.astype(float), np.ones(w) / w, mode="same") >= 0.5
    cols = np.flatnonzero(dense)
    if len(cols) == 0:
        return []
    breaks = np.flatnonzero(np.diff(cols) > GAP_MM * px_per_mm)
    pieces = []
    for a, b in zip(np.r_[cols[0], cols[breaks + 1]], np.r_[cols[breaks], cols[-1]] + 1):
        inked = np.flatnonzero(has[a:b])  # the stretch's own first and last ink
        if len(inked) == 0:
            continue
        a, b = a + inked[0], a + inked[-1] + 1
        if b - a >= min_mm * px_per_mm:
            pieces.append((int(a), int(b)))
    return pieces


def panel_origins(
    row_panels: list[Panel], pieces: list[tuple[int, int]], x0: float, px_per_s: float
) -> list[float]:
    """x (px) of t = 0 for each panel of a row: the row's ``x0`` where its panels abut,
    or, where the row shows one stretch of trace per panel each as wide as its time
    span, each panel's own, from where its stretch ends."""
    widths = [(p.t1 - p.t0) * px_per_s for p in row_panels]
    apart = len(row_panels) > 1 and len(pieces) == len(row_panels)
    if apart and all(abs((b - a) / w - 1) < PIECE_FIT for (a, b), w in zip(pieces, widths)):
        return [b - p.t1 * px_per_s for (_, b), p in zip(pieces, row_panels)]
    return [x0] * len(row_panels)


def row_bands(baselines: np.ndarray, height: int) -> list[tuple[int, int]]:
    """For each row, the pixel rows from its upper to its lower neighbour's baseline (a
    tall QRS may reach that far); the outer rows get as much room as their neighbour."""
    gaps = np.diff(baselines)
    pitch = float(np.median(gaps)) if len(gaps) else height / 4
    above = np.concatenate([[baselines[0] - pitch], baselines[:-1]])
    below = np.concatenate([baselines[1:], [baselines[-1] + pitch]])
    return [(max(0, int(a)), min(height, int(np.ceil(b)) + 1)) for a, b in zip(above, below)]


def find_rows(mask: np.ndarray, px_per_mm: float, x_lo: int, x_hi: int) -> np.ndarray:
    """Baselines (pixel rows) of the trace rows: peaks of the ink's profile down the
    picture that have ink across most of the 10 s (a header line does not)."""
    profile = gaussian_filter1d(mask[:, x_lo:x_hi].sum(axis=1).astype(float), 0.7 * px_per_mm)
    if profile.max() <= 0:
        return np.zeros(0, int)
    peaks, _ = find_peaks(
        profile, distance=max(2, MIN_ROW_MM * px_per_mm), prominence=0.08 * profile.max()
    )
    if len(peaks) == 0:
        return peaks
    keep = []
    for (a, b), y in zip(row_bands(peaks.astype(float), mask.shape[0]), peaks):
        lo, hi = (a + y) // 2, (y + b) // 2 + 1
        coverage = mask[lo:hi, x_lo:x_hi].any(axis=0).mean()
        keep.append(coverage >= MIN_COVERAGE)
    return peaks[np.array(keep, bool)]


def longest_vertical_run(mask: np.ndarray) -> int:
    """Length of the longest run of ink down any column of ``mask``."""
    if mask.size == 0:
        return 0
    padded = np.pad(mask, ((1, 1), (0, 0))).astype(np.int8)
    d = np.diff(padded, axis=0)
    best = 0
    for c in range(mask.shape[1]):
        starts, ends = np.flatnonzero(d[:, c] == 1), np.flatnonzero(d[:, c] == -1)
        if len(starts):
            best = max(best, int((ends - starts).max()))
    return best


def has_separators(
    mask: np.ndarray, bands: list[tuple[int, int]], x0: float, px_per_s: float, px_per_mm: float
) -> bool:
    """Whether the first three rows have column separators (vertical strokes) at both
    2.5 s and 7.5 s, as a 3x4 print does; a 6x2 print has its lead change at 5 s."""
    half = max(1, int(round(0.6 * px_per_mm)))
    for t in (2.5, 7.5):
        x = int(round(x0 + t * px_per_s))
        hits = sum(
            longest_vertical_run(mask[a:b, x - half : x + half + 1]) >= STROKE_MM * px_per_mm
            for a, b in bands[:3]
        )
        if hits < 2:
            return False
    return True


def calibration_gain(
    mask: np.ndarray,
    bands: list[tuple[int, int]],
    baselines: np.ndarray,
    starts: list[float],
    px_per_mm_x: float,
    px_per_mm_y: float,
    line_px: float,
) -> float | None:
    """mm per mV from the 1 mV calibration pulses left of the trace (each row's trace
    starts at ``starts``): in each row, the piece of ink there that stands on (or is
    centred on) the row's baseline and is at least 2 mm wide (0.2 s is 5 mm); the
    median height over the rows that have one, snapped to the nearest standard gain.
    None without pulses."""
    heights = []
    for (lo, hi), y, x0 in zip(bands, baselines, starts):
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
