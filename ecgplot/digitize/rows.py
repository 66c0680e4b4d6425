"""Stage 2, the rows: the trace rows' baselines and bands, the line width, and each
row's clock (the x of t = 0) from where its trace ends."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..aiwin import FS
from ..prints import SECONDS
from .page import MM_PER_S, Page
from .trace import column_runs, line_width

MIN_ROW_MM = 8.0  # closest baselines a print has (12x1 prints: ~15 mm)
MIN_COVERAGE = 0.6  # share of the 10 s a trace row has ink in (text lines have less)
GAP_MM = 1.5  # ink-free columns near the baseline that part two panels printed apart
ROW_END_MM = 3.0  # a row ending this far from the others may have its own clock
MAX_12X1_PITCH_MM = 20.0  # rows closer than this are a 12x1 print's (3x4, 6x2: 25 mm up)
DOUBLE_GAP = 0.15  # two rows stand twice the pitch apart, within this share of the pitch


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


def fill_wandered_rows(baselines: np.ndarray, px_per_mm: float) -> np.ndarray:
    """``baselines`` with a row put back midway between two rows that stand twice the
    pitch apart in a 12x1 print (fewer than 12 found, rows closer than only 12x1 prints
    have them): a trace that wandered off its row (an electrode coming loose, a slow
    drift of 2 mV) leaves its baseline without the ink that marks a row. Rows of other
    prints, or uneven gaps, are left as they are."""
    if not 3 <= len(baselines) < 12:
        return baselines
    gaps = np.diff(baselines)
    pitch = float(np.median(gaps))
    if pitch > MAX_12X1_PITCH_MM * px_per_mm:
        return baselines
    double = np.flatnonzero(np.abs(gaps / pitch - 2) < DOUBLE_GAP)[: 12 - len(baselines)]
    extra = np.round(baselines[double] + gaps[double] / 2).astype(baselines.dtype)
    return np.sort(np.concatenate([baselines, extra]))


def _row_clocks(
    mask: np.ndarray,
    bands: list[tuple[int, int]],
    baselines: np.ndarray,
    px_per_mm: float,
    line_px: float,
) -> tuple[list[float], list[list[tuple[int, int]]], float]:
    """Each row's x (px) of t = 0, its stretches of trace and the last trace column.
    Rows end together in most prints, so their median end is 10 s; a row that ends
    elsewhere but is itself 10 s long (a rhythm strip under panels printed apart) keeps
    its own end."""
    px_per_s = MM_PER_S * px_per_mm
    gaps = np.diff(baselines)
    quarter = (float(np.median(gaps)) if len(gaps) else mask.shape[0] / 4) / 4
    cores = [mask[max(0, int(y - quarter)) : int(y + quarter) + 1] for y in baselines]
    pieces = [row_pieces(core, px_per_mm, 25.0) for core in cores]
    # halfway to the neighbours: a longer neighbour row's deflections do not end this row
    halves = [
        mask[(a + int(y)) // 2 : (int(y) + b) // 2 + 1] for (a, b), y in zip(bands, baselines)
    ]
    # the pen's cap ends half a line past the last sample; the column the cap only
    # partly covers is not ink, so the ink ends half a pixel short on average (without
    # the half pixel, cart prints were read 1-2 samples late at 150-200 dpi)
    ends = [trace_end(half.any(axis=0), px_per_mm) - line_px / 2 + 0.5 for half in halves]
    common = float(np.median(ends))
    x0s = []
    for end, row in zip(ends, pieces):
        span = (row[-1][1] - row[0][0]) / (SECONDS * px_per_s) if row else 0.0
        own = abs(end - common) > ROW_END_MM * px_per_mm and abs(span - 1) < 0.04
        x0s.append((end if own else common) - (SECONDS - 1.0 / FS) * px_per_s)
    return x0s, pieces, max(ends)


def find_trace_rows(page: Page) -> Page:
    """The page with its rows: baselines, bands, line width, clocks and stretches of
    trace; refused without rows, or with rows too long for 10 s at 25 mm/s."""
    (px_x, px_y), (lo, _) = page.px_per_mm, page.ink_cols
    baselines = find_rows(page.mask, px_y, *page.ink_cols)
    if len(baselines) == 0:
        raise page.fail("no rows of trace found")
    baselines = fill_wandered_rows(baselines, px_y)
    bands = row_bands(baselines.astype(float), page.mask.shape[0])
    line_px = line_width(column_runs(page.mask[bands[0][0] : bands[0][1]]))
    x0s, pieces, x_end = _row_clocks(page.mask, bands, baselines, px_x, line_px)
    if min(x0s) < -2 * px_x:
        raise page.fail(
            f"the trace rows are {(x_end - lo) / px_x:.0f} mm long, not 10 s at 25 mm/s"
        )
    return replace(
        page,
        baselines=baselines,
        bands=bands,
        line_px=line_px,
        x0s=x0s,
        pieces=pieces,
        x_end=x_end,
    )
